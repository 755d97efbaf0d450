import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { recordActivity } from '../../src/db/ledger/account-activity-repository.js';
import { activityOf, mergeActivity, type PostedLine } from '../../src/domain/ledger/account-activity.js';
import { userAccountCode } from '../../src/domain/ledger/ledger.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';
import { asText } from '../helpers/downloads.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a good long password';
const BOM = '\uFEFF';
const FRENCH_HEADER =
  'Date et heure (Europe/Paris);Transaction;Type;Identifiant;Nom;Unités;Commande;Montant TTC;Montant HT;TVA;Taux de TVA (%);Devise;Commande PayPal;Paiement PayPal;Remboursement PayPal;Libellé;Saisi par';
const ENGLISH_HEADER =
  'Date and time (Europe/Paris),Transaction,Type,Username,Name,Units,Order,Amount incl. VAT,Net amount,VAT,VAT rate (%),Currency,PayPal order,PayPal capture,PayPal refund,Description,Entered by';

/** Intl writes money with non-breaking spaces; the expectations below use plain ones. */
const plainSpaces = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

async function systemAccount(portal: TestPortal, code: string): Promise<number> {
  return Number((await portal.db.knex('accounts').where('code', code).first('id')).id);
}

async function auditCount(portal: TestPortal): Promise<number> {
  return (await portal.db.knex('audit_log').select('id')).length;
}

describe(`administration: reports (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: User;
  let camille: User;
  let agent: Agent;
  /** What the known scenario recorded, to write the expected rows. */
  const known = { number: '', paypalOrderId: '', captureId: '', refundId: '', topUpId: 0, refundTxId: 0, adjustmentId: 0, usageId: 0 };

  before(async () => {
    portal = await createTestPortal();
    const termsId = await publishOffers(portal);
    admin = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    camille = await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin' });
    agent = supertest.agent(portal.app);
    expect((await logIn(agent, 'gestion', 'admin-password')).status).to.equal(303);

    // 2026-11-23, Paris time: a top-up paid through PayPal, a partial refund, a manual adjustment, a print.
    const buyer = supertest.agent(portal.app);
    await logIn(buyer, 'camille', PASSWORD);
    known.number = await placeOrder(buyer, { offer: 'pack-20', terms: String(termsId) }); // 20,00 € → 22 units
    known.paypalOrderId = await pay(buyer, portal, known.number);
    portal.clock.advance(60_000);
    await buyer.get(pathOf(portal.simulator.approve(known.paypalOrderId))).expect(303);
    portal.clock.advance(60_000);
    portal.simulator.refundCapture(known.paypalOrderId, '5.00');
    await portal.simulator.flushWebhooks();
    const order = await portal.db.knex('orders').first();
    const refund = await portal.db.knex('payment_refunds').first();
    Object.assign(known, {
      captureId: order.paypal_capture_id,
      refundId: refund.refund_id,
      topUpId: Number(order.ledger_transaction_id),
      refundTxId: Number(refund.ledger_transaction_id),
    });

    const account = (await portal.ledger.userAccount(camille.id)).id;
    portal.clock.advance(60_000);
    known.adjustmentId = (
      await portal.ledger.post({
        idempotencyKey: 'adjustment-1',
        kind: 'adjustment',
        description: 'Geste commercial; panne "imprimante"',
        createdBy: admin.id,
        lines: [
          { accountId: account, amount: 300 },
          { accountId: await systemAccount(portal, 'system:adjustments'), amount: -300 },
        ],
      })
    ).transactionId;
    portal.clock.advance(60_000);
    known.usageId = (
      await portal.ledger.post({
        idempotencyKey: 'print-1',
        kind: 'usage',
        description: 'Impression 3 pages',
        lines: [
          { accountId: account, amount: -150 },
          { accountId: await systemAccount(portal, 'system:usage:print'), amount: 150 },
        ],
      })
    ).transactionId;
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  const frenchRows = () => [
    `2026-11-23 11:01:00;${known.topUpId};Recharge;camille;Camille Martin;22,00;${known.number};20,00;16,67;3,33;20,00;EUR;${known.paypalOrderId};${known.captureId};;${known.number};`,
    `2026-11-23 11:02:00;${known.refundTxId};Remboursement;camille;Camille Martin;-5,50;${known.number};-5,00;-4,17;-0,83;20,00;EUR;${known.paypalOrderId};${known.captureId};${known.refundId};${known.number} refund;`,
    `2026-11-23 11:03:00;${known.adjustmentId};Ajustement manuel;camille;Camille Martin;3,00;;;;;;;;;;"Geste commercial; panne ""imprimante""";gestion`,
    `2026-11-23 11:04:00;${known.usageId};Impression;camille;Camille Martin;-1,50;;;;;;;;;;Impression 3 pages;`,
  ];

  describe('the transactions export', () => {
    it('streams a CSV for Excel in French: BOM, translated header, ";" and decimal commas, one row per transaction', async () => {
      const before = await auditCount(portal);
      const response = await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-23')).expect(200);
      expect(response.headers['content-type']).to.equal('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).to.equal('attachment; filename="recharge-transactions-2026-11-23-2026-11-23.csv"');
      expect(response.headers['transfer-encoding']).to.equal('chunked');
      expect(response.body).to.equal(`${BOM}${[FRENCH_HEADER, ...frenchRows()].join('\r\n')}\r\n`);
      // Who exported what is in the audit log.
      expect(await auditCount(portal)).to.equal(before + 1);
      const entry = await portal.db.knex('audit_log').orderBy('id', 'desc').first();
      expect(entry).to.include({ actor_username: 'gestion', action: 'reports.export', target: '2026-11-23/2026-11-23' });
      expect(JSON.parse(entry.after_json)).to.deep.equal({ from: '2026-11-23', to: '2026-11-23' });
    });

    it('uses commas and decimal points, and English words, for an English reader', async () => {
      const response = await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-01&to=2026-11-30').set('Accept-Language', 'en')).expect(200);
      const [header, topUp, refund, adjustment, usage, ...rest] = (response.body as string).split('\r\n');
      expect(header).to.equal(`${BOM}${ENGLISH_HEADER}`);
      expect(topUp).to.equal(
        `2026-11-23 11:01:00,${known.topUpId},Top-up,camille,Camille Martin,22.00,${known.number},20.00,16.67,3.33,20.00,EUR,${known.paypalOrderId},${known.captureId},,${known.number},`,
      );
      expect(refund).to.equal(
        `2026-11-23 11:02:00,${known.refundTxId},Refund,camille,Camille Martin,-5.50,${known.number},-5.00,-4.17,-0.83,20.00,EUR,${known.paypalOrderId},${known.captureId},${known.refundId},${known.number} refund,`,
      );
      expect(adjustment).to.equal(`2026-11-23 11:03:00,${known.adjustmentId},Manual adjustment,camille,Camille Martin,3.00,,,,,,,,,,"Geste commercial; panne ""imprimante""",gestion`);
      expect(usage).to.equal(`2026-11-23 11:04:00,${known.usageId},Print,camille,Camille Martin,-1.50,,,,,,,,,,Impression 3 pages,`);
      expect(rest).to.deep.equal(['']);
    });

    it('exports the current month up to today when no range is given', async () => {
      const response = await asText(agent.get('/admin/reports/transactions.csv')).expect(200);
      expect(response.headers['content-disposition']).to.equal('attachment; filename="recharge-transactions-2026-11-01-2026-11-23.csv"');
      expect(response.body).to.equal(`${BOM}${[FRENCH_HEADER, ...frenchRows()].join('\r\n')}\r\n`);
    });

    it('writes names and descriptions that start like formulas as text', async () => {
      const mallory = await portal.addUser('mallory', PASSWORD, { displayName: '=HYPERLINK("http://evil.example","clic")' });
      const account = (await portal.ledger.userAccount(mallory.id)).id;
      const adjustments = await systemAccount(portal, 'system:adjustments');
      const descriptions = ['+33 6 12 34 56 78', '-2+3', '@SUM(A1:A9)', '\tcmd', '\rcmd', '=1+1', 'two\nlines'];
      for (const [index, description] of descriptions.entries()) {
        await portal.ledger.post({ idempotencyKey: `formula-${index}`, kind: 'adjustment', description, createdBy: admin.id, lines: [{ accountId: account, amount: 100 }, { accountId: adjustments, amount: -100 }] });
      }
      const response = await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-23')).expect(200);
      const rows = (response.body as string).split('\r\n').filter((line) => line.includes(';mallory;'));
      expect(rows.map((line) => line.split(';').slice(4, 6))).to.deep.equal(descriptions.map(() => [`"'=HYPERLINK(""http://evil.example"",""clic"")"`, '1,00']));
      expect(rows.map((line) => line.split(';').slice(15).join(';'))).to.deep.equal([
        "'+33 6 12 34 56 78;gestion",
        "'-2+3;gestion",
        "'@SUM(A1:A9);gestion",
        "'\tcmd;gestion",
        `"'\rcmd";gestion`,
        "'=1+1;gestion",
        '"two\nlines";gestion',
      ]);
    });

    it('names the admin who asked PayPal for a refund from the orders page', async () => {
      const order = await portal.db.knex('orders').first('id');
      await portal.db.knex('admin_refund_requests').insert({
        request_id: 'refund-form-nonce',
        order_id: order.id,
        status: 'refunded',
        refund_id: known.refundId,
        amount_cents: 500,
        units_reserved: 550,
        reason: 'Double paiement',
        requested_by: admin.id,
        created_at: portal.clock.now().toISOString(),
        updated_at: portal.clock.now().toISOString(),
      });
      const response = await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-23')).expect(200);
      const refundRow = (response.body as string).split('\r\n').find((line) => line.includes(`;${known.refundId};`));
      expect(refundRow).to.equal(frenchRows()[1]!.replace(/;$/, ';gestion'));
    });
  });

  describe('the top-ups chart', () => {
    it('serves an SVG with a bar per day, sized by the amount paid, with an accessible title and summary', async () => {
      const response = await asText(agent.get('/admin/reports/top-ups.svg?from=2026-11-20&to=2026-11-26')).expect(200);
      expect(response.headers['content-type']).to.equal('image/svg+xml; charset=utf-8');
      const svg = plainSpaces(response.body as string);
      const bars = [...svg.matchAll(/<rect class="chart__bar" [^>]*height="([^"]+)"[^>]*><title>([^<]*)<\/title>/g)].map((match) => [Number(match[1]), match[2]]);
      expect(bars).to.have.length(7);
      expect(bars.map(([height]) => (height as number) > 0)).to.deep.equal([false, false, false, true, false, false, false]);
      expect(bars[3]![1]).to.equal('23 nov. 2026 : 1 recharge, 20,00 €');
      expect(svg).to.match(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* role="img" aria-labelledby="chart-eur-title chart-eur-desc"/);
      expect(svg).to.include('<title id="chart-eur-title">Recharges payées par jour du 20 nov. 2026 au 26 nov. 2026 (EUR)</title>');
      expect(svg).to.include('<desc id="chart-eur-desc">1 recharge payée pour 20,00 € au total. Jour le plus fort : 23 nov. 2026, 20,00 €.</desc>');
      expect(svg).to.include('>20,00 €</text>');
      expect(svg).not.to.match(/style=|<script/);
    });

    it('speaks English to an English reader and draws flat bars for a range with nothing paid', async () => {
      const svg = plainSpaces((await asText(agent.get('/admin/reports/top-ups.svg?from=2026-10-01&to=2026-10-31').set('Accept-Language', 'en')).expect(200)).body as string);
      expect(svg.match(/<rect class="chart__bar" [^>]*height="0"/g)).to.have.length(31);
      expect(svg).to.include('<desc id="chart-eur-desc">0 top-ups paid, €0.00 in all.</desc>');
      expect(svg).not.to.match(/NaN|Infinity/);
      const swiss = plainSpaces((await asText(agent.get('/admin/reports/top-ups.svg?from=2026-11-23&to=2026-11-23&currency=CHF')).expect(200)).body as string);
      expect(swiss).to.include('<desc id="chart-chf-desc">0 recharge payée pour 0,00 CHF au total.</desc>');
    });

    it('shows the chart on the reports page, with the same figures in a table', async () => {
      const page = await agent.get('/admin/reports?from=2026-11-22&to=2026-11-24').expect(200);
      const html = plainSpaces(page.text);
      expect(html).to.include('<svg xmlns="http://www.w3.org/2000/svg" class="chart"');
      expect(html.match(/<rect class="chart__bar"/g)).to.have.length(3);
      const rows = [...html.matchAll(/<tr>\s*<th scope="row">(?:<time datetime="([\d-]+)">)?([^<]*)(?:<\/time>)?<\/th>\s*<td class="number">(\d+)<\/td>\s*<td class="number">([^<]*)<\/td>/g)].map((match) => match.slice(1));
      expect(rows).to.deep.equal([
        ['2026-11-22', '22 nov. 2026', '0', '0,00 €'],
        ['2026-11-23', '23 nov. 2026', '1', '20,00 €'],
        ['2026-11-24', '24 nov. 2026', '0', '0,00 €'],
        [undefined, 'Total', '1', '20,00 €'],
      ]);
      expect(html).to.include('href="/admin/reports/top-ups.svg?from=2026-11-22&amp;to=2026-11-24&amp;currency=EUR"');
      expect(html).to.include('formaction="/admin/reports/transactions.csv"');
    });

    it('offers the current month up to today by default', async () => {
      const page = await agent.get('/admin/reports').expect(200);
      expect(page.text).to.match(/name="from" value="2026-11-01"/);
      expect(page.text).to.match(/name="to" value="2026-11-23"/);
      expect(page.text.match(/<rect class="chart__bar"/g)).to.have.length(23);
    });
  });

  describe('bad ranges', () => {
    const CASES: Array<[string, string, string, RegExp]> = [
      ['a day that does not exist', 'from=2026-02-30&to=2026-03-01', 'from', /Saisissez un jour qui existe, au format AAAA-MM-JJ\./],
      ['a day in another format', 'from=01/11/2026&to=2026-11-23', 'from', /Saisissez un jour qui existe/],
      ['an empty day', 'from=2026-11-01&to=', 'to', /Saisissez un jour qui existe/],
      ['a day at the end of the calendar', 'from=9999-12-01&to=9999-12-31', 'from', /Saisissez un jour qui existe/],
      ['a repeated parameter', 'from=2026-11-01&from=2026-11-02&to=2026-11-23', 'from', /Saisissez un jour qui existe/],
      ['an end before the start', 'from=2026-11-23&to=2026-11-22', 'to', /Le dernier jour doit être le premier jour ou un jour après\./],
      ['more than 366 days', 'from=2025-01-01&to=2026-01-02', 'to', /La période ne peut pas dépasser 366 jours\./],
    ];
    for (const path of ['/admin/reports', '/admin/reports/transactions.csv', '/admin/reports/top-ups.svg']) {
      for (const [name, query, field, message] of CASES) {
        it(`answers 400 with the reports page to ${name} on ${path}, and exports nothing`, async () => {
          const before = await auditCount(portal);
          const response = await agent.get(`${path}?${query}`).expect(400);
          expect(response.headers['content-type']).to.match(/^text\/html/);
          expect(response.text).to.include('<h1>Rapports</h1>');
          expect(response.text).to.match(message);
          expect(response.text).to.include(`id="range-${field}-error"`);
          expect(response.text).to.match(new RegExp(`name="${field}"[^>]*aria-describedby="range-hint range-${field}-error"[^>]* aria-invalid="true"`));
          expect(response.text).not.to.include('<svg');
          expect(await auditCount(portal)).to.equal(before);
        });
      }
    }

    it('says it in English to an English reader, and keeps what was typed', async () => {
      const response = await agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-2').set('Accept-Language', 'en').expect(400);
      expect(response.text).to.include('<h1>Reports</h1>');
      expect(response.text).to.include('Enter a day that exists, as YYYY-MM-DD.');
      expect(response.text).to.include('value="2026-11-2"');
      const tooLong = await agent.get('/admin/reports?from=2024-01-01&to=2025-01-01').set('Accept-Language', 'en').expect(400);
      expect(tooLong.text).to.include('The period cannot be longer than 366 days.');
    });

    it('accepts a whole leap year, and refuses a currency that is not a code', async () => {
      await agent.get('/admin/reports?from=2024-01-01&to=2024-12-31').expect(200);
      const response = await agent.get('/admin/reports/top-ups.svg?from=2026-11-01&to=2026-11-02&currency=eur%22').expect(400);
      expect(response.headers['content-type']).to.match(/^text\/html/);
    });
  });

  // Last: it moves the clock a week on.
  describe('the range boundaries', () => {
    it('leaves out what happened outside the range, on the portal clock (Paris), and people-free postings', async () => {
      const account = (await portal.ledger.userAccount(camille.id)).id;
      const print = await systemAccount(portal, 'system:usage:print');
      const bonuses = await systemAccount(portal, 'system:bonuses');
      const post = (key: string, lines: Array<{ accountId: number; amount: number }>) => portal.ledger.post({ idempotencyKey: key, kind: 'usage', description: key, lines });
      portal.clock.advance(Date.parse('2026-11-30T22:59:59Z') - portal.clock.now().getTime()); // 23:59:59 on the 30th in Paris
      await post('last-second-of-november', [{ accountId: account, amount: -10 }, { accountId: print, amount: 10 }]);
      await post('between-system-accounts', [{ accountId: bonuses, amount: -10 }, { accountId: print, amount: 10 }]);
      portal.clock.advance(1000); // midnight, 1 December in Paris
      await post('first-second-of-december', [{ accountId: account, amount: -10 }, { accountId: print, amount: 10 }]);
      await logIn(agent, 'gestion', 'admin-password'); // a week later: the earlier session has timed out

      const november = (await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-30&to=2026-11-30')).expect(200)).body as string;
      expect(november.split('\r\n').slice(1)).to.deep.equal([
        `2026-11-30 23:59:59;${await idOf(portal, 'last-second-of-november')};Impression;camille;Camille Martin;-0,10;;;;;;;;;;last-second-of-november;`,
        '',
      ]);
      const december = (await asText(agent.get('/admin/reports/transactions.csv?from=2026-12-01&to=2026-12-01')).expect(200)).body as string;
      expect(december.split('\r\n').slice(1, 2)[0]).to.match(/^2026-12-01 00:00:00;\d+;Impression;camille;/);
    });
  });
});

async function idOf(portal: TestPortal, key: string): Promise<number> {
  return Number((await portal.db.knex('ledger_transactions').where('idempotency_key', key).first('id')).id);
}

describe(`administration: a large transactions export (${testDialect})`, function () {
  this.timeout(60_000);
  let portal: TestPortal;
  const COUNT = 3000;

  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    const person = await portal.addUser('camille', PASSWORD);
    const account = (await portal.ledger.userAccount(person.id)).id;
    const print = await systemAccount(portal, 'system:usage:print');
    // Thousands of credits written straight into the ledger (posting them one by one would only be slower),
    // all at the same instant so that pages split inside a run of equal timestamps.
    await portal.db.transaction(async (trx) => {
      const at = portal.clock.now().toISOString();
      for (let start = 0; start < COUNT; start += 100) {
        const batch = Array.from({ length: Math.min(100, COUNT - start) }, (_, index) => start + index);
        const ids = (await trx('ledger_transactions')
          .insert(batch.map((index) => ({ idempotency_key: `bulk-${index}`, kind: 'usage', description: `bulk ${index}`, created_at: at })))
          .returning('id')) as Array<{ id: number } | number>;
        const transactionIds = ids.map((row) => Number(typeof row === 'object' ? row.id : row));
        await trx('ledger_entries').insert(
          batch.flatMap((index, position) => [
            { transaction_id: transactionIds[position], account_id: account, amount: 100, balance_after: (index + 1) * 100 },
            { transaction_id: transactionIds[position], account_id: print, amount: -100, balance_after: -(index + 1) * 100 },
          ]),
        );
      }
      // What posting keeps beside the entries: the person's activity (the history's counts and usage).
      const lines: PostedLine[] = [
        { accountId: account, amount: 100, accountKind: 'user', accountCode: userAccountCode(person.id) },
        { accountId: print, amount: -100, accountKind: 'system', accountCode: 'system:usage:print' },
      ];
      await recordActivity(trx, mergeActivity(Array.from({ length: COUNT }, () => activityOf({ createdAt: new Date(at), reversedCreatedAt: null, lines })).flat()));
      await trx('accounts').where('id', account).update({ balance: COUNT * 100 });
      await trx('accounts').where('id', print).update({ balance: -COUNT * 100 });
    });
  });
  after(() => portal.cleanup());

  it('streams every transaction once, in order, in a chunked response', async () => {
    await expectLedgerConsistent(portal.db);
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'gestion', 'admin-password');
    const response = await asText(agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-23').set('Accept-Language', 'en')).expect(200);
    expect(response.headers['transfer-encoding']).to.equal('chunked');
    expect(response.headers['content-length']).to.equal(undefined);
    const rows = (response.body as string).split('\r\n').slice(1, -1);
    expect(rows).to.have.length(COUNT);
    expect(rows.map((row) => row.split(',')[15])).to.deep.equal(Array.from({ length: COUNT }, (_, index) => `bulk ${index}`));
    const ids = rows.map((row) => Number(row.split(',')[1]));
    expect(new Set(ids).size).to.equal(COUNT);
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
  });
});
