import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { cookiesOf, createTestPortal, csrfTokenFrom, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a good long password';

describe(`web foundation (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD);
  });
  after(() => portal.cleanup());

  it('sends a strict Content-Security-Policy with a fresh nonce that the page uses', async () => {
    const first = await supertest(portal.app).get('/login');
    const second = await supertest(portal.app).get('/login');
    const csp = first.headers['content-security-policy'] as string;
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).to.be.a('string');
    expect(first.text).to.include(`<style nonce="${nonce}">`);
    expect(second.headers['content-security-policy']).not.to.include(nonce);
    const directives = Object.fromEntries(csp.split(';').map((directive) => [directive.split(' ')[0], directive]));
    expect(directives).to.include({
      'object-src': "object-src 'none'",
      'base-uri': "base-uri 'none'",
      'frame-ancestors': "frame-ancestors 'none'",
      'default-src': "default-src 'self'",
      // PayPal's origin (here the simulator's): browsers check form-action against the redirect after "Pay".
      'form-action': `form-action 'self' ${new URL(portal.simulator.baseUrl).origin}`,
    });
    expect(directives['script-src']).to.equal(`script-src 'self' 'nonce-${nonce}'`);
    expect(csp).not.to.include('unsafe-inline');
    expect(first.headers['x-content-type-options']).to.equal('nosniff');
    expect(first.headers['referrer-policy']).to.equal('same-origin');
    // The old header agrees with frame-ancestors 'none'.
    expect(first.headers['x-frame-options']).to.equal('DENY');
  });

  it('loads nothing from another origin', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const pages = [(await supertest(portal.app).get('/login')).text, (await agent.get('/account')).text, (await agent.get('/no-such-page')).text];
    for (const [index, html] of pages.entries()) {
      const references = [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((match) => match[1] as string);
      expect(references.length).to.be.greaterThan(3);
      expect(references.filter((url) => !/^\/(?!\/)/.test(url) && !url.startsWith('#')), `page ${index}`).to.deep.equal([]);
    }
    await agent.get('/assets/recharge.css').expect(200).expect('Content-Type', /text\/css/);
  });

  it('answers an unknown page with a friendly 404 in the reader language, quoting the request id', async () => {
    const french = await supertest(portal.app).get('/nope').set('X-Request-Id', 'support-ref-12345');
    expect(french.status).to.equal(404);
    expect(french.headers['x-request-id']).to.equal('support-ref-12345');
    expect(french.text).to.include('Page introuvable').and.include('Référence à communiquer au support : support-ref-12345');
    const english = await supertest(portal.app).get('/nope').set('Accept-Language', 'en');
    expect(english.text).to.include('Page not found');
    expect(english.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('replaces a malformed incoming request id with its own', async () => {
    const response = await supertest(portal.app).get('/login').set('X-Request-Id', 'bad id\twith<script>');
    expect(response.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('answers an oversized form with 413 and a friendly page', async () => {
    const agent = supertest.agent(portal.app);
    const page = await agent.get('/login');
    const response = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'x'.repeat(20_000), password: 'y' });
    expect(response.status).to.equal(413);
    expect(response.text).to.include('Envoi trop volumineux');
  });

  it('reports its health with a database check', async () => {
    const response = await supertest(portal.app).get('/healthz').expect(200).expect('Content-Type', /json/);
    expect(response.body).to.deep.include({ status: 'ok' });
    expect(response.body.checks.database.status).to.equal('ok');
  });

  it('logs each request with its id and never a password, cookie or session id', async () => {
    const agent = supertest.agent(portal.app);
    const secret = 'Sup3r-secret-passphrase!';
    await portal.addUser('logged', secret);
    const login = await logIn(agent, 'logged', secret, { 'X-Request-Id': 'trace-login-0001' });
    const cookie = sessionCookieOf(login) as string;
    const sessionId = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0] as string;
    const deviceToken = cookiesOf(login).find((pair) => pair.startsWith('recharge.device='))?.split('=')[1] as string;
    const line = portal.logs.find((entry) => (entry.req as { id?: string; method?: string } | undefined)?.id === 'trace-login-0001' && (entry.req as { method: string }).method === 'POST');
    expect(line).to.deep.include({ msg: 'request completed' });
    expect(line?.req).to.deep.equal({ id: 'trace-login-0001', method: 'POST', path: '/login', remoteAddress: (line?.req as { remoteAddress: string }).remoteAddress });
    expect((line?.res as { statusCode: number }).statusCode).to.equal(303);
    const everything = portal.rawLogs.join('\n');
    expect(everything).not.to.include(secret);
    expect(everything).not.to.include(sessionId);
    expect(everything).not.to.include(deviceToken);
    expect(everything.toLowerCase()).not.to.include('cookie');
  });
});

describe(`web foundation when the database fails (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD);
  });
  after(() => portal.cleanup());

  it('shows a friendly 500 page without internals, and health answers 503', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    await portal.db.knex.destroy();
    const response = await agent.get('/account').set('Accept-Language', 'en');
    expect(response.status).to.equal(500);
    expect(response.text).to.include('Something went wrong').and.include('Nothing was charged');
    expect(response.text).to.include(`Reference for support: ${response.headers['x-request-id']}`);
    expect(response.text).not.to.match(/\bat [\w.<>]+ \(|node_modules|knex|Error:/);
    const errorLog = portal.logs.find((entry) => (entry.res as { statusCode?: number } | undefined)?.statusCode === 500);
    expect(errorLog?.level).to.equal(50);
    expect(errorLog?.err).to.be.an('object');
    const health = await supertest(portal.app).get('/healthz');
    expect(health.status).to.equal(503);
    expect(health.body).to.deep.equal({ status: 'error', checks: { database: { status: 'unreachable' } } });
  });
});
