import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { recoveryCodesOn } from '../helpers/second-factors.js';
import { SoftwareAuthenticator, type CeremonyOverrides } from '../helpers/software-authenticator.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a long enough password';
/** The portal's address: the passkeys' RP id is its host, their origin its origin. */
const PUBLIC_URL = 'http://portal.test';
const CHECK_PATH = '/login/second-factor';
const SECURITY_PATH = '/account/security';
const CODES_PATH = '/account/security/passkeys/recovery-codes';
const STEP_UP_MS = 5 * 60_000;
/** Failed checks a person may make before checks wait (more than any refusal test below makes). */
const MAX_FAILURES = 6;

let serial = 0;
const fresh = (base: string) => `${base}${(serial += 1)}`;

describe(`passkeys (${testDialect})`, function () {
  this.timeout(60_000);
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal({ PUBLIC_URL, SECOND_FACTOR_REQUIRED: 'true', SECOND_FACTOR_MAX_FAILURES: String(MAX_FAILURES) });
  });
  after(() => portal?.cleanup());

  const passkeysOf = (userId: number) => portal.db.knex('second_factors').where({ user_id: userId, kind: 'passkey' }).orderBy('id');
  const auditsOf = async (username: string, action: string) =>
    (await portal.db.knex('audit_log').where({ action, target: username }).orderBy('id')).map((row: { after_json: string | null }) => JSON.parse(row.after_json ?? 'null') as Record<string, unknown>);
  const tokenOf = async (agent: Agent, path: string) => csrfTokenFrom((await agent.get(path).expect(200)).text);

  async function signedIn(username: string): Promise<Agent> {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, PASSWORD)).status).to.equal(303);
    return agent;
  }

  /** The password accepted, the sign-in waiting for the second factor. */
  async function pending(username: string): Promise<Agent> {
    const agent = supertest.agent(portal.app);
    const response = await logIn(agent, username, PASSWORD);
    expect(response.headers.location).to.equal(CHECK_PATH);
    return agent;
  }

  /** Options asked on Account security, the authenticator's answer sent back: what the page's script does. */
  async function addPasskey(agent: Agent, authenticator: SoftwareAuthenticator, name: string, overrides: CeremonyOverrides & { sentName?: string } = {}) {
    const _csrf = await tokenOf(agent, SECURITY_PATH);
    const given = await agent.post(`${SECURITY_PATH}/passkeys/options`).type('form').send({ _csrf, name });
    expect(given.status, JSON.stringify(given.body)).to.equal(200);
    const credential = JSON.stringify(authenticator.register(given.body.options, overrides));
    return agent.post(`${SECURITY_PATH}/passkeys`).type('form').send({ _csrf, name: overrides.sentName ?? name, credential });
  }

  /** Options asked on the check page, the authenticator's assertion sent back; returns the answer and what was sent. */
  async function usePasskey(agent: Agent, authenticator: SoftwareAuthenticator, overrides: CeremonyOverrides & { keepCounter?: boolean } = {}, returnTo = '/') {
    const _csrf = await tokenOf(agent, `${CHECK_PATH}?returnTo=${encodeURIComponent(returnTo)}`);
    const given = await agent.post(`${CHECK_PATH}/passkey/options`).type('form').send({ _csrf });
    expect(given.status, JSON.stringify(given.body)).to.equal(200);
    const credential = JSON.stringify(authenticator.assert(given.body.options, overrides));
    const answer = await agent.post(`${CHECK_PATH}/passkey`).type('form').send({ _csrf, credential, returnTo });
    return { answer, credential, _csrf };
  }

  /** A fresh admin with a first passkey, added in a session of their own (which counts as checked). */
  async function adminWithPasskey(name = 'Ordinateur du bureau') {
    const username = fresh('admin');
    const user = await portal.addUser(username, PASSWORD, { role: 'admin' });
    const agent = await signedIn(username);
    const authenticator = new SoftwareAuthenticator(PUBLIC_URL);
    const added = await addPasskey(agent, authenticator, name);
    expect(added.status, JSON.stringify(added.body)).to.equal(200);
    expect(added.body).to.deep.equal({ location: CODES_PATH });
    return { username, user, agent, authenticator };
  }

  /** A refused check: a 4xx with a message, nobody signed in, the counter untouched, a failure audited. */
  async function expectRefusedSignIn(username: string, agent: Agent, answer: supertest.Response, successesBefore = 0) {
    expect(answer.status).to.equal(401);
    expect(answer.body.error).to.be.a('string').and.not.equal('');
    expect(answer.body).to.not.have.property('location');
    expect((await agent.get('/account')).status, 'still nobody signed in').to.equal(303);
    expect(await auditsOf(username, 'second_factor.failure')).to.deep.include({ method: 'passkey' });
    expect(await auditsOf(username, 'second_factor.success')).to.have.length(successesBefore);
  }

  it('adds a first passkey with its recovery codes shown once, then signs in with it as the second step', async () => {
    const { username, user, agent, authenticator } = await adminWithPasskey();
    const shown = await agent.get(CODES_PATH).expect(200);
    expect(recoveryCodesOn(shown.text)).to.have.length(10);
    expect((await agent.get(CODES_PATH)).headers.location, 'shown once').to.equal(SECURITY_PATH);
    const [stored] = await passkeysOf(user.id);
    expect(stored).to.include({ name: 'Ordinateur du bureau', credential_id: authenticator.credentialId, transports: 'internal' });
    expect(Number(stored.sign_count)).to.equal(0);
    expect(await auditsOf(username, 'second_factor.enrol')).to.deep.equal([{ kind: 'passkey', name: 'Ordinateur du bureau' }]);
    // The page lists it, and the check page offers it.
    expect((await agent.get(SECURITY_PATH).expect(200)).text).to.contain('Ordinateur du bureau');

    const browser = await pending(username);
    expect((await browser.get(CHECK_PATH).expect(200)).text).to.contain('data-passkey-check');
    const { answer } = await usePasskey(browser, authenticator);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body).to.deep.equal({ location: '/account' });
    await browser.get('/admin').expect(200);
    expect(await auditsOf(username, 'second_factor.success')).to.deep.equal([{ method: 'passkey', factor: 'Ordinateur du bureau' }]);
    const [used] = await passkeysOf(user.id);
    expect(Number(used.sign_count)).to.equal(1);
    expect(used.last_used_at).to.not.equal(null);
  });

  it('asks a passkey again before a guarded action (step-up), and adds a second one only after it', async () => {
    const { username, user, agent, authenticator } = await adminWithPasskey();
    portal.clock.advance(STEP_UP_MS + 60_000);
    const _csrf = await tokenOf(agent, SECURITY_PATH);
    const from = (request: supertest.Test) => request.set('Host', 'portal.test').set('Referer', `${PUBLIC_URL}${SECURITY_PATH}`);
    // Past the window: options say where to check first, and the answer itself is guarded.
    const options = await agent.post(`${SECURITY_PATH}/passkeys/options`).type('form').send({ _csrf, name: 'Clé bleue' }).expect(200);
    expect(options.body).to.deep.equal({ location: `${CHECK_PATH}?reason=step-up&returnTo=${encodeURIComponent(SECURITY_PATH)}` });
    const guarded = await from(agent.post(`${SECURITY_PATH}/passkeys`)).type('form').send({ _csrf, name: 'Clé bleue', credential: '{}' });
    expect(guarded.status).to.equal(303);
    expect(guarded.headers.location).to.equal(`${CHECK_PATH}?reason=step-up&returnTo=${encodeURIComponent(SECURITY_PATH)}`);

    const { answer } = await usePasskey(agent, authenticator, {}, SECURITY_PATH);
    expect(answer.body).to.deep.equal({ location: SECURITY_PATH });
    const second = await addPasskey(agent, new SoftwareAuthenticator(PUBLIC_URL), 'Clé bleue');
    expect(second.body, 'no new recovery codes after the first factor').to.deep.equal({ location: SECURITY_PATH });
    expect((await passkeysOf(user.id)).map((row: { name: string }) => row.name)).to.deep.equal(['Ordinateur du bureau', 'Clé bleue']);
    expect(await auditsOf(username, 'second_factor.success')).to.have.length(1);
  });

  it("serves the browser half of the library, cached as the theme's assets are", async () => {
    const script = await supertest(portal.app).get('/assets/vendor/simplewebauthn-browser.js').expect(200);
    expect(script.headers['content-type']).to.match(/javascript/);
    expect(script.headers['cache-control']).to.equal('public, max-age=3600');
    expect(script.text).to.contain('SimpleWebAuthnBrowser');
  });

  describe('refuses', () => {
    it("an assertion made on another site's page (wrong origin)", async () => {
      const { username, user, authenticator } = await adminWithPasskey();
      const browser = await pending(username);
      const { answer } = await usePasskey(browser, authenticator, { origin: 'https://portal.test.evil.example' });
      await expectRefusedSignIn(username, browser, answer);
      expect(Number((await passkeysOf(user.id))[0].sign_count)).to.equal(0);
    });

    it('an assertion for another relying party (wrong RP id)', async () => {
      const { username, authenticator } = await adminWithPasskey();
      const browser = await pending(username);
      const { answer } = await usePasskey(browser, authenticator, { rpId: 'evil.example' });
      await expectRefusedSignIn(username, browser, answer);
    });

    it("a cloned authenticator's counter, not above the one last seen", async () => {
      const { username, user, authenticator } = await adminWithPasskey();
      const first = await pending(username);
      expect((await usePasskey(first, authenticator)).answer.status).to.equal(200);
      // The clone was copied before that sign-in: it still counts 1, as the original did then.
      const clone = Object.assign(Object.create(Object.getPrototypeOf(authenticator) as object) as SoftwareAuthenticator, authenticator, { counter: 0 });
      const browser = await pending(username);
      const { answer } = await usePasskey(browser, clone);
      expect(answer.status).to.equal(401);
      expect((await browser.get('/account')).status).to.equal(303);
      expect(await auditsOf(username, 'second_factor.failure')).to.deep.equal([{ method: 'passkey' }]);
      expect(Number((await passkeysOf(user.id))[0].sign_count), 'the counter stays where the original left it').to.equal(1);
      // The same counter again is refused too; the original, moving on, is still accepted.
      expect((await usePasskey(browser, authenticator, { keepCounter: true })).answer.status).to.equal(401);
      expect((await usePasskey(browser, authenticator)).answer.status).to.equal(200);
    });

    it('an assertion sent again, for its own challenge or a new one', async () => {
      const { username, authenticator } = await adminWithPasskey();
      // An authenticator that keeps no counter (0 each time, as synced passkeys do): only the challenge stops a replay.
      const browser = await pending(username);
      const { answer, credential } = await usePasskey(browser, authenticator, { keepCounter: true });
      expect(answer.status).to.equal(200);
      const again = await pending(username);
      const replayed = await again.post(`${CHECK_PATH}/passkey`).type('form').send({ _csrf: await tokenOf(again, CHECK_PATH), credential, returnTo: '/' });
      await expectRefusedSignIn(username, again, replayed, 1);
      const newChallengeToken = await tokenOf(again, CHECK_PATH);
      await again.post(`${CHECK_PATH}/passkey/options`).type('form').send({ _csrf: newChallengeToken }).expect(200);
      expect((await again.post(`${CHECK_PATH}/passkey`).type('form').send({ _csrf: newChallengeToken, credential, returnTo: '/' })).status).to.equal(401);
      // In the session that used it, once signed in (a step-up): its challenge is gone.
      const signedInToken = await tokenOf(browser, '/account');
      expect((await browser.post(`${CHECK_PATH}/passkey`).type('form').send({ _csrf: signedInToken, credential, returnTo: '/' })).status).to.equal(401);
      expect(await auditsOf(username, 'second_factor.success')).to.have.length(1);
    });

    it('an expired challenge', async () => {
      const { username, authenticator } = await adminWithPasskey();
      const browser = await pending(username);
      const _csrf = await tokenOf(browser, CHECK_PATH);
      const given = await browser.post(`${CHECK_PATH}/passkey/options`).type('form').send({ _csrf }).expect(200);
      portal.clock.advance(5 * 60_000 + 1_000);
      const answer = await browser.post(`${CHECK_PATH}/passkey`).type('form').send({ _csrf, credential: JSON.stringify(authenticator.assert(given.body.options)), returnTo: '/' });
      await expectRefusedSignIn(username, browser, answer);
    });

    it('a passkey the person never added (unknown credential)', async () => {
      const { username } = await adminWithPasskey();
      const browser = await pending(username);
      const { answer } = await usePasskey(browser, new SoftwareAuthenticator(PUBLIC_URL));
      await expectRefusedSignIn(username, browser, answer);
    });

    it("another person's passkey", async () => {
      const other = await adminWithPasskey();
      const { username } = await adminWithPasskey();
      const browser = await pending(username);
      const { answer } = await usePasskey(browser, other.authenticator);
      await expectRefusedSignIn(username, browser, answer);
    });

    it('a name already taken, before and after the ceremony', async () => {
      const { user, agent } = await adminWithPasskey('Clé bleue');
      const _csrf = await tokenOf(agent, SECURITY_PATH);
      const asked = await agent.post(`${SECURITY_PATH}/passkeys/options`).type('form').send({ _csrf, name: ' Clé   bleue ' });
      expect(asked.status).to.equal(409);
      expect(asked.body.error).to.be.a('string').and.not.equal('');
      const sent = await addPasskey(agent, new SoftwareAuthenticator(PUBLIC_URL), 'Clé verte', { sentName: 'Clé bleue' });
      expect(sent.status).to.equal(409);
      const unnamed = await addPasskey(agent, new SoftwareAuthenticator(PUBLIC_URL), 'Clé verte', { sentName: '   ' });
      expect(unnamed.status).to.equal(400);
      expect(await passkeysOf(user.id)).to.have.length(1);
    });

    it('a new passkey made on another site, for another RP id, or for no challenge', async () => {
      const { username, user, agent } = await adminWithPasskey();
      for (const overrides of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { challenge: 'bm90LXRoZS1jaGFsbGVuZ2U' }]) {
        const answer = await addPasskey(agent, new SoftwareAuthenticator(PUBLIC_URL), 'Clé verte', overrides);
        expect(answer.status, JSON.stringify(overrides)).to.equal(400);
        expect(answer.body.error).to.be.a('string').and.not.equal('');
      }
      const _csrf = await tokenOf(agent, SECURITY_PATH);
      const withoutOptions = await agent.post(`${SECURITY_PATH}/passkeys`).type('form').send({ _csrf, name: 'Clé verte', credential: JSON.stringify(new SoftwareAuthenticator(PUBLIC_URL).register({ challenge: 'AAAA', rp: {} })) });
      expect(withoutOptions.status).to.equal(400);
      expect(await passkeysOf(user.id)).to.have.length(1);
      expect(await auditsOf(username, 'second_factor.enrol_failure')).to.have.length(4);
    });

    it('never the right passkey, however many wrong answers came first (an assertion cannot be guessed), each failure audited', async () => {
      const { username, authenticator } = await adminWithPasskey();
      const browser = await pending(username);
      for (let failure = 0; failure < MAX_FAILURES + 2; failure += 1) {
        expect((await usePasskey(browser, authenticator, { origin: 'https://evil.example' })).answer.status).to.equal(401);
      }
      const { answer } = await usePasskey(browser, authenticator);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expect(answer.body.location).to.be.a('string');
      expect(await auditsOf(username, 'second_factor.failure')).to.have.length(MAX_FAILURES + 2);
      expect(await auditsOf(username, 'second_factor.success')).to.have.length(1);
    });

    it('a passkey for someone who is neither admin nor IT', async () => {
      const username = fresh('student');
      const user = await portal.addUser(username, PASSWORD);
      const agent = await signedIn(username);
      const _csrf = await tokenOf(agent, '/account');
      const asked = await agent.post(`${SECURITY_PATH}/passkeys/options`).type('form').send({ _csrf, name: 'Clé' });
      expect(asked.status).to.equal(403);
      expect(asked.body.error).to.be.a('string').and.not.equal('');
      const credential = JSON.stringify(new SoftwareAuthenticator(PUBLIC_URL).register({ challenge: 'AAAA', rp: {} }));
      expect((await agent.post(`${SECURITY_PATH}/passkeys`).type('form').send({ _csrf, name: 'Clé', credential })).status).to.equal(403);
      expect(await passkeysOf(user.id)).to.have.length(0);
    });
  });
});
