import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'chai';
import { signInKeyRepository } from '../../src/db/identity/sign-in-key-repository.js';
import type { ProviderFailure, VerifiedIdentity } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type CasProviderConfig } from '../../src/domain/identity/provider-config.js';
import { createCasProvider } from '../../src/identity/cas/cas-provider.js';
import { startDemoCasServer, type DemoCasPerson, type DemoCasServer } from '../../src/identity/cas/demo-cas-server.js';
import type { PendingState, RedirectIdentityProvider } from '../../src/identity/provider.js';
import { createTranslations } from '../../src/i18n/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const PORTAL = 'http://portal.test';
const SERVICE = `${PORTAL}/auth/ent/callback`;
const PEOPLE: readonly DemoCasPerson[] = [
  { user: 'etudiant', attributes: { displayName: 'Camille Étudiante', mail: 'camille@demo.example', eduPersonAffiliation: ['student', 'member'], preferredLanguage: 'fr' } },
  { user: 'enseignant', attributes: { displayName: 'Alex <Teacher> & "Co"', mail: 'alex@demo.example', eduPersonAffiliation: 'staff', preferredLanguage: 'en' } },
];
const translations = createTranslations();

/** A CAS server whose validation answer each test writes (a forgetful one, a hanging one, a hostile one), counting the requests. */
interface ScriptedCas {
  url: string;
  requests: string[];
  answer: (request: IncomingMessage, response: ServerResponse) => void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startScriptedCas(): Promise<ScriptedCas> {
  const sockets = new Set<Socket>();
  const scripted: ScriptedCas = {
    url: '',
    requests: [],
    answer: (_request, response) => response.writeHead(500).end(),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((request, response) => {
    scripted.requests.push(request.url ?? '');
    scripted.answer(request, response);
  });
  server.on('connection', (socket) => sockets.add(socket));
  scripted.url = await listen(server);
  return scripted;
}

const success = (user: string, extra = '') =>
  `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>${user}</cas:user><cas:attributes><cas:mail>${user}@forgetful.example</cas:mail></cas:attributes>${extra}</cas:authenticationSuccess></cas:serviceResponse>`;

describe('CAS sign-in against the demo CAS server (real HTTP)', function () {
  let database: TestDatabase;
  let cas: DemoCasServer;

  before(async () => {
    database = await createTestDatabase();
    cas = await startDemoCasServer({ people: PEOPLE, allowedOrigins: [PORTAL], translations, defaultLocale: 'fr' });
  });
  after(async () => {
    await cas?.close();
    await database?.cleanup();
  });

  /** Each provider id has its own keys in sign_in_keys. */
  function casProvider(serverUrl: string, settings: { id?: string; version?: 2 | 3; timeoutMs?: number; serviceUrl?: string } = {}): RedirectIdentityProvider {
    const { serviceUrl = SERVICE, ...rest } = settings;
    const config = providerConfigSchema.parse({ kind: 'cas', id: 'ent', label: 'ENT', serverUrl, ...rest }) as CasProviderConfig;
    return createCasProvider(config, { serviceUrl, keys: signInKeyRepository(database.db.knex, config.id, () => new Date()) });
  }

  /** What a browser does on the demo server: open the login page, pick `user`, post the form; returns where it is sent. */
  async function pickOnLoginPage(location: string, user: string): Promise<Response> {
    const page = await fetch(location);
    expect(page.status).to.equal(200);
    const html = await page.text();
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const field = (name: string) => decodeEntities(new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '');
    return fetch(new URL('login', location), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ service: field('service'), token: field('token'), user }),
    });
  }

  /** A ticket the demo server issued to `user` for `service`, as the callback URL the browser lands on. */
  async function callbackFor(user: string, service: string): Promise<URL> {
    const sent = await pickOnLoginPage(`${cas.url}/login?service=${encodeURIComponent(service)}`, user);
    expect(sent.status).to.equal(303);
    return new URL(sent.headers.get('location') as string);
  }

  /** A sign-in started in one browser: what its pending cookie keeps, and the service the CAS server is given. */
  async function startIn(provider: RedirectIdentityProvider): Promise<{ location: string; pending: PendingState; service: string }> {
    const { location, pending } = await provider.start();
    return { location, pending, service: new URL(location).searchParams.get('service') as string };
  }

  /** A sign-in started in one browser, and that browser back from the demo server with `user`'s ticket. */
  async function signInAt(provider: RedirectIdentityProvider, user: string): Promise<{ url: URL; pending: PendingState; service: string }> {
    const { pending, service } = await startIn(provider);
    return { url: await callbackFor(user, service), pending, service };
  }

  /** The callback a CAS server would send the browser of `started` to, with `query` appended (`&ticket=…`). */
  const returnTo = (started: { service: string }, query: string) => new URL(`${started.service}${query}`);

  const validateAt = async (path: string, parameters: Record<string, string>) => (await fetch(`${cas.url}${path}?${new URLSearchParams(parameters)}`)).text();

  function expectRefused(result: VerifiedIdentity | ProviderFailure, detail: RegExp, when = ''): void {
    expect(result.ok, `${when} ${JSON.stringify(result)}`).to.equal(false);
    expect(result, when).to.include({ reason: 'refused' });
    expect((result as ProviderFailure).detail, when).to.match(detail);
  }

  for (const version of [3, 2] as const) {
    it(`signs a demo person in with CAS ${version}: login page, choice, redirect with a ticket, validation, attributes`, async () => {
      const provider = casProvider(cas.url, { version });
      const { location, pending, service } = await startIn(provider);
      expect(pending).to.deep.equal({ protocol: 'cas', state: pending.state });
      expect(pending.state).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(service).to.equal(`${SERVICE}?state=${pending.state}`);
      expect(location).to.equal(`${cas.url}/login?service=${encodeURIComponent(service)}`);
      expect((await startIn(provider)).pending.state, 'a new state for each sign-in').not.to.equal(pending.state);

      const page = await fetch(location, { headers: { 'accept-language': 'en-GB,en;q=0.8' } });
      const html = await page.text();
      expect(html).to.include('<html lang="en">').and.include('Demo sign-in server — not a real institution').and.include('<label for="person-0">Camille Étudiante');
      expect(html).not.to.match(/<script/i);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("default-src 'none'").and.include(`form-action 'self' ${PORTAL}`).and.not.include('unsafe-inline');
      expect(page.headers.get('cache-control')).to.equal('no-store');

      const sent = await pickOnLoginPage(location, 'etudiant');
      expect(sent.status).to.equal(303);
      const callback = new URL(sent.headers.get('location') as string);
      expect(`${callback.origin}${callback.pathname}`).to.equal(SERVICE);
      expect(callback.searchParams.get('state')).to.equal(pending.state);
      expect(callback.searchParams.get('ticket')).to.match(/^ST-[A-Za-z0-9-]{32,}$/);

      const identity = await provider.finish({ url: callback, pending });
      expect(identity).to.deep.equal({
        ok: true,
        subject: 'etudiant',
        attributes: { displayName: ['Camille Étudiante'], mail: ['camille@demo.example'], eduPersonAffiliation: ['student', 'member'], preferredLanguage: ['fr'], user: ['etudiant'] },
      });
    });
  }

  it('shows the demo page in the default language when the browser states none, and in French when asked', async () => {
    const plain = await (await fetch((await startIn(casProvider(cas.url))).location)).text();
    expect(plain).to.include('<html lang="fr">').and.include('Serveur de connexion de démonstration — ce n&#39;est pas un vrai établissement');
    const english = await (await fetch(`${cas.url}/logout`, { headers: { 'accept-language': 'en' } })).text();
    expect(english).to.include('<html lang="en">').and.include('You are signed out');
  });

  it('sends attribute values through escaped, so they arrive exactly as released', async () => {
    const provider = casProvider(cas.url);
    const identity = await provider.finish(await signInAt(provider, 'enseignant'));
    expect(identity).to.deep.include({ ok: true, subject: 'enseignant' });
    expect((identity as VerifiedIdentity).attributes.displayName).to.deep.equal(['Alex <Teacher> & "Co"']);
  });

  it('refuses a return that no CAS sign-in started in this browser', async () => {
    const provider = casProvider(cas.url);
    expectRefused(await provider.finish({ ...(await signInAt(provider, 'etudiant')), pending: {} }), /no CAS sign-in was started/);
  });

  describe('the state binding a ticket to the browser that started the sign-in', () => {
    let scripted: ScriptedCas;
    beforeEach(async () => {
      // A CAS server that validates any ticket for any service: only the portal's own check is left.
      scripted = await startScriptedCas();
      scripted.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).end(success('attacker'));
    });
    afterEach(() => scripted.close());

    it("refuses another sign-in's ticket brought to this browser's callback (login CSRF), before claiming it or asking", async () => {
      const provider = casProvider(cas.url);
      const attacker = await signInAt(provider, 'enseignant'); // the attacker's own sign-in: the ticket is not redeemed
      const victim = await startIn(provider); // the attacker's page opened /auth/ent in the victim's browser
      expectRefused(await provider.finish({ url: attacker.url, pending: victim.pending }), /state of the sign-in this browser started/);
      // Neither claimed nor burnt at the CAS server: it still signs in the browser it was issued for.
      expect(await provider.finish(attacker)).to.deep.include({ ok: true, subject: 'enseignant' });

      const loose = casProvider(scripted.url, { id: 'loose' });
      const looseAttacker = await startIn(loose);
      const looseVictim = await startIn(loose);
      expectRefused(await loose.finish({ url: returnTo(looseAttacker, '&ticket=ST-attacker-1'), pending: looseVictim.pending }), /state of the sign-in this browser started/);
      expect(scripted.requests).to.deep.equal([]);
    });

    it("is also refused by the CAS server, when validated with this browser's service (INVALID_SERVICE)", async () => {
      const provider = casProvider(cas.url);
      const attacker = await signInAt(provider, 'enseignant');
      const victim = await startIn(provider);
      const ticket = attacker.url.searchParams.get('ticket') as string;
      expect(await validateAt('/p3/serviceValidate', { service: victim.service, ticket })).to.include('code="INVALID_SERVICE"');
    });

    it('refuses a callback without a state, with two states, or a pending sign-in that kept none, without asking', async () => {
      const provider = casProvider(scripted.url, { id: 'scripted' });
      const started = await startIn(provider);
      const stateless = await callbackFor('enseignant', SERVICE); // a ticket for the bare callback URL
      const refusals = {
        'no state in the callback': { url: stateless, pending: started.pending },
        'no state, a scripted ticket': { url: new URL(`${SERVICE}?ticket=ST-no-state-1`), pending: started.pending },
        'an empty state': { url: new URL(`${SERVICE}?state=&ticket=ST-empty-state-1`), pending: started.pending },
        'two states': { url: returnTo(started, `&state=${started.pending.state}&ticket=ST-two-states-1`), pending: started.pending },
      };
      for (const [name, callback] of Object.entries(refusals)) expectRefused(await provider.finish(callback), /state of the sign-in this browser started/, name);
      for (const pending of [{ protocol: 'cas' }, { protocol: 'cas', state: '' }] as PendingState[]) {
        expectRefused(await provider.finish({ url: returnTo(started, '&ticket=ST-pending-without-state-1'), pending }), /no state kept/);
      }
      expect(scripted.requests).to.deep.equal([]);
      expect(await provider.finish({ url: returnTo(started, '&ticket=ST-with-its-state-1'), pending: started.pending })).to.include({ ok: true });
    });
  });

  describe('a ticket used twice', () => {
    it('is refused by the CAS server: a ticket is gone after one validation, even a failed one', async () => {
      const first = (await callbackFor('etudiant', SERVICE)).searchParams.get('ticket') as string;
      expect(await validateAt('/p3/serviceValidate', { service: SERVICE, ticket: first })).to.include('<cas:user>etudiant</cas:user>');
      expect(await validateAt('/p3/serviceValidate', { service: SERVICE, ticket: first })).to.include('code="INVALID_TICKET"');

      const second = (await callbackFor('etudiant', SERVICE)).searchParams.get('ticket') as string;
      expect(await validateAt('/serviceValidate', { service: `${PORTAL}/elsewhere`, ticket: second })).to.include('code="INVALID_SERVICE"');
      expect(await validateAt('/serviceValidate', { service: SERVICE, ticket: second })).to.include('code="INVALID_TICKET"');
    });

    it('is refused through the client by the CAS server when the portal has no record of it (another provider id, fresh keys)', async () => {
      const provider = casProvider(cas.url, { id: 'ent' });
      const back = await signInAt(provider, 'etudiant');
      expect(await provider.finish(back)).to.include({ ok: true });
      expectRefused(await casProvider(cas.url, { id: 'ent-twin' }).finish(back), /INVALID_TICKET/);
    });

    it('is refused by the portal itself, before asking, even when the CAS server would validate it again', async () => {
      const forgetful = await startScriptedCas();
      try {
        forgetful.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).end(success('forgetful'));
        const provider = casProvider(forgetful.url, { id: 'forgetful' });
        const { pending, ...started } = await startIn(provider);
        const callback = returnTo(started, '&ticket=ST-remembered-by-nobody-1');
        expect(await provider.finish({ url: callback, pending })).to.deep.include({ ok: true, subject: 'forgetful' });
        expectRefused(await provider.finish({ url: callback, pending }), /already used/);
        expect(forgetful.requests).to.have.length(1);
      } finally {
        await forgetful.close();
      }
    });
  });

  it('refuses a ticket issued for another service, and sends the configured service whatever the callback URL says', async () => {
    const provider = casProvider(cas.url);
    const { pending } = await startIn(provider);
    const forOther = await callbackFor('etudiant', `${PORTAL}/auth/other/callback?state=${pending.state}`);
    expectRefused(await provider.finish({ url: forOther, pending }), /INVALID_SERVICE/);
    // The callback arrived on another path: validation still names the configured service, for which this ticket is good.
    const back = await signInAt(provider, 'etudiant');
    const elsewhere = new URL(`${PORTAL}/auth/other/callback?state=${back.pending.state}&ticket=${back.url.searchParams.get('ticket')}`);
    expect(await provider.finish({ url: elsewhere, pending: back.pending })).to.deep.include({ ok: true, subject: 'etudiant' });
  });

  it('refuses an unknown ticket and a ticket older than five minutes', async () => {
    const provider = casProvider(cas.url);
    const started = await startIn(provider);
    expectRefused(await provider.finish({ url: returnTo(started, '&ticket=ST-never-issued-by-this-server'), pending: started.pending }), /INVALID_TICKET/);

    let now = new Date('2026-12-07T09:00:00Z');
    const slow = await startDemoCasServer({ people: PEOPLE, allowedOrigins: [PORTAL], translations, defaultLocale: 'fr', now: () => now });
    try {
      const sent = await pickOnLoginPage(`${slow.url}/login?service=${encodeURIComponent(SERVICE)}`, 'etudiant');
      const ticket = new URL(sent.headers.get('location') as string).searchParams.get('ticket') as string;
      now = new Date(now.getTime() + 5 * 60_000 + 1000);
      expect(await (await fetch(`${slow.url}/p3/serviceValidate?${new URLSearchParams({ service: SERVICE, ticket })}`)).text()).to.include('code="INVALID_TICKET"');
    } finally {
      await slow.close();
    }
  });

  it('answers INVALID_REQUEST when a parameter is missing, and still burns the ticket', async () => {
    const ticket = (await callbackFor('etudiant', SERVICE)).searchParams.get('ticket') as string;
    expect(await validateAt('/p3/serviceValidate', { ticket })).to.include('code="INVALID_REQUEST"');
    expect(await validateAt('/p3/serviceValidate', { service: SERVICE })).to.include('code="INVALID_REQUEST"');
    expect(await validateAt('/p3/serviceValidate', { service: SERVICE, ticket })).to.include('code="INVALID_TICKET"');
  });

  it('issues tickets for a service with a query on an allowed origin, and validates them only for that exact service', async () => {
    const service = `${SERVICE}?state=this-browser`;
    const back = await callbackFor('etudiant', service);
    expect(back.href.startsWith(`${service}&ticket=ST-`), back.href).to.equal(true);
    const ticketFor = async () => (await callbackFor('etudiant', service)).searchParams.get('ticket') as string;
    for (const other of [SERVICE, `${SERVICE}?state=another-browser`, `${SERVICE}?state=this-browser&more=1`, `${SERVICE}?state=THIS-BROWSER`]) {
      expect(await validateAt('/p3/serviceValidate', { service: other, ticket: await ticketFor() }), other).to.include('code="INVALID_SERVICE"');
    }
    expect(await validateAt('/p3/serviceValidate', { service, ticket: back.searchParams.get('ticket') as string })).to.include('<cas:user>etudiant</cas:user>');
    // The origin decides, not the path or query: the same query on another origin is refused.
    const page = await fetch(`${cas.url}/login?service=${encodeURIComponent('https://evil.example/auth/ent/callback?state=this-browser')}`);
    expect(page.status).to.equal(400);
  });

  describe('tickets refused without any request to the CAS server', () => {
    let scripted: ScriptedCas;
    before(async () => {
      scripted = await startScriptedCas();
      scripted.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).end(success('anyone'));
    });
    after(() => scripted.close());

    const cases: Record<string, string> = {
      'a proxy ticket (PT-)': '&ticket=PT-1-abcdefghijklmnop',
      'a proxy granting ticket (PGT-)': '&ticket=PGT-1-abcdefghijklmnop',
      'no ticket': '',
      'an empty ticket': '&ticket=',
      'ST- alone': '&ticket=ST-',
      'characters outside letters, digits and dashes': `&ticket=${encodeURIComponent('ST-abc<script>')}`,
      'an underscore': '&ticket=ST-abc_def',
      'a ticket longer than 256 characters': `&ticket=ST-${'a'.repeat(254)}`,
      'two tickets': '&ticket=ST-first-one&ticket=ST-second-one',
      'a lowercase prefix': '&ticket=st-abcdef',
    };
    for (const [name, query] of Object.entries(cases)) {
      it(`refuses ${name}`, async () => {
        const provider = casProvider(scripted.url, { id: 'scripted' });
        const started = await startIn(provider);
        expectRefused(await provider.finish({ url: returnTo(started, query), pending: started.pending }), /no single service ticket/);
        expect(scripted.requests).to.deep.equal([]);
      });
    }

    it('accepts the longest service ticket (256 characters)', async () => {
      const provider = casProvider(scripted.url, { id: 'scripted' });
      const started = await startIn(provider);
      expect(await provider.finish({ url: returnTo(started, `&ticket=ST-${'a'.repeat(253)}`), pending: started.pending })).to.include({ ok: true });
      expect(scripted.requests).to.have.length(1);
      scripted.requests.length = 0;
    });
  });

  describe('a CAS server that misbehaves', () => {
    let scripted: ScriptedCas;
    let ticketNumber = 0;
    beforeEach(async () => {
      scripted = await startScriptedCas();
    });
    afterEach(() => scripted.close());
    /** A sign-in started and brought back with a new ticket, validated at the scripted server. */
    const finishAt = async (settings: { timeoutMs?: number; version?: 2 | 3 } = {}, url = scripted.url) => {
      const provider = casProvider(url, { id: 'scripted', ...settings });
      const started = await startIn(provider);
      return provider.finish({ url: returnTo(started, `&ticket=ST-misbehaving-${++ticketNumber}`), pending: started.pending });
    };

    it('that hangs: unavailable once the timeout has passed, not later', async function () {
      this.timeout(5000);
      scripted.answer = () => undefined;
      const started = performance.now();
      const result = await finishAt({ timeoutMs: 500 });
      const elapsed = performance.now() - started;
      expect(result).to.include({ ok: false, reason: 'unavailable' });
      expect(elapsed).to.be.within(450, 1500);

      const healthStarted = performance.now();
      expect(await casProvider(scripted.url, { id: 'scripted', timeoutMs: 500 }).health()).to.include({ reachable: false });
      expect(performance.now() - healthStarted).to.be.within(450, 1500);
    });

    it('that sends headers then stalls the body: unavailable within the timeout', async function () {
      this.timeout(5000);
      scripted.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).write('<cas:serviceResponse');
      const started = performance.now();
      expect(await finishAt({ timeoutMs: 500 })).to.include({ ok: false, reason: 'unavailable' });
      expect(performance.now() - started).to.be.within(450, 1500);
    });

    it('that fails with a 5xx, or is not listening: unavailable', async () => {
      scripted.answer = (_request, response) => response.writeHead(503).end('maintenance');
      expect(await finishAt()).to.include({ ok: false, reason: 'unavailable' });
      const url = scripted.url;
      await scripted.close();
      const gone = await finishAt({}, url);
      expect(gone).to.include({ ok: false, reason: 'unavailable' });
      scripted = await startScriptedCas();
    });

    it('that answers with a document type declaring entities: refused', async () => {
      // Well-formed and otherwise a success: only the refusal of document types stops it.
      scripted.answer = (_request, response) =>
        response.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0"?><!DOCTYPE cas:serviceResponse [<!ENTITY who "intruder">]>${success('intruder')}`);
      expectRefused(await finishAt(), /document type/);
      scripted.answer = (_request, response) =>
        response.writeHead(200, { 'content-type': 'text/xml' }).end(`<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${success('&xxe;')}`);
      expectRefused(await finishAt(), /document type/);
    });

    it('that answers in the wrong namespace, with two users, a proxy chain or garbage: refused', async () => {
      const answers = {
        'a root in another namespace': success('mallory').replace('<cas:serviceResponse ', '<evil:serviceResponse xmlns:evil="http://evil.example/cas" ').replace('</cas:serviceResponse>', '</evil:serviceResponse>'),
        'a user in another namespace': success('alice').replace('<cas:user>alice</cas:user>', '<evil:user xmlns:evil="http://evil.example/cas">mallory</evil:user>'),
        'two users': success('alice', '<cas:user>mallory</cas:user>'),
        'proxy chain': success('alice', '<cas:proxies><cas:proxy>https://proxy.example/</cas:proxy></cas:proxies>'),
        'empty user': success(''),
        garbage: 'not XML at all',
      };
      for (const [name, body] of Object.entries(answers)) {
        scripted.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).end(body);
        const result = await finishAt();
        expect(result, name).to.include({ ok: false, reason: 'refused' });
      }
    });

    it('validates with the configured service and the ticket, at p3/serviceValidate for CAS 3 and serviceValidate for CAS 2', async () => {
      scripted.answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/xml' }).end(success('alice'));
      await finishAt();
      const provider = casProvider(scripted.url, { id: 'scripted', version: 2 });
      const started = await startIn(provider);
      // The callback's own URL (another host, an extra parameter) never reaches the CAS server: the service is the one sent at login.
      await provider.finish({ url: new URL(`http://elsewhere.test/auth/ent/callback?state=${started.pending.state}&ticket=ST-version-two&extra=1`), pending: started.pending });
      const [three, two] = scripted.requests.map((path) => new URL(path, scripted.url));
      expect(three?.pathname).to.equal('/p3/serviceValidate');
      expect(two?.pathname).to.equal('/serviceValidate');
      expect(Object.fromEntries(two?.searchParams ?? [])).to.deep.equal({ service: `${SERVICE}?state=${started.pending.state}`, ticket: 'ST-version-two' });
      expect(started.service).to.equal(`${SERVICE}?state=${started.pending.state}`);
    });
  });

  describe('the login page refuses to send a ticket outside the allowed origins', () => {
    for (const service of ['https://evil.example/auth/ent/callback', 'http://portal.test.evil.example/callback', 'javascript:alert(1)', 'not a url']) {
      it(`refuses ${service} on the page and on the form`, async () => {
        const page = await fetch(`${cas.url}/login?service=${encodeURIComponent(service)}`, { redirect: 'manual' });
        expect(page.status).to.equal(400);
        const html = await page.text();
        expect(html).to.include('Personne n&#39;a été connecté');
        expect(html).not.to.include('<form');

        // The form posted with a valid token but another service: still no redirect.
        const allowed = await fetch(`${cas.url}/login?service=${encodeURIComponent(SERVICE)}`);
        const token = /name="token" value="([^"]*)"/.exec(await allowed.text())?.[1] as string;
        const posted = await fetch(`${cas.url}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: (allowed.headers.get('set-cookie') ?? '').split(';')[0] as string, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ service, token, user: 'etudiant' }),
        });
        expect(posted.status).to.equal(400);
        expect(posted.headers.get('location')).to.equal(null);
      });
    }

    it('refuses a form posted without the cookie of the page it came from (login CSRF)', async () => {
      const page = await fetch(`${cas.url}/login?service=${encodeURIComponent(SERVICE)}`);
      const token = /name="token" value="([^"]*)"/.exec(await page.text())?.[1] as string;
      const posted = await fetch(`${cas.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ service: SERVICE, token, user: 'etudiant' }),
      });
      expect(posted.status).to.equal(403);
      expect(posted.headers.get('location')).to.equal(null);
    });

    it('links back from the logout page only to an allowed origin', async () => {
      const back = await (await fetch(`${cas.url}/logout?service=${encodeURIComponent(`${PORTAL}/`)}`)).text();
      expect(back).to.include(`<a href="${PORTAL}/">`);
      const evil = await (await fetch(`${cas.url}/logout?service=${encodeURIComponent('https://evil.example/')}`)).text();
      expect(evil).to.include('Vous êtes déconnecté').and.not.include('evil.example').and.not.include('<a ');
    });
  });

  it('sends the browser to the CAS logout with the return address, and reports the server reachable', async () => {
    const provider = casProvider(cas.url);
    expect(provider.logoutLocation?.({ returnTo: `${PORTAL}/login` })).to.equal(`${cas.url}/logout?service=${encodeURIComponent(`${PORTAL}/login`)}`);
    expect(await provider.health()).to.include({ reachable: true });
  });
});

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_entity, code: string) => String.fromCharCode(Number(code)));
}
