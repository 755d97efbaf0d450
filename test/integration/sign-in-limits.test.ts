import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import supertest from 'supertest';
import { logIn, createTestPortal, type TestPortal } from '../helpers/portal.js';
import { testDialect } from '../helpers/database.js';

const listening = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

describe(`sign-in answers and limits (${testDialect})`, () => {
  describe('with portal passwords for staff only and the directory down', () => {
    let portal: TestPortal;
    let closedPort: number;

    before(async () => {
      // A port that refused connections a moment ago: the directory is down, at once rather than after a timeout.
      const server = createServer();
      closedPort = await listening(server);
      await new Promise((resolve) => server.close(resolve));
      portal = await createTestPortal({
        LOCAL_PASSWORDS: 'staff',
        IDENTITY_PROVIDERS: JSON.stringify([
          { id: 'annuaire', kind: 'ldap', label: 'Annuaire', url: `ldap://127.0.0.1:${closedPort}`, bindDn: 'cn=recharge,dc=example,dc=org', searchBase: 'dc=example,dc=org', timeoutMs: 1000 },
        ]),
        IDENTITY_ANNUAIRE_SECRET: 'service-account-password',
      });
      await portal.addUser('gestion', 'the admin password', { role: 'admin' });
      await portal.addUser('lecteur', 'a user password long enough', { role: 'user' });
    });
    after(() => portal.cleanup());

    it('answers a wrong password alike for an admin, a person with a portal password and nobody, with one password check each', async () => {
      const answers: Array<{ status: number; checks: number }> = [];
      for (const [username, password] of [
        ['gestion', 'not the admin password'],
        ['lecteur', 'a user password long enough'],
        ['personne', 'whatever it is'],
      ]) {
        const before = portal.hasher.verifications;
        const response = await logIn(supertest.agent(portal.app), username as string, password as string);
        answers.push({ status: response.status, checks: portal.hasher.verifications - before });
      }
      expect(answers).to.deep.equal([
        { status: 503, checks: 1 },
        { status: 503, checks: 1 },
        { status: 503, checks: 1 },
      ]);
    });

    it('still lets an admin in with the portal password while the directory is down', async () => {
      const response = await logIn(supertest.agent(portal.app), 'gestion', 'the admin password');
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal('/account');
    });

    it('takes a full-width look-alike for the username it folds to, as directories do', async () => {
      const response = await logIn(supertest.agent(portal.app), 'ｇｅｓｔｉｏｎ', 'the admin password');
      expect(response.status).to.equal(303);
    });
  });

  describe('an admin account locked while the directory is down', () => {
    let portal: TestPortal;
    before(async () => {
      const server = createServer();
      const closedPort = await listening(server);
      await new Promise((resolve) => server.close(resolve));
      portal = await createTestPortal({
        LOCAL_PASSWORDS: 'staff',
        TRUST_PROXY: 'loopback',
        LOGIN_PRIVILEGED_MAX_FAILURES: '3',
        LOGIN_SLOWED_INTERVAL_SECONDS: '30',
        IDENTITY_PROVIDERS: JSON.stringify([
          { id: 'annuaire', kind: 'ldap', label: 'Annuaire', url: `ldap://127.0.0.1:${closedPort}`, bindDn: 'cn=recharge,dc=example,dc=org', searchBase: 'dc=example,dc=org', timeoutMs: 1000 },
        ]),
        IDENTITY_ANNUAIRE_SECRET: 'service-account-password',
      });
      await portal.addUser('gestion', 'the admin password', { role: 'admin' });
    });
    after(() => portal.cleanup());

    it('answers the right password as a wrong one once locked, from addresses it was never used from: the outage tells nothing', async () => {
      let address = 0;
      const attempt = async (password: string) => {
        portal.clock.advance(31_000);
        const response = await logIn(supertest.agent(portal.app), 'gestion', password, { 'X-Forwarded-For': `198.51.100.${++address}` });
        return { status: response.status, message: /role="alert"[^>]*>([^<]+)</.exec(response.text)?.[1] };
      };
      for (let failure = 0; failure < 3; failure += 1) await attempt(`wrong ${failure}`);
      const wrong = await attempt('still wrong');
      const right = await attempt('the admin password');
      expect(right).to.deep.equal(wrong);
      expect(right.status).to.not.equal(303);
    });
  });

  describe('per address', () => {
    let portal: TestPortal;
    before(async () => {
      portal = await createTestPortal({
        IDENTITY_PROVIDERS: JSON.stringify([
          { id: 'ent', kind: 'cas', label: 'ENT', serverUrl: 'http://127.0.0.1:9' },
          { id: 'federation', kind: 'saml', label: 'Fédération', entryPoint: 'http://127.0.0.1:9/sso', idpIssuer: 'https://idp.example.edu', idpCertificates: ['MIIB'] },
        ]),
      });
    });
    after(() => portal.cleanup());

    it('limits returns from a provider and SAML answers to 30 a minute, each step on its own', async () => {
      const statuses = async (send: () => supertest.Test) => {
        const seen: number[] = [];
        for (let index = 0; index < 31; index += 1) seen.push((await send()).status);
        return seen;
      };
      const returns = await statuses(() => supertest(portal.app).get('/auth/ent/callback?ticket=ST-made-up'));
      expect(returns.slice(0, 30).every((status) => status === 400)).to.equal(true);
      expect(returns[30]).to.equal(429);
      const answers = await statuses(() => supertest(portal.app).post('/auth/federation/acs').type('form').send({ SAMLResponse: 'bm90IFhNTA==' }));
      expect(answers.slice(0, 30).every((status) => status === 401)).to.equal(true);
      expect(answers[30]).to.equal(429);
      portal.clock.advance(60_000);
      expect((await supertest(portal.app).get('/auth/ent/callback?ticket=ST-made-up')).status).to.equal(400);
    });
  });
});
