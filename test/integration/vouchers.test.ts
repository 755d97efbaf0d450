import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { addDays, dayOf } from '../../src/domain/time/calendar.js';
import { VOUCHER_ALPHABET } from '../../src/domain/vouchers/voucher-codes.js';
import { createVoucherRedemption } from '../../src/services/vouchers/voucher-redemption.js';
import { countStatements } from '../helpers/statements.js';
import { readPdf } from '../helpers/pdf-text.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const LIST = '/admin/vouchers';
const REDEEM = '/topup/voucher';
const CODE = new RegExp(`^[${VOUCHER_ALPHABET}]{4}(-[${VOUCHER_ALPHABET}]{4}){3}$`);
const DAY_MS = 86_400_000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&amp;/g, '&');

describe(`top-up codes (${testDialect})`, function () {
  this.timeout(120_000);
  let portal: TestPortal;
  let admin: Agent;
  let students: Array<{ user: User; agent: Agent }>;
  /** Each test's requests come from an address of its own, so that limits reached in one do not refuse another's. */
  let address = 0;
  let ip = '';

  const knex = () => portal.db.knex;
  const today = () => dayOf(portal.clock.now(), portal.config.i18n.timeZone);
  const tokenOf = async (agent: Agent, path = '/topup') => csrfTokenFrom((await agent.get(path).set('X-Forwarded-For', ip).expect(200)).text);
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };
  const balanceOf = async (user: User) => (await portal.ledger.userAccount(user.id)).balance;
  /** Moves the clock on, and signs everyone in again (their sessions timed out meanwhile). */
  const later = async (ms: number) => {
    portal.clock.advance(ms);
    admin = await loggedInAs('gestion', 'admin-password');
    for (const [index, student] of students.entries()) student.agent = await loggedInAs(`etudiant${index}`, 'student-password');
  };

  /** POSTs the generation form; the body kept as bytes. */
  const generateWith = (token: string, fields: Record<string, string>, language = 'fr') =>
    admin
      .post(LIST)
      .set('Accept-Language', language)
      .type('form')
      .send({ _csrf: token, ...fields })
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });
  const generate = async (fields: Record<string, string>, language = 'fr') => generateWith(await tokenOf(admin, LIST), fields, language);
  /** A batch made through the form as CSV: its id and its codes as handed over. */
  const batchOf = async ({ count = 3, value = '12,50', expiresOn = addDays(today(), 30), name = '' }: { count?: number; value?: string; expiresOn?: string; name?: string } = {}) => {
    const response = await generate({ name: name || `Lot ${count}`, count: String(count), value, expiresOn, format: 'csv' });
    expect(response.status, String(response.body).slice(0, 300)).to.equal(201);
    const lines = (response.body as Buffer).toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
    const codes = lines.slice(1).map((line) => line.split(';')[0]!);
    const id = Number(/vouchers-(\d+)\.csv/.exec(String(response.headers['content-disposition']))![1]);
    return { id, codes, lines, response };
  };
  const redeem = async (agent: Agent, code: unknown, language = 'fr') =>
    agent.post(REDEEM).set('Accept-Language', language).set('X-Forwarded-For', ip).type('form').send({ _csrf: await tokenOf(agent), code });
  const state = async () => ({
    batches: await knex()('voucher_batches').orderBy('id').select(),
    codes: await knex()('voucher_codes').count({ count: '*' }).first(),
    ledger: await knex()('ledger_transactions').count({ count: '*' }).first(),
    audit: await knex()('audit_log').count({ count: '*' }).first(),
  });

  before(async () => {
    portal = await createTestPortal({ TRUST_PROXY: 'true' });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    admin = await loggedInAs('gestion', 'admin-password');
    students = [];
    for (let index = 0; index < 16; index += 1) {
      const user = await portal.addUser(`etudiant${index}`, 'student-password');
      students.push({ user, agent: await loggedInAs(`etudiant${index}`, 'student-password') });
    }
  });
  beforeEach(() => {
    address += 1;
    ip = `198.51.100.${address}`;
  });
  afterEach(async () => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('lets only admins in: 403 for a person, the login page for a visitor, and nothing created', async () => {
    const before = await state();
    const student = students[0]!.agent;
    const token = await tokenOf(student);
    expect((await student.get(LIST)).status).to.equal(403);
    expect((await student.post(LIST).type('form').send({ _csrf: token, name: 'Intrus', count: '5', value: '10', expiresOn: addDays(today(), 5), format: 'csv' })).status).to.equal(403);
    expect((await student.get(`${LIST}/1`)).status).to.equal(403);
    expect((await student.post(`${LIST}/1/void`).type('form').send({ _csrf: token })).status).to.equal(403);
    const visitor = await supertest(portal.app).get(LIST);
    expect(visitor.status).to.equal(303);
    expect(visitor.headers.location).to.equal('/login');
    expect((await supertest(portal.app).post(REDEEM).type('form').send({ code: 'x' })).status).to.be.oneOf([303, 403]);
    expect(await state()).to.deep.equal(before);
  });

  it('shows the generation form, says the codes are handed over once, in French and English', async () => {
    const page = readable((await admin.get(LIST).expect(200)).text);
    expect(page).to.include('<h1>Codes de rechargement</h1>').and.include('ne pourra plus les afficher');
    expect(page).to.match(/<a href="\/admin\/vouchers" aria-current="page">Codes de rechargement<\/a>/);
    const english = readable((await admin.get(LIST).set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include('Top-up codes').and.include('cannot show them again').and.include('Generate and download the codes');
  });

  it('refuses a bad form with 400, every problem at once, and creates nothing', async () => {
    const before = await state();
    const response = await generate({ name: '', count: '10001', value: '12,345', expiresOn: addDays(today(), -1), format: 'zip' });
    expect(response.status).to.equal(400);
    const text = readable(String(response.body));
    expect(text).to.include('Le lot n\'a pas été généré').and.include('Donnez un nom au lot.').and.include('Un lot compte de 1 à 10\u202f000 codes.');
    expect(text).to.include('deux décimales au plus').and.include('Ce jour est déjà passé').and.include('Choisissez PDF ou CSV.');
    expect(await state()).to.deep.equal(before);
  });

  it('hands 10,000 codes over once as CSV, keeps only their SHA-256, audited, and lists them without reading the codes', async () => {
    const token = await tokenOf(admin, LIST);
    // Inserted in chunks: 20 INSERTs of 500 codes, plus the batch, its audit entry and the request's own reads.
    const generated = await countStatements(portal.db, async () => generateWith(token, { name: 'Rentrée 2027', count: '10000', value: '2,50', expiresOn: addDays(today(), 30), format: 'csv' }));
    expect(generated.sql.filter((sql) => /^insert into .voucher_codes./i.test(sql))).to.have.length(20);
    expect(generated.count).to.be.below(40);
    const response = generated.result;
    expect(response.status).to.equal(201);
    const lines = (response.body as Buffer).toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
    const codes = lines.slice(1).map((line) => line.split(';')[0]!);
    const id = Number(/vouchers-(\d+)\.csv/.exec(String(response.headers['content-disposition']))![1]);
    expect(response.headers['cache-control']).to.equal('no-store');
    expect(response.headers['content-type']).to.match(/^text\/csv/);
    expect(lines[0]).to.equal('Code;Unités;Valable jusqu\'au;Lot');
    expect(lines[1]!.split(';').slice(1)).to.deep.equal(['2,50', addDays(today(), 30), 'Rentrée 2027']);
    expect(codes).to.have.length(10_000);
    expect(new Set(codes).size).to.equal(10_000);
    for (const code of codes) expect(code).to.match(CODE);
    const stored = await knex()('voucher_codes').where('batch_id', id).pluck('code_sha256');
    expect(new Set(stored)).to.deep.equal(new Set(codes.map((code) => sha256(code.replace(/-/g, '')))));
    // The codes are nowhere in the database: not in the codes' table, the batch or the audit log.
    const dumped = JSON.stringify([await knex()('voucher_codes').where('batch_id', id).limit(50).select(), await knex()('voucher_batches').select(), await knex()('audit_log').select()]);
    for (const code of codes.slice(0, 50)) expect(dumped).not.to.include(code.replace(/-/g, '')).and.not.to.include(code);
    const audit = await knex()('audit_log').where('action', 'voucher.generate').orderBy('id', 'desc').first();
    expect(JSON.parse(String(audit.after_json))).to.deep.equal({ batchId: id, name: 'Rentrée 2027', count: 10_000, value: 250, expiresOn: addDays(today(), 30), format: 'csv' });

    // Reading the list and the batch's page costs the same with 10,000 codes as with one, and reads no code that was not redeemed.
    const small = await batchOf({ count: 1 });
    await redeem(students[1]!.agent, codes[0]);
    await redeem(students[1]!.agent, small.codes[0]);
    const measure = async (path: string) => {
      const rows: number[] = [];
      const record = (response: unknown) => rows.push(Array.isArray(response) ? response.length : 1);
      knex().on('query-response', record);
      try {
        const { result, count, sql } = await countStatements(portal.db, () => admin.get(path).expect(200));
        return { count, rows: Math.max(...rows), text: result.text, sql };
      } finally {
        knex().off('query-response', record);
      }
    };
    const large = await measure(`${LIST}/${id}`);
    const single = await measure(`${LIST}/${small.id}`);
    expect(large.count).to.equal(single.count);
    expect(large.rows, large.sql.join('\n')).to.be.at.most(50);
    expect(large.sql.filter((sql) => /voucher_codes/.test(sql) && /count\(/i.test(sql))).to.deep.equal([]);
    expect(readable(large.text)).to.include('data-report="generated">10000<').and.include('data-report="redeemed">1<').and.include('data-report="outstanding">9999<');
    const list = await measure(LIST);
    expect(list.sql.filter((sql) => /voucher_codes/.test(sql))).to.deep.equal([]);
    expect(readable(list.text)).to.include('Rentrée 2027');
    if (testDialect === 'sqlite') {
      // The redemptions' page is read through the index on (batch, redeemed_at, id): no scan of the batch's codes.
      const query = knex()('voucher_codes as c').join('users as u', 'u.id', 'c.redeemed_by').where('c.batch_id', id).whereNotNull('c.redeemed_at').orderBy('c.redeemed_at', 'desc').orderBy('c.id', 'desc').limit(50).toSQL().toNative();
      const plan = (await knex().raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.bindings] as Array<string | number>)) as Array<{ detail: string }>;
      const details = plan.map((step) => step.detail).join('\n');
      expect(details).to.match(/voucher_codes_batch_id_redeemed_at_id_index/);
      expect(details).not.to.match(/SCAN c\b(?! USING)/);
    }
  });

  it('hands the codes over as a PDF sheet of cards: every code, its value, last day and where to type it', async () => {
    const expiresOn = addDays(today(), 60);
    const response = await generate({ name: 'Accueil « master »', count: '30', value: '5', expiresOn, format: 'pdf' }, 'en');
    expect(response.status).to.equal(201);
    expect(response.headers['content-type']).to.equal('application/pdf');
    expect(response.headers['cache-control']).to.equal('no-store');
    const pdf = await readPdf(response.body as Buffer);
    expect(pdf.pages).to.equal(2);
    // Three cards a row: their codes share a line of the text.
    const codes = [...pdf.text.matchAll(new RegExp(CODE.source.slice(1, -1), 'g'))].map((match) => match[0]);
    expect(codes).to.have.length(30);
    expect(new Set(codes).size).to.equal(30);
    const batchId = Number(/vouchers-(\d+)\.pdf/.exec(String(response.headers['content-disposition']))![1]);
    const stored = await knex()('voucher_codes').where('batch_id', batchId).pluck('code_sha256');
    expect(new Set(stored)).to.deep.equal(new Set(codes.map((code) => sha256(code.replace(/-/g, '')))));
    expect(pdf.text.split('5.00 units')).to.have.length(31);
    expect(pdf.text).to.include('Accueil « master » — page 1 of 2').and.include(`To redeem on ${portal.config.server.publicUrl}/topup`);
    expect(pdf.text).to.match(/Valid until \w+ \d+, \d{4} inclusive/);
    // And the code redeems.
    const student = students[2]!;
    const before = await balanceOf(student.user);
    expect((await redeem(student.agent, codes[0], 'en')).status).to.equal(200);
    expect(await balanceOf(student.user)).to.equal(before + 500);
  });

  it('credits a code once, typed in lower case with spaces; the same person again and another person are told it was used', async () => {
    const { codes, id } = await batchOf({ count: 2, value: '12,50' });
    const [first, second] = [students[3]!, students[4]!];
    const before = await balanceOf(first.user);
    const typed = ` ${codes[0]!.toLowerCase().replace(/-/g, ' ')} `;
    const done = await redeem(first.agent, typed);
    expect(done.status).to.equal(200);
    expect(readable(done.text)).to.include('Votre compte a été crédité de 12,50 unités.');
    expect(await balanceOf(first.user)).to.equal(before + 1250);
    // A code redeemed is not a failure: the attempt was taken back.
    expect(await knex()('voucher_redemption_attempts').where('key', `person:${first.user.id}`).count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? '0' : 0 });
    const code = await knex()('voucher_codes').where('code_sha256', sha256(codes[0]!.replace(/-/g, ''))).first();
    const posting = await knex()('ledger_transactions').where('id', code.ledger_transaction_id).first();
    expect(posting).to.include({ idempotency_key: `voucher:${code.id}`, kind: 'voucher' });
    const lines = await knex()('ledger_entries as e').join('accounts as a', 'a.id', 'e.account_id').where('e.transaction_id', posting.id).orderBy('a.code').select('a.code', 'e.amount');
    expect(lines.map((line) => [line.code, Number(line.amount)])).to.deep.equal([
      ['system:vouchers', -1250],
      [`user:${first.user.id}`, 1250],
    ]);

    // The person's history names the operation and the batch.
    const history = readable((await first.agent.get('/account/history').expect(200)).text);
    expect(history).to.include('Code de rechargement').and.include('Lot 2');

    const again = await redeem(first.agent, codes[0]);
    expect(again.status).to.equal(409);
    expect(readable(again.text)).to.include('Vous avez déjà utilisé ce code le');
    const other = await redeem(second.agent, codes[0], 'en');
    expect(other.status).to.equal(409);
    expect(other.text).to.include('This code has already been used: nothing was credited.');
    expect(await balanceOf(first.user)).to.equal(before + 1250);
    const batch = await knex()('voucher_batches').where('id', id).first();
    expect([Number(batch.redeemed_count), Number(batch.redeemed_units)]).to.deep.equal([1, 1250]);
  });

  it('credits a code redeemed by many at once exactly once', async () => {
    const { codes, id } = await batchOf({ count: 1, value: '7' });
    const racers = students.slice(0, 10);
    const before = await Promise.all(racers.map(({ user }) => balanceOf(user)));
    const tokens = await Promise.all(racers.map(({ agent }) => tokenOf(agent)));
    // Twice each: two people and a double click at once.
    const answers = await Promise.all(
      [...racers, ...racers].map(({ agent }, index) => agent.post(REDEEM).set('X-Forwarded-For', ip).type('form').send({ _csrf: tokens[index % racers.length], code: codes[0] })),
    );
    expect(answers.filter((answer) => answer.status === 200)).to.have.length(1);
    expect(answers.filter((answer) => answer.status === 409)).to.have.length(19);
    const after = await Promise.all(racers.map(({ user }) => balanceOf(user)));
    expect(after.reduce((sum, balance, index) => sum + balance - before[index]!, 0)).to.equal(700);
    expect(await knex()('ledger_transactions').where('kind', 'voucher').where('idempotency_key', 'like', 'voucher:%').whereIn('idempotency_key', (await knex()('voucher_codes').where('batch_id', id).pluck('id')).map((code: number) => `voucher:${code}`)).pluck('id')).to.have.length(1);
    const batch = await knex()('voucher_batches').where('id', id).first();
    expect([Number(batch.redeemed_count), Number(batch.redeemed_units)]).to.deep.equal([1, 700]);
  });

  it('refuses an expired code after its last day (portal time zone), not on it', async () => {
    const { codes } = await batchOf({ count: 2, expiresOn: addDays(today(), 1) });
    const student = students[5]!;
    await later(DAY_MS);
    expect((await redeem(student.agent, codes[0])).status).to.equal(200);
    await later(2 * DAY_MS);
    const before = await balanceOf(student.user);
    const refused = await redeem(student.agent, codes[1]);
    expect(refused.status).to.equal(409);
    expect(readable(refused.text)).to.match(/Ce code a expiré après le \d+ \S+ \d{4} : rien n'a été crédité\./);
    expect(await balanceOf(student.user)).to.equal(before);
  });

  it('voids a batch: its unredeemed codes refused from then on, redeemed ones kept, reported, audited, once', async () => {
    const { id, codes } = await batchOf({ count: 3, value: '4' });
    const student = students[6]!;
    expect((await redeem(student.agent, codes[0])).status).to.equal(200);
    const voided = await admin.post(`${LIST}/${id}/void`).type('form').send({ _csrf: await tokenOf(admin, LIST) });
    expect(voided.status).to.equal(303);
    expect(voided.headers.location).to.equal(`${LIST}/${id}?notice=voided`);
    const before = await balanceOf(student.user);
    const refused = await redeem(student.agent, codes[1], 'en');
    expect(refused.status).to.equal(409);
    expect(refused.text).to.include('This code has been withdrawn');
    expect(await balanceOf(student.user)).to.equal(before);
    const page = readable((await admin.get(`${LIST}/${id}?notice=voided`).expect(200)).text);
    expect(page).to.include('Le lot est annulé').and.include('data-report="redeemed">1<').and.include('data-report="voided">2<').and.include('data-report="outstanding">0<');
    expect(page).not.to.include('/void"');
    const again = await admin.post(`${LIST}/${id}/void`).type('form').send({ _csrf: await tokenOf(admin, LIST) });
    expect(again.headers.location).to.equal(`${LIST}/${id}?notice=alreadyVoided`);
    expect(await knex()('audit_log').where('action', 'voucher.void').where('target', `Lot 3`).count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? '1' : 1 });
    expect((await admin.post(`${LIST}/999999/void`).type('form').send({ _csrf: await tokenOf(admin, LIST) })).status).to.equal(404);
  });

  it('voiding while codes are redeemed: every code either credited and counted, or refused', async () => {
    const { id, codes } = await batchOf({ count: 10, value: '1' });
    const racers = students.slice(0, 10);
    const before = await Promise.all(racers.map(({ user }) => balanceOf(user)));
    const tokens = await Promise.all(racers.map(({ agent }) => tokenOf(agent)));
    const adminToken = await tokenOf(admin, LIST);
    const [voided, ...answers] = await Promise.all([
      admin.post(`${LIST}/${id}/void`).type('form').send({ _csrf: adminToken }),
      ...racers.map(({ agent }, index) => agent.post(REDEEM).set('X-Forwarded-For', ip).type('form').send({ _csrf: tokens[index], code: codes[index] })),
    ]);
    expect(voided!.status).to.equal(303);
    const credited = answers.filter((answer) => answer.status === 200).length;
    expect(answers.every((answer) => answer.status === 200 || (answer.status === 409 && answer.text.includes('retiré')))).to.equal(true);
    const after = await Promise.all(racers.map(({ user }) => balanceOf(user)));
    expect(after.reduce((sum, balance, index) => sum + balance - before[index]!, 0)).to.equal(credited * 100);
    const batch = await knex()('voucher_batches').where('id', id).first();
    expect(Number(batch.redeemed_count)).to.equal(credited);
    expect(await knex()('voucher_codes').where('batch_id', id).whereNotNull('redeemed_at').count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? String(credited) : credited });
  });

  /**
   * A redemption that read the code unredeemed and its batch not voided, then meets a change committed
   * meanwhile by another transaction (held open here, so the interleaving is certain): on PostgreSQL the
   * guarded updates see the committed row and refuse; on SQLite the redemption waits for the writer and
   * reads the change first. Either way nothing is credited and the person is told why.
   */
  for (const [change, apply, reason] of [
    ['a void', (trx: Knex.Transaction, batchId: number, codeId: number) => trx('voucher_batches').where('id', batchId).update({ voided_at: new Date().toISOString(), voided_by: students[0]!.user.id }).then(() => codeId), 'voided'],
    ['another redemption', (trx: Knex.Transaction, _batchId: number, codeId: number) => trx('voucher_codes').where('id', codeId).update({ redeemed_at: new Date().toISOString(), redeemed_by: students[0]!.user.id }), 'used'],
  ] as const) {
    it(`refuses a redemption overtaken by ${change} committed while it ran`, async () => {
      const { id, codes } = await batchOf({ count: 1, value: '3' });
      const codeId = Number((await knex()('voucher_codes').where('batch_id', id).first('id')).id);
      const student = students[11]!;
      const before = await balanceOf(student.user);
      const redeem = createVoucherRedemption({ db: portal.db, clock: portal.clock, timeZone: portal.config.i18n.timeZone });
      const held = await knex().transaction();
      let result: Awaited<ReturnType<typeof redeem>> | undefined;
      try {
        await apply(held, id, codeId);
        const pending = redeem(student.user, codes[0], ip).then((answer) => (result = answer));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(result, 'the redemption waits for the other transaction').to.equal(undefined);
        await held.commit();
        await pending;
      } finally {
        if (!held.isCompleted()) await held.rollback();
      }
      expect(result).to.deep.include({ outcome: 'refused', reason });
      expect(await balanceOf(student.user)).to.equal(before);
      expect(Number((await knex()('voucher_batches').where('id', id).first('redeemed_count')).redeemed_count)).to.equal(0);
    });
  }

  it('limits wrong codes per person (10 an hour) and per address (30 an hour), right codes included, and says until when', async () => {
    const { codes } = await batchOf({ count: 2, value: '1' });
    // People who never failed before (the races above left failures on the first ten).
    const student = students[12]!;
    const wrong = 'ABCD-EFGH-JKLM-NPQR';
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await redeem(student.agent, wrong)).status).to.equal(400);
    const before = await balanceOf(student.user);
    const limited = await redeem(student.agent, codes[0]);
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers['retry-after'])).to.be.within(3500, 3600);
    expect(readable(limited.text)).to.include('Trop de codes erronés ont été essayés. Par sécurité, réessayez après');
    expect((await redeem(student.agent, codes[0], 'en')).text).to.include('Too many wrong codes were tried');
    expect(await balanceOf(student.user)).to.equal(before);
    // A malformed code is not looked up, nor counted.
    expect((await redeem(students[8]!.agent, 'pas un code')).status).to.equal(400);

    // From this address, other people: 30 failures in all, then everyone is refused.
    ip = `198.51.100.${(address += 1)}`;
    for (const [index, { agent }] of students.slice(13, 16).entries()) {
      for (let attempt = 0; attempt < 10; attempt += 1) expect((await redeem(agent, wrong)).status, `person ${index} attempt ${attempt}`).to.equal(400);
    }
    expect((await redeem(students[11]!.agent, codes[1])).status).to.equal(429);

    // An hour later the right code goes through (and the person's hour has gone too).
    await later(3_600_001);
    expect((await redeem(student.agent, codes[0])).status).to.equal(200);
    // Failures a day old are purged at the next attempt (at most once a minute).
    await later(DAY_MS + 60_001);
    await redeem(student.agent, wrong);
    expect(await knex()('voucher_redemption_attempts').where('attempted_at', '<', portal.clock.now().getTime() - DAY_MS).count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? '0' : 0 });
  });

  it('offers the code form on the top-up page with its CSRF token, and refuses a post without one', async () => {
    const student = students[9]!;
    const page = readable((await student.agent.get('/topup').expect(200)).text);
    expect(page).to.include('<form method="post" action="/topup/voucher"').and.include('Vous avez un code de rechargement ?');
    const form = page.slice(page.indexOf('action="/topup/voucher"'));
    expect(form).to.match(/name="_csrf" value="[^"]+"/);
    const { codes } = await batchOf({ count: 1 });
    const before = await balanceOf(student.user);
    expect((await student.agent.post(REDEEM).type('form').send({ code: codes[0] })).status).to.equal(403);
    expect(await balanceOf(student.user)).to.equal(before);
    expect((await student.agent.get(REDEEM)).headers.location).to.equal('/topup');
  });

  it('lets an admin send the generation form 10 times in 10 minutes, then answers 429 and generates nothing', async () => {
    await later(600_001);
    const token = await tokenOf(admin, LIST);
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await generateWith(token, { name: '' })).status, `attempt ${attempt}`).to.equal(400);
    const before = await state();
    const refused = await generateWith(token, { name: 'Un de trop', count: '5', value: '1', expiresOn: addDays(today(), 5), format: 'csv' });
    expect(refused.status).to.equal(429);
    expect(refused.headers['retry-after']).to.match(/^\d+$/);
    expect(await state()).to.deep.equal(before);
  });
});

describe(`top-up codes when credits go to PaperCut (${testDialect})`, function () {
  this.timeout(60_000);
  let portal: TestPortal;

  before(async () => {
    portal = await createTestPortal({}, { papercut: { users: { camille: 0 } } });
    await portal.addUser('camille', 'student-password');
    await portal.addUser('inconnu', 'student-password');
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
  });
  after(() => portal.cleanup());

  it('refuses a code to a person PaperCut does not know, leaving it unused, and queues the credit of one it knows', async () => {
    const signedIn = async (username: string, password: string) => {
      const agent = supertest.agent(portal.app);
      expect((await logIn(agent, username, password)).status).to.equal(303);
      return agent;
    };
    const admin = await signedIn('gestion', 'admin-password');
    const expiresOn = addDays(dayOf(portal.clock.now(), portal.config.i18n.timeZone), 10);
    const generated = await admin
      .post(LIST)
      .type('form')
      .send({ _csrf: csrfTokenFrom((await admin.get(LIST).expect(200)).text), name: 'Lot PaperCut', count: '1', value: '2', expiresOn, format: 'csv' })
      .expect(201);
    const code = String(generated.text).replace(/^\uFEFF/, '').trim().split('\r\n')[1]!.split(';')[0]!;
    const redeemAs = async (agent: Agent) => agent.post(REDEEM).type('form').send({ _csrf: csrfTokenFrom((await agent.get('/topup').expect(200)).text), code });

    const unknown = await redeemAs(await signedIn('inconnu', 'student-password'));
    expect(unknown.status).to.equal(409);
    expect(await portal.db.knex('voucher_codes').whereNotNull('redeemed_at').count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? '0' : 0 });
    expect(await portal.db.knex('voucher_redemption_attempts').count({ count: '*' }).first()).to.deep.include({ count: testDialect === 'postgres' ? '0' : 0 });

    expect((await redeemAs(await signedIn('camille', 'student-password'))).status).to.equal(200);
    const transfers = await portal.db.knex('credit_transfers as t').join('ledger_transactions as l', 'l.id', 't.ledger_transaction_id').select('l.kind', 't.amount', 't.state');
    expect(transfers.map((row) => [row.kind, Number(row.amount), row.state])).to.deep.equal([['voucher', 200, 'pending']]);
    await expectLedgerConsistent(portal.db);
  });
});
