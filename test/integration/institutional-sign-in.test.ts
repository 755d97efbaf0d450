import { expect } from 'chai';
import supertest from 'supertest';
import type { Role } from '../../src/domain/people/users.js';
import { startDemoCasServer, type DemoCasPerson, type DemoCasServer } from '../../src/identity/cas/demo-cas-server.js';
import { createTranslations, type Locale } from '../../src/i18n/index.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { OIDC_ACCOUNTS, startOidcServer, type OidcTestServer } from '../helpers/identity/oidc-server.js';
import { createTestSamlIdp, PERSISTENT, type SamlPerson, type TestSamlIdp } from '../helpers/identity/saml-idp.js';
import { cookiesOf, createTestPortal, csrfTokenFrom, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';

/**
 * Institutional sign-in through the whole portal, over HTTP, against real servers: oidc-provider
 * (OpenID Connect), the project's CAS server, and a SAML IdP signing its assertions with its own key.
 * The portal is configured through the environment as a deployment is. Its PUBLIC_URL is a name no
 * request reaches: the providers never call the portal, they only send the browser back to it, and
 * these tests carry the browser's requests to the portal themselves.
 */
const PUBLIC_URL = 'http://recharge.test';
const LOGGED_OUT = `${PUBLIC_URL}/login?notice=logged-out`;
const PASSWORD = 'a portal password long enough';
const MINUTE = 60_000;

const AFFILIATION = 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1';
const PREFERRED_LANGUAGE = 'urn:oid:2.16.840.1.113730.3.1.39';

const CAS_PEOPLE: readonly DemoCasPerson[] = [
  { user: 'lmercier', attributes: { displayName: 'Louise Mercier', mail: 'louise.mercier@ent.example', eduPersonAffiliation: ['staff', 'member'], preferredLanguage: 'en-GB' } },
  { user: 'tgarnier', attributes: { displayName: 'Théo Garnier', mail: 'theo.garnier@ent.example', eduPersonAffiliation: ['student', 'member'], preferredLanguage: 'fr' } },
];

const samlPerson = (eppn: string, displayName: string, affiliations: string[], language: string): SamlPerson => ({
  nameId: { value: `${eppn}-persistent`, format: PERSISTENT },
  attributes: {
    'urn:oasis:names:tc:SAML:attribute:pairwise-id': [`${eppn.split('@')[0]?.toUpperCase()}-PAIRWISE@univ.example`],
    'urn:oid:1.3.6.1.4.1.5923.1.1.1.6': [eppn],
    'urn:oid:0.9.2342.19200300.100.1.3': [eppn],
    'urn:oid:2.16.840.1.113730.3.1.241': [displayName],
    [AFFILIATION]: affiliations,
    [PREFERRED_LANGUAGE]: [language],
  },
});

const SAML_PEOPLE = {
  nadia: samlPerson('nadia.benali@univ.example', 'Nadia Benali', ['faculty', 'member'], 'fr-FR'),
  hugo: samlPerson('hugo.leroy@univ.example', 'Hugo Leroy', ['student'], 'en'),
} as const;

type Agent = ReturnType<typeof supertest.agent>;

/** A protocol as a browser lives it: what the person does at the provider, and where it sends the browser back on the portal. */
interface Protocol {
  id: string;
  atProvider(portal: TestPortal, location: string, person: string): Promise<string>;
}

const translations = createTranslations();
/** A message as EJS writes it into the page. */
const inPage = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
const message = (locale: Locale, key: string, options: Record<string, string> = {}) => inPage(translations(locale)(key, options));

/** The path and query of a URL of the portal, as the browser requests it. */
function onPortal(url: string): string {
  const parsed = new URL(url);
  expect(parsed.origin, url).to.equal(PUBLIC_URL);
  return `${parsed.pathname}${parsed.search}`;
}

describe(`institutional sign-in through the portal (${testDialect}, real OIDC, CAS and SAML servers)`, function () {
  this.timeout(60_000);
  let op: OidcTestServer;
  let cas: DemoCasServer;
  let idp: TestSamlIdp;

  before(async () => {
    [op, cas, idp] = await Promise.all([
      startOidcServer({ redirectUri: `${PUBLIC_URL}/auth/uni/callback`, postLogoutRedirectUri: LOGGED_OUT }),
      startDemoCasServer({ people: CAS_PEOPLE, allowedOrigins: [PUBLIC_URL], translations, defaultLocale: 'fr' }),
      createTestSamlIdp(),
    ]);
  });
  after(async () => {
    await op?.close();
    await cas?.close();
  });

  const oidc: Protocol = {
    id: 'uni',
    atProvider: async (_portal, location, person) => (await op.signIn(location, OIDC_ACCOUNTS[person as keyof typeof OIDC_ACCOUNTS].sub)).href,
  };

  const casProtocol = (id: string): Protocol => ({
    id,
    // The demo server's page: pick the person, post the form; it sends the browser back with a ticket.
    async atProvider(_portal, location, person) {
      expect(location.startsWith(`${cas.url}/login?service=`), location).to.equal(true);
      const page = await fetch(location);
      const html = await page.text();
      const field = (name: string) => (new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '').replace(/&#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code)));
      const chosen = await fetch(new URL('login', location), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: (page.headers.get('set-cookie') ?? '').split(';')[0] as string, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ service: field('service'), token: field('token'), user: person }),
      });
      expect(chosen.status, await chosen.text()).to.equal(303);
      return chosen.headers.get('location') as string;
    },
  });
  const ent = casProtocol('ent');

  /** The IdP's auto-posting form, without the portal's cookies (a cross-site POST); the ACS sends the browser on to the callback. */
  async function postToAcs(portal: TestPortal, body: Record<string, string>) {
    return supertest(portal.app).post('/auth/fed/acs').type('form').send(body);
  }
  const saml: Protocol = {
    id: 'fed',
    async atProvider(portal, location, person) {
      const acs = await postToAcs(portal, idp.answer(location, SAML_PEOPLE[person as keyof typeof SAML_PEOPLE]));
      expect(acs.status, acs.text).to.equal(303);
      return acs.headers.location as string;
    },
  };

  /** Every provider kind the portal redirects to, and a second CAS provider without role rules. */
  const providers = () => [
    { id: 'uni', kind: 'oidc', label: { fr: 'Université Paris Nord', en: 'Paris Nord University' }, issuer: op.issuer, clientId: op.clientId, scopes: 'openid profile email groups', roleRules: [{ attribute: 'groups', value: 'print-admins', role: 'admin' }] },
    { id: 'ent', kind: 'cas', label: { fr: "l'ENT", en: 'the ENT' }, serverUrl: cas.url, roleRules: [{ attribute: 'eduPersonAffiliation', value: 'staff', role: 'it' }] },
    { id: 'ent-open', kind: 'cas', label: 'ENT (open)', serverUrl: cas.url },
    {
      id: 'fed',
      kind: 'saml',
      label: { fr: 'Fédération Renater', en: 'Renater federation' },
      entryPoint: idp.ssoUrl,
      idpIssuer: idp.entityId,
      idpCertificates: [idp.certificate],
      roleRules: [{ attribute: AFFILIATION, value: 'faculty', role: 'admin' }],
    },
  ];

  const startPortal = (env: Record<string, string> = {}) =>
    createTestPortal({ PUBLIC_URL, IDENTITY_PROVIDERS: JSON.stringify(providers()), IDENTITY_UNI_SECRET: op.clientSecret, WELCOME_CREDIT_UNITS: '5', ...env });

  /** Starts a sign-in at `protocol` in `agent`; returns where the provider sends the browser back. */
  async function atProviderFrom(portal: TestPortal, agent: Agent, protocol: Protocol, person: string, query = ''): Promise<string> {
    const start = await agent.get(`/auth/${protocol.id}${query}`);
    expect(start.status, start.text).to.equal(303);
    return protocol.atProvider(portal, start.headers.location as string, person);
  }

  /** The whole round trip in `agent`: the portal's answer to the browser's return from the provider. */
  async function signIn(portal: TestPortal, agent: Agent, protocol: Protocol, person: string, query = '') {
    return agent.get(onPortal(await atProviderFrom(portal, agent, protocol, person, query)));
  }

  async function expectSignedIn(response: supertest.Response, location = '/account') {
    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.equal(location);
    expect(sessionCookieOf(response)).to.be.a('string');
  }

  /** Counts of what a sign-in creates: nothing of it may appear when a sign-in is refused. */
  const footprint = async (portal: TestPortal) => {
    const count = async (table: string) => Number((await portal.db.knex(table).count({ count: '*' }))[0]?.count);
    return { users: await count('users'), identities: await count('user_identities'), signIns: await count('login_sessions') };
  };

  async function expectNothingOpened(portal: TestPortal, agent: Agent, refusal: supertest.Response, before: Awaited<ReturnType<typeof footprint>>) {
    expect(sessionCookieOf(refusal), 'a session cookie').to.equal(undefined);
    const account = await agent.get('/account');
    expect(account.status).to.equal(303);
    expect(account.headers.location).to.equal('/login');
    expect(await footprint(portal)).to.deep.equal(before);
  }

  const userRow = (portal: TestPortal, username: string) => portal.db.knex('users').where({ username }).first('id', 'role', 'display_name', 'email', 'locale', 'disabled');
  const linksOf = (portal: TestPortal, userId: number) => portal.db.knex('user_identities').where({ user_id: userId }).select('provider_id', 'subject', 'linked_by');

  async function logOut(agent: Agent) {
    const page = await agent.get('/account').expect(200);
    const logout = await agent.post('/logout').type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(logout.status).to.equal(303);
    const after = await agent.get('/account');
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.equal('/login');
    return logout.headers.location as string;
  }

  describe('a person signs in, comes back, and signs out', () => {
    let portal: TestPortal;
    before(async () => {
      portal = await startPortal();
    });
    after(() => portal?.cleanup());

    const journeys: Array<{
      name: string;
      protocol: () => Protocol;
      person: string;
      subject: () => string;
      username: string;
      displayName: string;
      email: string;
      role: Role;
      locale: Locale;
      expectLogout: (location: string) => Promise<void>;
    }> = [
      {
        name: 'OpenID Connect',
        protocol: () => oidc,
        person: 'jeanne',
        subject: () => OIDC_ACCOUNTS.jeanne.sub,
        username: 'jdupont',
        displayName: 'Jeanne Dupont',
        email: 'jeanne.dupont@univ.example',
        role: 'admin',
        locale: 'fr',
        // RP-initiated logout: the provider's end_session_endpoint with the ID token it issued, which it accepts.
        async expectLogout(location) {
          const discovery = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as { end_session_endpoint: string };
          const logout = new URL(location);
          expect(`${logout.origin}${logout.pathname}`).to.equal(discovery.end_session_endpoint);
          expect(logout.searchParams.get('post_logout_redirect_uri')).to.equal(LOGGED_OUT);
          const idToken = logout.searchParams.get('id_token_hint') ?? '';
          const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
          expect(claims).to.include({ iss: op.issuer, aud: op.clientId, sub: OIDC_ACCOUNTS.jeanne.sub });
          const page = await fetch(logout, { redirect: 'manual' });
          expect(page.status, await page.text()).to.equal(200);
        },
      },
      {
        name: 'CAS',
        protocol: () => ent,
        person: 'lmercier',
        subject: () => 'lmercier',
        username: 'lmercier',
        displayName: 'Louise Mercier',
        email: 'louise.mercier@ent.example',
        role: 'it',
        locale: 'en',
        async expectLogout(location) {
          expect(location).to.equal(`${cas.url}/logout?service=${encodeURIComponent(LOGGED_OUT)}`);
          expect((await fetch(location)).status).to.equal(200);
        },
      },
      {
        name: 'SAML',
        protocol: () => saml,
        person: 'nadia',
        subject: () => 'NADIA.BENALI-PAIRWISE@univ.example',
        username: 'nadia.benali@univ.example',
        displayName: 'Nadia Benali',
        email: 'nadia.benali@univ.example',
        role: 'admin',
        locale: 'fr',
        // The portal sends no SAML logout request: the person is signed out of the portal only.
        async expectLogout(location) {
          expect(location).to.equal('/login?notice=logged-out');
        },
      },
    ];

    for (const journey of journeys) {
      it(`through ${journey.name}: ${journey.person} lands on the account page with their name, role and language, once, and signs out`, async () => {
        const protocol = journey.protocol();
        // The browser asks for the other language: the provider's answer decides.
        const otherLanguage = journey.locale === 'fr' ? 'en' : 'fr';
        const agent = supertest.agent(portal.app).set('Accept-Language', otherLanguage);
        const first = await signIn(portal, agent, protocol, journey.person);
        await expectSignedIn(first);
        const page = await agent.get('/account').expect(200);
        expect(page.text).to.include(`<html lang="${journey.locale}">`);
        expect(page.text).to.include(`<dd>${inPage(journey.displayName)}</dd>`).and.include(`<dd>${journey.username}</dd>`).and.include(`<dd>${journey.email}</dd>`);
        expect(page.text.includes('href="/admin"'), 'the administration link').to.equal(journey.role === 'admin');
        expect(page.text.includes('href="/it/branding"'), 'the branding link').to.equal(journey.role !== 'user');
        expect(page.text).to.include('data-balance="500"');

        const person = await userRow(portal, journey.username);
        expect(person).to.include({ role: journey.role, display_name: journey.displayName, email: journey.email, locale: journey.locale });
        expect(await linksOf(portal, person.id)).to.deep.equal([{ provider_id: protocol.id, subject: journey.subject(), linked_by: null }]);

        // Again, in another browser: the same account, no second welcome credit.
        const before = await footprint(portal);
        const again = supertest.agent(portal.app);
        await expectSignedIn(await signIn(portal, again, protocol, journey.person));
        expect((await again.get('/account').expect(200)).text).to.include('data-balance="500"');
        expect(await footprint(portal)).to.deep.equal({ ...before, signIns: before.signIns + 1 });
        expect((await portal.ledger.userAccount(person.id)).balance).to.equal(500);
        await expectLedgerConsistent(portal.db);

        await journey.expectLogout(await logOut(agent));
        // The other browser's session is its own: it is still signed in.
        await again.get('/account').expect(200);
      });
    }
  });

  describe('answers the login page, the SAML metadata and the starts', () => {
    let portal: TestPortal;
    before(async () => {
      portal = await startPortal();
    });
    after(() => portal?.cleanup());

    it('lists every provider with its label, in French and in English, carrying a safe returnTo', async () => {
      const french = await supertest(portal.app).get('/login?returnTo=%2Ftopup').expect(200);
      for (const [id, label] of [['uni', 'Université Paris Nord'], ['ent', "l'ENT"], ['ent-open', 'ENT (open)'], ['fed', 'Fédération Renater']]) {
        expect(french.text).to.include(`href="/auth/${id}?returnTo=%2Ftopup">${message('fr', 'signIn.with', { provider: label as string })}</a>`);
      }
      const english = await supertest(portal.app).get('/login').set('Accept-Language', 'en').expect(200);
      for (const [id, label] of [['uni', 'Paris Nord University'], ['ent', 'the ENT'], ['ent-open', 'ENT (open)'], ['fed', 'Renater federation']]) {
        expect(english.text).to.include(`href="/auth/${id}">${message('en', 'signIn.with', { provider: label as string })}</a>`);
      }
      const hostile = await supertest(portal.app).get('/login?returnTo=%2F%2Fevil.example').expect(200);
      expect(hostile.text).to.include('href="/auth/uni">').and.not.match(/href="\/auth\/[^"]*evil/);
    });

    it('serves the SAML service provider metadata as XML, naming its entity id and ACS from PUBLIC_URL', async () => {
      const metadata = await supertest(portal.app).get('/auth/fed/metadata').expect(200);
      expect(metadata.headers['content-type']).to.match(/^application\/samlmetadata\+xml/);
      expect(metadata.text).to.match(/^<\?xml|^<(md:)?EntityDescriptor/);
      expect(metadata.text).to.include(`entityID="${PUBLIC_URL}/auth/fed/metadata"`).and.include(`Location="${PUBLIC_URL}/auth/fed/acs"`);
      await supertest(portal.app).get('/auth/uni/metadata').expect(404);
      await supertest(portal.app).get('/auth/nowhere').expect(404);
    });

    it('marks every sign-in answer no-store: starts, returns, refusals and the ACS', async () => {
      const agent = supertest.agent(portal.app);
      const start = await agent.get('/auth/fed');
      expect(start.status).to.equal(303);
      const acs = await postToAcs(portal, idp.answer(start.headers.location as string, SAML_PEOPLE.hugo));
      const callback = await agent.get(onPortal(acs.headers.location as string));
      const refusedAcs = await postToAcs(portal, { SAMLResponse: 'bm90IGEgcmVzcG9uc2U=' });
      const refusedCallback = await supertest(portal.app).get('/auth/ent/callback?ticket=ST-1-abcdef');
      expect([start, acs, callback, refusedAcs, refusedCallback].map((response) => [response.status, response.headers['cache-control']])).to.deep.equal([
        [303, 'no-store'],
        [303, 'no-store'],
        [303, 'no-store'],
        [401, 'no-store'],
        [400, 'no-store'],
      ]);
      // A refused answer shows the login page with its message and a working form (a CSRF token).
      expect(refusedAcs.text).to.include(message('fr', 'signIn.refused', { provider: 'Fédération Renater' }));
      expect(csrfTokenFrom(refusedAcs.text)).to.be.a('string');
      // The pending sign-in cookie: HttpOnly, SameSite=Lax (it must come back on the provider's top-level redirect), ten minutes.
      const pending = ((start.headers['set-cookie'] as unknown as string[] | undefined) ?? []).find((cookie) => cookie.startsWith('recharge.signin='));
      expect(pending).to.match(/Max-Age=600;/).and.match(/HttpOnly/).and.match(/SameSite=Lax/);
    });

    it('limits the sign-ins one address may start to 30 a minute', async () => {
      portal.clock.advance(MINUTE);
      const starts = [];
      for (let index = 0; index < 30; index += 1) starts.push((await supertest(portal.app).get('/auth/ent')).status);
      expect(starts).to.deep.equal(Array(30).fill(303));
      const refused = await supertest(portal.app).get('/auth/uni');
      expect(refused.status).to.equal(429);
      expect(refused.headers['retry-after']).to.equal('60');
      expect(refused.headers['cache-control']).to.equal('no-store');
      portal.clock.advance(MINUTE);
      expect((await supertest(portal.app).get('/auth/ent')).status).to.equal(303);
    });
  });

  describe('hostile returns create no session and no account', () => {
    let portal: TestPortal;
    before(async () => {
      portal = await startPortal();
    });
    after(() => portal?.cleanup());
    // Sign-ins started add up across tests: each test gets a minute of its own under the start limit.
    beforeEach(() => portal.clock.advance(MINUTE));

    for (const [protocol, person] of [
      [() => oidc, 'sam'],
      [() => ent, 'tgarnier'],
      [() => saml, 'hugo'],
    ] as const) {
      it(`refuses the return from ${person}'s provider in a browser that started no sign-in (login CSRF)`, async () => {
        // The attacker signs in at the provider, and makes the victim's browser bring the answer.
        const back = await atProviderFrom(portal, supertest.agent(portal.app), protocol(), person);
        const victim = supertest.agent(portal.app);
        const before = await footprint(portal);
        const refusal = await victim.get(onPortal(back));
        expect(refusal.status).to.equal(400);
        expect(refusal.text).to.include(message('fr', 'signIn.expired'));
        await expectNothingOpened(portal, victim, refusal, before);
      });
    }

    it('refuses a return when the browser has since started a sign-in at another provider', async () => {
      const agent = supertest.agent(portal.app);
      const back = await atProviderFrom(portal, agent, oidc, 'sam');
      await agent.get('/auth/ent').expect(303);
      const before = await footprint(portal);
      const refusal = await agent.get(onPortal(back));
      expect(refusal.status).to.equal(400);
      expect(refusal.text).to.include(message('fr', 'signIn.expired'));
      await expectNothingOpened(portal, agent, refusal, before);
    });

    for (const [name, tamper] of [
      ['a state of its own', (url: URL) => url.searchParams.set('state', 'another-state-than-the-one-sent')],
      ['no state', (url: URL) => url.searchParams.delete('state')],
    ] as const) {
      it(`refuses an OpenID Connect return carrying ${name}`, async () => {
        const agent = supertest.agent(portal.app);
        const back = new URL(await atProviderFrom(portal, agent, oidc, 'sam'));
        tamper(back);
        const before = await footprint(portal);
        const refusal = await agent.get(onPortal(back.href));
        expect(refusal.status).to.equal(401);
        expect(refusal.text).to.include(message('fr', 'signIn.refused', { provider: 'Université Paris Nord' }));
        await expectNothingOpened(portal, agent, refusal, before);
      });
    }

    it('refuses a CAS ticket brought back a second time, in another browser that started a CAS sign-in', async () => {
      const first = supertest.agent(portal.app);
      const back = await atProviderFrom(portal, first, ent, 'tgarnier');
      await expectSignedIn(await first.get(onPortal(back)));
      const other = supertest.agent(portal.app);
      await other.get('/auth/ent').expect(303);
      const before = await footprint(portal);
      const refusal = await other.get(onPortal(back));
      expect(refusal.status).to.equal(401);
      expect(refusal.text).to.include(message('fr', 'signIn.refused', { provider: "l'ENT" }));
      await expectNothingOpened(portal, other, refusal, before);
    });

    it('refuses a SAML response posted again, and the sealed result brought to another browser', async () => {
      const first = supertest.agent(portal.app);
      const start = await first.get('/auth/fed').expect(303);
      const answer = idp.answer(start.headers.location as string, SAML_PEOPLE.hugo);
      const accepted = await postToAcs(portal, answer);
      expect(accepted.status).to.equal(303);
      await expectSignedIn(await first.get(onPortal(accepted.headers.location as string)));

      const other = supertest.agent(portal.app);
      await other.get('/auth/fed').expect(303);
      const before = await footprint(portal);
      const replayed = await postToAcs(portal, answer);
      expect(replayed.status).to.equal(401);
      expect(replayed.headers.location).to.equal(undefined);
      expect(replayed.text).to.include(message('fr', 'signIn.refused', { provider: 'Fédération Renater' }));
      const broughtAgain = await other.get(onPortal(accepted.headers.location as string));
      expect(broughtAgain.status).to.equal(401);
      await expectNothingOpened(portal, other, broughtAgain, before);
    });

    it('keeps the browser on the portal after sign-in, whatever returnTo says', async () => {
      const hostile = ['//evil.example', 'https://evil.example', '/\\evil.example', '%2F%2Fevil.example', '/\\/evil.example', ' //evil.example'];
      for (const protocol of [oidc, ent, saml]) {
        const person = protocol === oidc ? 'sam' : protocol === ent ? 'tgarnier' : 'hugo';
        for (const returnTo of hostile) {
          const response = await signIn(portal, supertest.agent(portal.app), protocol, person, `?returnTo=${encodeURIComponent(returnTo)}`);
          await expectSignedIn(response, '/account');
        }
        // The same once more, the query written by hand: %2F%2F arrives as //.
        await expectSignedIn(await signIn(portal, supertest.agent(portal.app), protocol, person, '?returnTo=%2F%2Fevil.example'), '/account');
        // A path of the portal is kept.
        await expectSignedIn(await signIn(portal, supertest.agent(portal.app), protocol, person, `?returnTo=${encodeURIComponent('/topup?pack=2')}`), '/topup?pack=2');
      }
    });
  });

  describe("the portal's word over the provider's", () => {
    let portal: TestPortal;
    before(async () => {
      portal = await startPortal();
    });
    after(() => portal?.cleanup());
    beforeEach(() => portal.clock.advance(MINUTE));

    it('keeps a person disabled in the portal out, whatever their provider says', async () => {
      for (const [protocol, person, username] of [
        [oidc, 'jeanne', 'jdupont'],
        [ent, 'lmercier', 'lmercier'],
        [saml, 'nadia', 'nadia.benali@univ.example'],
      ] as const) {
        const agent = supertest.agent(portal.app);
        await expectSignedIn(await signIn(portal, agent, protocol, person));
        await portal.users.setDisabled(username, true);
        // Disabling ended the session opened before.
        expect((await agent.get('/account')).status).to.equal(303);
        const before = await footprint(portal);
        const refusal = await signIn(portal, agent, protocol, person);
        expect(refusal.status, `${protocol.id}: ${refusal.text}`).to.equal(403);
        expect(refusal.text).to.include(message('fr', 'login.disabled'));
        await expectNothingOpened(portal, agent, refusal, before);
      }
    });

    it("refuses a username a portal account already has, until an admin links that account; then signs in on it", async () => {
      const local = await portal.addUser('staylor', PASSWORD, { displayName: 'S. Taylor (local)', email: 'staylor@portal.example' });
      const agent = supertest.agent(portal.app);
      const before = await footprint(portal);
      const refusal = await signIn(portal, agent, oidc, 'sam');
      expect(refusal.status).to.equal(403);
      expect(refusal.text).to.include(message('fr', 'signIn.usernameTaken'));
      await expectNothingOpened(portal, agent, refusal, before);

      await portal.addUser('direction', PASSWORD, { role: 'admin' });
      const admin = supertest.agent(portal.app);
      expect((await logIn(admin, 'direction', PASSWORD)).status).to.equal(303);
      const personPage = await admin.get('/admin/people/staylor').expect(200);
      const linked = await admin.post('/admin/people/staylor/identities').type('form').send({ _csrf: csrfTokenFrom(personPage.text), provider: 'uni', subject: OIDC_ACCOUNTS.sam.sub });
      expect(linked.status, linked.text).to.equal(303);
      expect(linked.headers.location).to.equal('/admin/people/staylor?notice=identityLinked');

      await expectSignedIn(await signIn(portal, agent, oidc, 'sam'));
      const page = await agent.get('/account').expect(200);
      expect(page.text).to.include('<dd>staylor</dd>').and.include('<dd>Sam Taylor</dd>');
      expect(await linksOf(portal, local.id)).to.deep.equal([{ provider_id: 'uni', subject: OIDC_ACCOUNTS.sam.sub, linked_by: 'direction' }]);
      expect((await footprint(portal)).users).to.equal(before.users + 1); // the admin, nobody else
      // Welcome credit is for accounts a sign-in creates.
      expect(page.text).to.include('data-balance="0"');
    });

    it('applies role rules at every sign-in: leaving the group takes the role away', async () => {
      const agent = supertest.agent(portal.app);
      await expectSignedIn(await signIn(portal, agent, saml, 'hugo'));
      expect(await userRow(portal, 'hugo.leroy@univ.example')).to.include({ role: 'user' });
      // Hugo becomes faculty at the IdP, then leaves it.
      const start = await agent.get('/auth/fed').expect(303);
      const acs = await postToAcs(portal, idp.answer(start.headers.location as string, samlPerson('hugo.leroy@univ.example', 'Hugo Leroy', ['faculty'], 'en')));
      await expectSignedIn(await agent.get(onPortal(acs.headers.location as string)));
      expect(await userRow(portal, 'hugo.leroy@univ.example')).to.include({ role: 'admin' });
      await expectSignedIn(await signIn(portal, agent, saml, 'hugo'));
      expect(await userRow(portal, 'hugo.leroy@univ.example')).to.include({ role: 'user' });
      expect((await agent.get('/account').expect(200)).text).not.to.include('href="/admin"');
      const audit = await portal.db.knex('audit_log').where({ target: 'hugo.leroy@univ.example', action: 'person.role' }).orderBy('id').select('actor_username', 'after_json');
      expect(audit.map((row: { actor_username: string }) => row.actor_username)).to.deep.equal(['provider:fed', 'provider:fed']);
    });

    it('without role rules, keeps the role an admin gave in the portal', async () => {
      const agent = supertest.agent(portal.app);
      await expectSignedIn(await signIn(portal, agent, casProtocol('ent-open'), 'tgarnier'));
      expect(await userRow(portal, 'tgarnier')).to.include({ role: 'user' });
      await portal.users.setRole('tgarnier', 'admin');
      await expectSignedIn(await signIn(portal, agent, casProtocol('ent-open'), 'tgarnier'));
      expect(await userRow(portal, 'tgarnier')).to.include({ role: 'admin' });
      expect((await agent.get('/account').expect(200)).text).to.include('href="/admin"');
    });
  });

  describe('with portal passwords for staff only (LOCAL_PASSWORDS=staff)', () => {
    let portal: TestPortal;
    before(async () => {
      portal = await startPortal({ LOCAL_PASSWORDS: 'staff' });
      await portal.addUser('camille', PASSWORD);
      await portal.addUser('direction', PASSWORD, { role: 'admin' });
    });
    after(() => portal?.cleanup());

    it("refuses a user's portal password as a wrong one, and lets an admin in with theirs", async () => {
      const page = await supertest(portal.app).get('/login').expect(200);
      expect(page.text).to.include(message('fr', 'signIn.staffAccess'));
      const user = supertest.agent(portal.app);
      const refused = await logIn(user, 'camille', PASSWORD);
      expect(refused.status).to.equal(401);
      expect(refused.text).to.include(message('fr', 'login.invalid'));
      expect(cookiesOf(refused).filter((cookie) => cookie.startsWith('recharge.sid='))).to.deep.equal([]);
      expect((await user.get('/account')).status).to.equal(303);
      const admin = supertest.agent(portal.app);
      await expectSignedIn(await logIn(admin, 'direction', PASSWORD));
      await admin.get('/admin').expect(200);
    });
  });
});
