import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Express } from 'express';
import { Registry } from 'prom-client';
import supertest from 'supertest';
import { loadConfig, projectRoot } from '../../src/config.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';
import { spawnEntry, waitForOutput } from '../helpers/processes.js';
import { parseExposition, type Exposition } from '../helpers/prometheus-text.js';
import { orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';
import { until } from '../helpers/waiting.js';
import { configProblems, PRODUCTION_ENV } from '../helpers/config-problems.js';

/** What `openssl rand -hex 32` prints. */
const TOKEN = '3f9a1c0e7b2d4856a9e1f03c7d5b2a4e8c6f1d0b9a7e5c3d2f1e0a9b8c7d6e5f';

/** Scrapes closer together than this share one reading of the database (src/services/monitoring/metrics.ts). */
const READING_MAX_AGE_MS = 5_000;

const HISTOGRAM = 'recharge_http_request_duration_seconds';

async function scrape(app: Express | string, token = TOKEN): Promise<Exposition> {
  const response = await supertest(app).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
  return parseExposition(response.text);
}

/** Every refusal looks alike: 401, the scheme to use, nothing cached, no cookie, no body. */
function expectRefused(response: supertest.Response): void {
  expect(response.status).to.equal(401);
  expect(response.headers['www-authenticate']).to.equal('Bearer realm="metrics"');
  expect(response.headers['cache-control']).to.equal('no-store');
  expect(response.headers['set-cookie']).to.equal(undefined);
  expect(response.text).to.equal('');
}

describe(`metrics for Prometheus, with METRICS_TOKEN (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), { METRICS_TOKEN: TOKEN });

  /** A scrape after the last reading has expired: the database is read again. */
  async function freshScrape(): Promise<Exposition> {
    shop.portal.clock.advance(READING_MAX_AGE_MS);
    return scrape(shop.portal.app);
  }

  /** Pays an order for `offer` through the simulator's approval page and the return page. */
  async function topUp(offer: string): Promise<void> {
    const { paypalOrderId } = await orderSentToPayPal(shop, { offer });
    await shop.agent.get(pathOf(shop.portal.simulator.approve(paypalOrderId))).expect(303);
  }

  it('refuses a request without the token, with another token or scheme, or with a signed-in session', async () => {
    const { app } = shop.portal;
    expectRefused(await supertest(app).get('/metrics'));
    expectRefused(await supertest(app).get('/metrics').set('Authorization', `Bearer ${TOKEN.slice(0, -1)}0`));
    expectRefused(await supertest(app).get('/metrics').set('Authorization', `Bearer ${TOKEN.slice(0, 32)}`));
    expectRefused(await supertest(app).get('/metrics').set('Authorization', `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`));
    expectRefused(await supertest(app).get(`/metrics?token=${TOKEN}`));
    expectRefused(await shop.agent.get('/metrics'));
  });

  it("answers the token with prom-client's text format: every family of the portal, Node's process figures, no cookie, never cached", async () => {
    const response = await supertest(shop.portal.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(response.headers['content-type']).to.equal(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(response.headers['cache-control']).to.equal('no-store');
    expect(response.headers['set-cookie']).to.equal(undefined);
    const metrics = parseExposition(response.text);
    expect(Object.fromEntries(metrics.types)).to.include({
      recharge_http_request_duration_seconds: 'histogram',
      recharge_reconciler_sweeps_total: 'counter',
      recharge_reconciler_sweep_duration_seconds: 'histogram',
      recharge_top_up_orders: 'gauge',
      recharge_mail_outbox: 'gauge',
      recharge_credit_transfers: 'gauge',
      recharge_ledger_transactions_total: 'counter',
      recharge_database_statements_total: 'counter',
      recharge_database_figures_read: 'gauge',
      recharge_process_cpu_seconds_total: 'counter',
      recharge_nodejs_eventloop_lag_seconds: 'gauge',
    });
    expect([...metrics.types.keys()].filter((name) => !name.startsWith('recharge_'))).to.deep.equal([]);
    expect(metrics.value('recharge_database_figures_read')).to.equal(1);
    // Every status and kind is there from the start, at 0 when nothing has it.
    expect(metrics.value('recharge_top_up_orders', { status: 'refunded' })).to.equal(0);
    expect(metrics.value('recharge_mail_outbox', { status: 'failed' })).to.equal(0);
    expect(metrics.value('recharge_credit_transfers', { state: 'unknown' })).to.equal(0);
    expect(metrics.value('recharge_reconciler_sweeps_total', { outcome: 'failed' })).to.equal(0);
  });

  it('labels request times with the route template, never the path, its order number or its query', async () => {
    const { number } = await orderSentToPayPal(shop, { offer: 'pack-50' });
    await shop.agent.get(`/orders/${number}`).expect(200);
    await supertest(shop.portal.app).get(`/no-such-page?order=${number}`).expect(404);
    await supertest(shop.portal.app).get('/assets/recharge.css').expect(200);
    await supertest(shop.portal.app).get(`/metrics?order=${number}`).expect(401);
    const response = await supertest(shop.portal.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    const metrics = parseExposition(response.text);
    const count = (route: string, status: string, method = 'GET') => metrics.value(`${HISTOGRAM}_count`, { method, route, status });
    expect(count('/orders/:number', '200')).to.be.at.least(2);
    expect(count('/orders/:number/pay', '303', 'POST')).to.equal(1);
    expect(count('unmatched', '404')).to.equal(1);
    expect(count('/assets/*', '200')).to.equal(1);
    expect(count('/metrics', '401')).to.be.at.least(1);
    expect(response.text).not.to.include(number);
    const routes = new Set(metrics.samples.filter((sample) => sample.name.startsWith(HISTOGRAM)).map((sample) => sample.labels.route));
    expect([...routes].filter((route) => route !== 'unmatched' && !/^\/[a-z0-9/:*._-]*$/.test(route ?? ''))).to.deep.equal([]);
  });

  it('times a request whose client goes away before the answer, with the status `aborted`', async () => {
    const aborted = (metrics: Exposition) => metrics.value(`${HISTOGRAM}_count`, { method: 'POST', route: 'unmatched', status: 'aborted' }) ?? 0;
    const before = aborted(await scrape(shop.portal.app));
    const server = createServer(shop.portal.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const received = new Promise((resolve) => server.once('request', resolve));
      // A form whose body never comes whole: the body parser, before any route, is still waiting for it.
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      client.on('error', () => {});
      client.write('POST /login HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=');
      await received;
      client.destroy();
      await until(async () => aborted(await scrape(shop.portal.app)) === before + 1, 'the aborted request is counted');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    // The only request timed as aborted: the answered ones (these scrapes) are timed once, with their status.
    const series = (await scrape(shop.portal.app)).samples.filter((sample) => sample.name === `${HISTOGRAM}_count` && sample.labels.status === 'aborted');
    expect(series.map((sample) => [sample.labels.method, sample.labels.route, sample.value])).to.deep.equal([['POST', 'unmatched', before + 1]]);
  });

  it('counts top-ups by status and ledger transactions by kind from the database, read at most once in 5 seconds', async () => {
    const before = await freshScrape();
    await topUp('pack-10');
    const paid = (metrics: Exposition) => metrics.value('recharge_top_up_orders', { status: 'paid' });
    const topUps = (metrics: Exposition) => metrics.value('recharge_ledger_transactions_total', { kind: 'top_up' });
    // Within 5 seconds of the last reading, a scrape is answered from it: the database is not asked again.
    const cached = await scrape(shop.portal.app);
    expect([paid(cached), topUps(cached)]).to.deep.equal([paid(before), topUps(before)]);
    const after = await freshScrape();
    expect(paid(after)).to.equal(paid(before)! + 1);
    expect(topUps(after)).to.equal(topUps(before)! + 1);
    const recorded = await shop.portal.db.knex('ledger_transactions').where('kind', 'top_up').count({ count: '*' }).first();
    expect(topUps(after)).to.equal(Number(recorded?.count));
    expect(after.value('recharge_ledger_transactions_total', { kind: 'usage' })).to.equal(before.value('recharge_ledger_transactions_total', { kind: 'usage' }));
  });

  it('shows the receipt mail in the mail queue until it is delivered', async () => {
    const mails = (metrics: Exposition, status: string) => metrics.value('recharge_mail_outbox', { status }) as number;
    const before = await freshScrape();
    await topUp('pack-20');
    const queued = await freshScrape();
    expect(mails(queued, 'pending')).to.equal(mails(before, 'pending') + 1);
    // MAIL_DELIVERY=keep in tests: delivered mails are kept for the admin mailbox.
    await shop.portal.mail.deliverDue();
    const delivered = await freshScrape();
    expect(mails(delivered, 'pending')).to.equal(0);
    expect(mails(delivered, 'kept')).to.equal(mails(queued, 'kept') + mails(queued, 'pending'));
  });

  it('counts the statements sent to the database, as many as the database saw between two scrapes', async () => {
    // A first scrape reads the database's figures; the next ones, on the test's stopped clock, answer from that reading.
    await scrape(shop.portal.app);
    const before = (await scrape(shop.portal.app)).value('recharge_database_statements_total')!;
    const sent: string[] = [];
    const record = (query: { sql: string }) => sent.push(query.sql);
    shop.portal.db.knex.on('query', record);
    await shop.agent.get('/account').expect(200);
    shop.portal.db.knex.off('query', record);
    const after = (await scrape(shop.portal.app)).value('recharge_database_statements_total')!;
    expect(sent).to.not.deep.equal([]);
    expect(after - before).to.equal(sent.length);
  });

  it('counts and times the reconciler sweeps', async () => {
    const sweeps = (metrics: Exposition) => metrics.value('recharge_reconciler_sweeps_total', { outcome: 'completed' });
    const timed = (metrics: Exposition) => metrics.value('recharge_reconciler_sweep_duration_seconds_count', { outcome: 'completed' }) ?? 0;
    const before = await scrape(shop.portal.app);
    await shop.portal.checkout.reconcile();
    const after = await scrape(shop.portal.app);
    expect(sweeps(after)).to.equal(sweeps(before)! + 1);
    expect(timed(after)).to.equal(timed(before) + 1);
    expect(after.value('recharge_reconciler_sweeps_total', { outcome: 'failed' })).to.equal(0);
  });
});

describe(`metrics for Prometheus, when the database does not answer (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal({ METRICS_TOKEN: TOKEN });
  });
  after(() => portal.cleanup());

  it("still answers, without the database's figures and saying so, and counts the failed sweep", async () => {
    await portal.db.close();
    const failure = await portal.checkout.reconcile().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(Error);
    const metrics = await scrape(portal.app);
    expect(metrics.value('recharge_database_figures_read')).to.equal(0);
    expect(metrics.samples.filter((sample) => /^recharge_(top_up_orders|mail_outbox|credit_transfers|ledger_transactions_total)$/.test(sample.name))).to.deep.equal([]);
    expect(metrics.value('recharge_reconciler_sweeps_total', { outcome: 'failed' })).to.equal(1);
    expect(metrics.value('recharge_reconciler_sweep_duration_seconds_count', { outcome: 'failed' })).to.equal(1);
    expect(metrics.value('recharge_process_cpu_seconds_total')).to.be.greaterThan(0);
    expect(portal.logs.some((line) => line.msg === 'metrics: reading the figures from the database failed')).to.equal(true);
  });
});

describe(`metrics for Prometheus: off by default, or on a listener of their own (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('are not served when neither METRICS_TOKEN nor METRICS_PORT is set', async () => {
    const portal = await createTestPortal();
    try {
      const response = await supertest(portal.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(response.status).to.equal(404);
      expect(response.text).to.include('Page introuvable');
    } finally {
      await portal.cleanup();
    }
  });

  /** Starts the portal as `npm start` does; resolves with its URL and the metrics URL it printed. */
  async function startPortal(env: Record<string, string>, run: (urls: { portal: string; metrics: string }) => Promise<void>): Promise<void> {
    const child = spawnEntry('src/server.ts', [], { NODE_ENV: 'development', PORT: '0', PAYPAL_SIM_PORT: '0', DEMO_DATA: 'false', DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env });
    try {
      const output = await waitForOutput(child, /(?=[\s\S]*Recharge is running at \S+\n)[\s\S]*Metrics for Prometheus at \S+\/metrics\n/);
      const portal = /Recharge is running at (\S+)/.exec(output)![1]!;
      const metrics = /Metrics for Prometheus at (\S+)\/metrics/.exec(output)![1]!;
      await run({ portal, metrics });
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  it('with METRICS_PORT alone: only /metrics, on 127.0.0.1, and the portal\'s own port no longer serves it', async () => {
    await startPortal({ METRICS_PORT: '0' }, async (urls) => {
      expect(urls.metrics).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const metrics = await supertest(urls.metrics).get('/metrics').expect(200);
      expect(metrics.headers['content-type']).to.equal(Registry.PROMETHEUS_CONTENT_TYPE);
      expect(parseExposition(metrics.text).value('recharge_database_figures_read')).to.equal(1);
      const page = await supertest(urls.metrics).get('/login');
      expect([page.status, page.text]).to.deep.equal([404, '']);
      await supertest(urls.portal).get('/login').expect(200);
      expect((await supertest(urls.portal).get('/metrics')).status).to.equal(404);
    });
  });

  it('with METRICS_HOST and METRICS_TOKEN: bound to that address only, and the token asked there too', async () => {
    // Linux routes all of 127.0.0.0/8 to the loopback interface: an address of its own without configuring one.
    await startPortal({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.2', METRICS_TOKEN: TOKEN }, async (urls) => {
      const { port } = new URL(urls.metrics);
      expect(urls.metrics).to.equal(`http://127.0.0.2:${port}`);
      expectRefused(await supertest(urls.metrics).get('/metrics'));
      expect((await scrape(urls.metrics)).value('recharge_database_figures_read')).to.equal(1);
      const elsewhere = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        () => 'answered',
        (error: { cause?: { code?: string } }) => error.cause?.code,
      );
      expect(elsewhere).to.equal('ECONNREFUSED');
      expect((await supertest(urls.portal).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).to.equal(404);
    });
  });
});

describe('metrics settings', () => {
  const { SESSION_SECRET } = PRODUCTION_ENV;
  const PRODUCTION = PRODUCTION_ENV;

  it('are off unless set, and listen on 127.0.0.1 by default', () => {
    expect(loadConfig({ env: { NODE_ENV: 'development' } }).metrics).to.deep.equal({ host: '127.0.0.1' });
    expect(loadConfig({ env: { ...PRODUCTION, METRICS_PORT: '9464' } }).metrics).to.deep.equal({ host: '127.0.0.1', port: 9464 });
  });

  it('refuse a short token, and in production one that is a placeholder, does not look random or is the session secret', () => {
    expect(configProblems({ NODE_ENV: 'development', METRICS_TOKEN: 'short' })).to.deep.equal(['metrics.token (METRICS_TOKEN): must be at least 32 characters']);
    expect(configProblems({ ...PRODUCTION, METRICS_TOKEN: 'change-me-to-a-long-random-token-for-prometheus' })[0]).to.match(/^metrics\.token \(METRICS_TOKEN\): is a placeholder; generate one with `openssl rand -hex 32`/);
    expect(configProblems({ ...PRODUCTION, METRICS_TOKEN: 'prometheus'.repeat(4) })[0]).to.match(/^metrics\.token \(METRICS_TOKEN\): does not look random/);
    expect(configProblems({ ...PRODUCTION, METRICS_TOKEN: SESSION_SECRET })).to.deep.equal(['metrics.token (METRICS_TOKEN): must differ from SESSION_SECRET']);
    expect(loadConfig({ env: { ...PRODUCTION, METRICS_TOKEN: TOKEN } }).metrics.token).to.equal(TOKEN);
  });

  it('refuse every interface without a token, and the portal\'s own port', () => {
    expect(configProblems({ NODE_ENV: 'development', METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' })[0]).to.match(/^metrics\.host \(METRICS_HOST\): 0\.0\.0\.0 listens on every interface/);
    expect(configProblems({ NODE_ENV: 'development', METRICS_PORT: '9464', METRICS_HOST: '::' })[0]).to.match(/^metrics\.host \(METRICS_HOST\): :: listens on every interface/);
    expect(loadConfig({ env: { NODE_ENV: 'development', METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: TOKEN } }).metrics.host).to.equal('0.0.0.0');
    expect(configProblems({ NODE_ENV: 'development', PORT: '3000', METRICS_PORT: '3000' })[0]).to.match(/^metrics\.port \(METRICS_PORT\): must differ from PORT/);
  });

  it('take the token only from the environment', async () => {
    const configDir = await mkdtemp(path.join(tmpdir(), 'recharge-metrics-config-'));
    try {
      await cp(path.join(projectRoot, 'config', 'default.json'), path.join(configDir, 'default.json'));
      const defaults = JSON.parse(await readFile(path.join(configDir, 'default.json'), 'utf8')) as Record<string, Record<string, unknown>>;
      defaults.metrics = { ...defaults.metrics, token: TOKEN };
      await writeFile(path.join(configDir, 'default.json'), JSON.stringify(defaults));
      expect(configProblems({ NODE_ENV: 'development' }, configDir)).to.deep.equal(['metrics.token (config/default.json): secrets come only from the environment (METRICS_TOKEN)']);
    } finally {
      await rm(configDir, { recursive: true, force: true });
    }
  });
});
