import { expect } from 'chai';
import supertest from 'supertest';
import { REFEDS_MFA } from '../../src/domain/identity/provider-mfa.js';
import { testDialect } from '../helpers/database.js';
import { OIDC_ACCOUNTS, startOidcServer, type OidcTestServer, type TestAuthn } from '../helpers/identity/oidc-server.js';
import { createTestSamlIdp, PASSWORD_PROTECTED_TRANSPORT, PERSISTENT, type TestSamlIdp } from '../helpers/identity/saml-idp.js';
import { enrolTotp } from '../helpers/second-factors.js';
import { createTestPortal, sessionCookieOf, type TestPortal } from '../helpers/portal.js';

/**
 * Issue 24: an admin signed in through the institution's provider is not asked for a portal factor
 * when the provider says it checked several (OIDC amr/acr in the ID token, SAML AuthnContextClassRef
 * in the signed assertion), and is asked for one otherwise. Real servers: oidc-provider, whose login
 * records the amr and acr given, and a SAML IdP signing the class given. SECOND_FACTOR_REQUIRED is on.
 */
const PUBLIC_URL = 'http://recharge.test';
const AFFILIATION = 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1';
const ENROL = '/account/security?notice=required';

type Agent = ReturnType<typeof supertest.agent>;

const nadia = {
  nameId: { value: 'nadia-persistent', format: PERSISTENT },
  attributes: {
    'urn:oasis:names:tc:SAML:attribute:pairwise-id': ['NADIA-PAIRWISE@univ.example'],
    'urn:oid:1.3.6.1.4.1.5923.1.1.1.6': ['nadia.benali@univ.example'],
    'urn:oid:0.9.2342.19200300.100.1.3': ['nadia.benali@univ.example'],
    'urn:oid:2.16.840.1.113730.3.1.241': ['Nadia Benali'],
    [AFFILIATION]: ['faculty'],
  },
};

describe(`the institution's provider's own MFA (${testDialect}, real OIDC and SAML servers)`, function () {
  this.timeout(60_000);
  let op: OidcTestServer;
  let idp: TestSamlIdp;
  let portal: TestPortal;

  before(async () => {
    [op, idp] = await Promise.all([startOidcServer({ redirectUri: `${PUBLIC_URL}/auth/uni/callback`, postLogoutRedirectUri: `${PUBLIC_URL}/login` }), createTestSamlIdp()]);
  });
  after(() => op?.close());
  // A fresh database each time: whether the admin has a portal factor is part of each case.
  beforeEach(async () => {
    const providers = [
      { id: 'uni', kind: 'oidc', label: 'Université', issuer: op.issuer, clientId: op.clientId, scopes: 'openid profile email groups', roleRules: [{ attribute: 'groups', value: 'print-admins', role: 'admin' }] },
      { id: 'fed', kind: 'saml', label: 'Fédération', entryPoint: idp.ssoUrl, idpIssuer: idp.entityId, idpCertificates: [idp.certificate], roleRules: [{ attribute: AFFILIATION, value: 'faculty', role: 'admin' }] },
    ];
    portal = await createTestPortal({ PUBLIC_URL, IDENTITY_PROVIDERS: JSON.stringify(providers), IDENTITY_UNI_SECRET: op.clientSecret, SECOND_FACTOR_REQUIRED: 'true' });
  });
  afterEach(() => portal?.cleanup());

  const onPortal = (url: string) => {
    const parsed = new URL(url, PUBLIC_URL);
    return `${parsed.pathname}${parsed.search}`;
  };

  /** Jeanne (print-admins: admin) signs in at the OIDC provider, which reports `authn`; the portal's answer. */
  async function throughOidc(agent: Agent, person: keyof typeof OIDC_ACCOUNTS, authn: TestAuthn) {
    const start = await agent.get('/auth/uni');
    expect(start.status, start.text).to.equal(303);
    return agent.get(onPortal((await op.signIn(start.headers.location as string, OIDC_ACCOUNTS[person].sub, authn)).href));
  }

  /** Nadia (faculty: admin) signs in at the SAML IdP, whose assertion names `classRef`; the portal's answer. */
  async function throughSaml(agent: Agent, classRef: string) {
    const start = await agent.get('/auth/fed');
    expect(start.status, start.text).to.equal(303);
    // The IdP's cross-site POST carries none of the portal's cookies.
    const acs = await supertest(portal.app).post('/auth/fed/acs').type('form').send(idp.answer(start.headers.location as string, nadia, { classRef }));
    expect(acs.status, acs.text).to.equal(303);
    return agent.get(onPortal(acs.headers.location as string));
  }

  const providerAudits = async () =>
    (await portal.db.knex('audit_log').where({ action: 'second_factor.provider' }).select('actor_username', 'target', 'after_json')).map((row: { actor_username: string; target: string; after_json: string }) => ({
      actor: row.actor_username,
      target: row.target,
      after: JSON.parse(row.after_json) as unknown,
    }));

  async function expectSignedInTo(response: supertest.Response, agent: Agent, admin: 'reached' | 'enrol') {
    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.equal('/account');
    expect(sessionCookieOf(response)).to.be.a('string');
    const page = await agent.get('/admin');
    if (admin === 'reached') expect(page.status, page.headers.location as string).to.equal(200);
    else expect([page.status, page.headers.location]).to.deep.equal([303, ENROL]);
  }

  /** Jeanne's account, made at a first sign-in with a password only, then given a TOTP app from its security page. */
  async function jeanneWithTotp() {
    const first = supertest.agent(portal.app);
    await expectSignedInTo(await throughOidc(first, 'jeanne', { amr: ['pwd'] }), first, 'enrol');
    await enrolTotp(first, portal.clock.now());
  }

  describe('OpenID Connect', () => {
    it('an admin whose ID token says pwd + otp reaches /admin without a portal factor, and the audit says whose word it took', async () => {
      const agent = supertest.agent(portal.app);
      await expectSignedInTo(await throughOidc(agent, 'jeanne', { amr: ['pwd', 'otp'] }), agent, 'reached');
      expect(await providerAudits()).to.deep.equal([{ actor: 'jdupont', target: 'jdupont', after: { provider: 'uni', amr: ['pwd', 'otp'] } }]);
    });

    it('amr `mfa`, or the REFEDS MFA acr, count as well', async () => {
      for (const authn of [{ amr: ['mfa'] }, { amr: ['pwd'], acr: REFEDS_MFA }]) {
        const agent = supertest.agent(portal.app);
        await expectSignedInTo(await throughOidc(agent, 'jeanne', authn), agent, 'reached');
      }
      expect((await providerAudits()).map(({ after }) => after)).to.deep.equal([
        { provider: 'uni', amr: ['mfa'] },
        { provider: 'uni', amr: ['pwd'], acr: REFEDS_MFA },
      ]);
    });

    it('a password alone (or one factor, or another acr): the admin without a factor is sent to enrol before /admin', async () => {
      for (const authn of [{ amr: ['pwd'] }, { amr: ['otp'] }, { amr: ['pwd'], acr: 'urn:example:password' }, {}]) {
        const agent = supertest.agent(portal.app);
        await expectSignedInTo(await throughOidc(agent, 'jeanne', authn), agent, 'enrol');
      }
      expect(await providerAudits()).to.deep.equal([]);
    });

    it('a password alone: the admin with a TOTP app is sent to the second step, signed in to nothing yet', async () => {
      await jeanneWithTotp();
      const agent = supertest.agent(portal.app);
      const answer = await throughOidc(agent, 'jeanne', { amr: ['pwd'] });
      expect([answer.status, answer.headers.location]).to.deep.equal([303, '/login/second-factor']);
      expect((await agent.get('/account')).headers.location).to.equal('/login');
      // The same admin, with the provider's MFA this time, skips the portal's step.
      const withMfa = supertest.agent(portal.app);
      await expectSignedInTo(await throughOidc(withMfa, 'jeanne', { amr: ['pwd', 'hwk'] }), withMfa, 'reached');
    });

    it("a person who is neither admin nor IT signs in as before, and the provider's MFA is not audited for them", async () => {
      const agent = supertest.agent(portal.app);
      const answer = await throughOidc(agent, 'sam', { amr: ['mfa'] });
      expect([answer.status, answer.headers.location]).to.deep.equal([303, '/account']);
      expect((await agent.get('/admin')).status).to.equal(403);
      expect(await providerAudits()).to.deep.equal([]);
    });
  });

  describe('SAML', () => {
    it('an admin whose assertion names the REFEDS MFA class reaches /admin without a portal factor, and it is audited', async () => {
      const agent = supertest.agent(portal.app);
      await expectSignedInTo(await throughSaml(agent, REFEDS_MFA), agent, 'reached');
      expect(await providerAudits()).to.deep.equal([{ actor: 'nadia.benali@univ.example', target: 'nadia.benali@univ.example', after: { provider: 'fed', classRef: REFEDS_MFA } }]);
    });

    it('PasswordProtectedTransport: sent to enrol without a factor, to the second step with one', async () => {
      const first = supertest.agent(portal.app);
      await expectSignedInTo(await throughSaml(first, PASSWORD_PROTECTED_TRANSPORT), first, 'enrol');
      await enrolTotp(first, portal.clock.now());
      const again = supertest.agent(portal.app);
      const answer = await throughSaml(again, PASSWORD_PROTECTED_TRANSPORT);
      expect([answer.status, answer.headers.location]).to.deep.equal([303, '/login/second-factor']);
      expect(await providerAudits()).to.deep.equal([]);
    });
  });
});
