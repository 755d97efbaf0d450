import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import { findActiveApiKey } from '../../src/db/print-api/api-key-repository.js';
import { API_KEY_PATTERN, hashApiKey } from '../../src/domain/print-api/api-keys.js';
import { DEMO_API_KEY_NAME, demoStudentHistory, seedDemo } from '../../src/services/demo/demo.js';
import { DEMO_API_KEY, DEMO_LOGINS } from '../../src/services/demo/demo-logins.js';
import { createQuoteUnitsPayment } from '../../src/services/quotes/quote-units-payment.js';
import { lookUpQuote } from '../helpers/quotes.js';
import { USAGE_CATEGORIES } from '../../src/domain/ledger/ledger.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';
import { runEntry, spawnEntry, waitForOutput } from '../helpers/processes.js';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { countStatements } from '../helpers/statements.js';

/** The student's balance once the demo history is recorded: what the top-ups brought, less the jobs not cancelled. */
function demoStudentBalance(): number {
  const history = demoStudentHistory();
  const cancelled = new Set(history.flatMap((event) => (event.type === 'cancel' ? [event.job] : [])));
  return history.reduce((balance, event) => {
    if (event.type === 'top_up') return balance + event.units + event.bonusUnits;
    if (event.type === 'job' && !cancelled.has(event.number)) return balance - event.amount;
    return balance;
  }, 0);
}

describe(`the server process, as npm start runs it (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('migrates, seeds the demo, prints the URL, the demo logins and API key, and the printed student login shows the demo balance and usage', async () => {
    const child = spawnEntry('src/server.ts', [], { NODE_ENV: 'development', PORT: '0', PAYPAL_SIM_PORT: '0', DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
    try {
      const output = await waitForOutput(child, /Recharge is running at (\S+)[\s\S]*a draft to send from the desk: \S+/);
      expect(output).to.match(/built-in PayPal simulator at http:\/\/127\.0\.0\.1:\d+/);
      expect(output).to.include(`Demo print-server API key: ${DEMO_API_KEY}`);
      const url = /Recharge is running at (\S+)/.exec(output)?.[1] as string;
      const [, username, password] = /user\s+(\S+) \/ (\S+)/.exec(output) ?? [];
      expect(url).to.match(/^http:\/\/localhost:\d+$/);
      const agent = supertest.agent(url);
      const page = await agent.get('/login').expect(200);
      const login = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username, password });
      expect(login.status).to.equal(303);
      const account = await agent.get('/account').expect(200);
      expect(account.text).to.include(`data-balance="${demoStudentBalance()}"`).and.include('Camille Martin');
      for (const category of USAGE_CATEGORIES) expect(account.text).to.include(`<tr data-category="${category}">`);
      expect((await agent.get('/healthz')).body.status).to.equal('ok');

      // The desk's login, and the payable quote a tester finds with the number and postcode printed, on the lookup page printed.
      const [, deskUser, deskPassword] = /desk\s+(\S+) \/ (\S+)/.exec(output) ?? [];
      const desk = supertest.agent(url);
      const deskLogin = await desk.get('/login').expect(200);
      expect((await desk.post('/login').type('form').send({ _csrf: csrfTokenFrom(deskLogin.text), username: deskUser, password: deskPassword })).status).to.equal(303);
      const [, draftUrl, draft] = /a draft to send from the desk: (\S+\/desk\/quotes\/(D-\d{4}-\d{6}))$/m.exec(output) ?? [];
      expect(draftUrl).to.equal(`${url}/desk/quotes/${draft}`);
      expect((await desk.get(`/desk/quotes/${draft}`)).status).to.equal(200);
      const [, lookupUrl, number, postcode] = /pay online without an account at (\S+) with quote (D-\d{4}-\d{6}) and postcode (\S+)$/m.exec(output) ?? [];
      expect(lookupUrl).to.equal(`${url}/quotes/lookup`);
      const customer = supertest.agent(url);
      const found = await lookUpQuote(customer, number!, postcode!);
      expect(found.status).to.equal(303);
      expect(found.headers.location).to.equal(`/quotes/${number}`);
      expect((await customer.get(`/quotes/${number}`)).text).to.include('Impression thèse 180 pages couleur');
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
  });

  it('refuses to start in production without a session secret, naming the key, with exit code 78 (EX_CONFIG)', async () => {
    const result = await runEntry('src/server.ts', [], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } });
    expect(result.code).to.equal(78);
    expect(result.stderr).to.include('Invalid configuration:').and.include('session.secret (SESSION_SECRET): is required in production');
  });

  it('says which port is taken and exits 1, for the portal and for its simulator', async () => {
    await withPortHeld(0, async (port) => {
      const portal = await runEntry('src/server.ts', [], { env: { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: 'silent' } });
      expect(portal.code).to.equal(1);
      expect(portal.stderr).to.include(`Recharge cannot start: port ${port} is already in use by another program. Stop it, or choose another port with PORT.`);
      expect(portal.stderr).not.to.include('TypeError');
      const simulator = await runEntry('src/server.ts', [], { env: { NODE_ENV: 'development', PORT: '0', PAYPAL_SIM_PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: 'silent' } });
      expect(simulator.code).to.equal(1);
      expect(simulator.stderr).to.include(`The built-in PayPal simulator cannot start: port ${port} is already in use by another program. Stop it, or choose another port with PAYPAL_SIM_PORT.`);
    });
  });

  it('takes a free port for its simulator unless PAYPAL_SIM_PORT says one, and sweeps for payments soon after start', async () => {
    // The port the simulator took by default before: held here, as a second portal on the machine would.
    await withPortHeld(8089, async () => {
      const child = spawnEntry('src/server.ts', [], { NODE_ENV: 'development', PORT: '0', DATABASE_URL: database.url, RECONCILE_INTERVAL_SECONDS: '3600', LOG_LEVEL: 'debug' });
      try {
        const output = await waitForOutput(child, /"msg":"reconciler swept"/, 30_000);
        expect(output).to.match(/built-in PayPal simulator at http:\/\/127\.0\.0\.1:(?!8089)\d+/);
      } finally {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        expect(await exited).to.equal(0);
      }
    });
  });
});

/** Runs `work` while this process listens on `port` (0: any free one); a port someone else already holds is held all the same. */
async function withPortHeld(port: number, work: (port: number) => Promise<void>): Promise<void> {
  const holder = createServer();
  const held = await new Promise<number>((resolve, reject) => {
    holder.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(port) : reject(error)));
    holder.listen(port, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port));
  });
  try {
    await work(held);
  } finally {
    if (holder.listening) await new Promise((resolve) => holder.close(resolve));
  }
}

describe(`demo data (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    // As in development, where `npm start` seeds the demo: quotes are sent only with a reply address.
    portal = await createTestPortal({ SELLER_EMAIL: 'reprographie@example.edu' });
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  const seed = () => seedDemo({ db: portal.db, clock: portal.clock, users: portal.users, config: portal.config });
  const counts = async () => {
    const knex = portal.db.knex;
    const count = async (table: string) => Number((await knex(table).count({ total: '*' }).first())?.total);
    return {
      transactions: await count('ledger_transactions'),
      debits: await count('usage_debits'),
      keys: await count('api_keys'),
      users: await count('users'),
      quotes: await count('quotes'),
      documents: await count('documents'),
      mails: await count('mail_outbox'),
      audit: await count('audit_log'),
      lastUse: (await knex('api_keys').first('last_used_at'))?.last_used_at,
    };
  };
  /** A quote's row, its amounts as numbers (PostgreSQL answers bigints as strings). */
  const quoteRow = async (number: string) => {
    const row = await portal.db.knex('quotes').where('number', number).first();
    return { ...row, total_cents: Number(row.total_cents), units_price: row.units_price == null ? null : Number(row.units_price) };
  };

  it('gives the student six months of usage in every category, print most, fax least, through the demo API key', async () => {
    await seed();
    const knex = portal.db.knex;
    const student = (await portal.users.findUser('etudiant'))!;
    const account = await portal.ledger.userAccount(student.id);
    const key = await findActiveApiKey(knex, hashApiKey(DEMO_API_KEY));
    expect(key?.name).to.equal(DEMO_API_KEY_NAME);

    const debits: Array<Record<string, unknown>> = await knex('usage_debits').where('account_id', account.id).select('category', 'amount', 'pages', 'reference', 'api_key_id', 'created_at');
    const jobs = Object.fromEntries(USAGE_CATEGORIES.map((category) => [category, debits.filter((debit) => debit.category === category).length]));
    expect(jobs.fax).to.be.greaterThan(0);
    expect(jobs.print).to.be.greaterThan(2 * jobs.copy!);
    expect(jobs.copy).to.be.greaterThan(jobs.scan!);
    expect(jobs.scan).to.be.greaterThan(jobs.fax!);
    for (const debit of debits) {
      expect(debit.api_key_id).to.equal(key!.id);
      expect(debit.reference).to.match(/^demo-job-\d{4}$/);
      const pages = Number(debit.pages);
      expect(pages).to.be.within(1, 40);
      // 0.05 to 0.15 unit per page.
      expect(Number(debit.amount) / pages).to.be.oneOf([5, 15]);
    }
    const now = portal.clock.now().getTime();
    const ages = debits.map((debit) => (now - new Date(String(debit.created_at)).getTime()) / 86_400_000);
    expect(Math.min(...ages)).to.be.greaterThan(0);
    expect(Math.max(...ages)).to.be.within(150, 185);

    const cancellations = await knex('ledger_transactions as reversal')
      .join('usage_debits as debit', 'debit.transaction_id', 'reversal.reverses_transaction_id')
      .where('debit.account_id', account.id)
      .select('debit.category');
    expect(cancellations.map((row: { category: string }) => row.category)).to.deep.equal(['print', 'print']);

    // Top-ups along the way: the balance never went below zero, and ends where the plan says.
    const entries: Array<{ balance_after: unknown }> = await knex('ledger_entries').where('account_id', account.id).select('balance_after');
    expect(entries.every((entry) => Number(entry.balance_after) >= 0)).to.equal(true);
    expect(await knex('ledger_transactions').where('kind', 'top_up').count({ total: '*' }).first()).to.satisfy((row: { total: unknown }) => Number(row.total) >= 3);
    expect(account.balance).to.be.greaterThan(0).and.equal(demoStudentBalance());
  });

  it('gives the desk person the desk, and makes them a quote payable without an account, one the student pays in units, and a draft', async () => {
    const { logins, quotes } = await seed();
    const knex = portal.db.knex;
    const desk = DEMO_LOGINS.find((login) => login.quoteDesk)!;
    expect(logins).to.include(desk);
    expect(await portal.users.findUser(desk.username)).to.include({ role: 'user', quoteDesk: true });
    expect(await knex('audit_log').where('action', 'person.quote_desk').select('actor_username', 'target')).to.deep.equal([{ actor_username: 'demo:seed', target: desk.username }]);

    // 2026-11-23 in Paris: valid 30 days, to 2026-12-23, made and sent by the desk person through the outbox.
    const payable = await quoteRow(quotes!.payable.number);
    expect(payable).to.include({ status: 'sent', user_id: null, units_price: null, delivery_postcode: '75005', valid_until: '2026-12-23', created_by: desk.username, total_cents: 11_850 });
    expect(quotes!.payable.postcode).to.equal('75005');
    const rates: Array<{ vat_rate_basis_points: unknown }> = await knex('quote_lines').where('quote_id', payable.id).orderBy('position').select('vat_rate_basis_points');
    expect(rates.map((line) => Number(line.vat_rate_basis_points))).to.deep.equal([2000, 550, 2000]);
    expect(await knex('mail_outbox').join('documents', 'documents.id', 'mail_outbox.document_id').where('documents.quote_id', payable.id).select('recipient')).to.deep.equal([{ recipient: 'elise.bernard@example.org' }]);

    const student = (await portal.users.findUser('etudiant'))!;
    const forStudent = await quoteRow(quotes!.forStudent.number);
    expect(forStudent).to.include({ status: 'sent', user_id: student.id, units_price: 1220, valid_until: '2026-12-23' });
    expect(await quoteRow(quotes!.draft.number)).to.include({ status: 'draft', sent_at: null });

    // The student's demo balance pays it.
    const terms = await knex('terms_versions').orderBy('id', 'desc').first('id');
    const unitsPayment = createQuoteUnitsPayment({ db: portal.db, clock: portal.clock, timeZone: portal.config.i18n.timeZone });
    await unitsPayment.payWithUnits(student, forStudent.id, terms.id);
    expect((await portal.ledger.userAccount(student.id)).balance).to.equal(demoStudentBalance() - 1220);
  });

  it('changes nothing when seeded again, even days later, while its quotes are as it made them', async () => {
    const first = await seed();
    const before = await counts();
    expect((await seed()).quotes).to.deep.equal(first.quotes);
    portal.clock.advance(3 * 86_400_000);
    expect((await seed()).quotes).to.deep.equal(first.quotes);
    expect(await counts()).to.deep.equal(before);
  });

  it('seeded again, only reads: the history already recorded is not replayed at each start', async () => {
    await seed();
    const again = await countStatements(portal.db, seed);
    expect(again.sql.filter((sql) => /^\s*(insert|update|delete)\b/i.test(sql))).to.deep.equal([]);
    // People, prices, terms, the history's last entry, the quotes: a few reads each, not the history's hundreds.
    expect(again.count).to.be.below(40);
  });

  it('makes a new quote to try once the last one was paid or has expired, and keeps the draft', async () => {
    const first = await seed();
    // 31 days after the first seeding: both sent quotes are past their 30 days.
    portal.clock.advance(28 * 86_400_000);
    const later = await seed();
    expect(later.quotes!.payable.number).not.to.equal(first.quotes!.payable.number);
    expect(later.quotes!.forStudent.number).not.to.equal(first.quotes!.forStudent.number);
    expect(later.quotes!.draft).to.deep.equal(first.quotes!.draft);
    expect(await quoteRow(later.quotes!.payable.number)).to.include({ status: 'sent' });
    expect(await seed()).to.deep.equal(later);
  });

  it('makes no quote when quotes cannot be sent (no reply address), and gives the rest of the demo all the same', async () => {
    const { config } = portal;
    const demo = await seedDemo({ db: portal.db, clock: portal.clock, users: portal.users, config: { ...config, seller: { ...config.seller, email: '' } } });
    expect(demo).to.deep.equal({ logins: DEMO_LOGINS, quotes: null });
  });

  it('records the same history on every start: a fixed seed, no Math.random', () => {
    expect(JSON.stringify(demoStudentHistory())).to.equal(JSON.stringify(demoStudentHistory()));
    expect(DEMO_API_KEY).to.match(API_KEY_PATTERN);
  });
});
