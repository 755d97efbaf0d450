import { expect } from 'chai';
import { strFromU8, unzipSync } from 'fflate';
import pino from 'pino';
import supertest from 'supertest';
import { retentionJobDeps } from '../../src/cli/retention.js';
import { insertPeopleImport } from '../../src/db/people/people-import-repository.js';
import { anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { createRetentionJob } from '../../src/services/retention/retention-job.js';
import { testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { checkPaymentsSettled, payQuote } from '../helpers/quote-payments.js';
import { sentQuote } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const DAY_MS = 24 * 3600_000;
const EMAIL = 'camille.martin@example.edu';

/** Findings of the retention review about a person's data: what the download leaves out, what anonymising leaves behind. */
describe(`retention review: a person's data in quotes and imports (${testDialect})`, function () {
  let portal: TestPortal;
  let termsId: number;
  let desk: Agent;
  let camille: Agent;
  let camilleId: number;

  const knex = () => portal.db.knex;
  const cli = { id: null, username: 'cli:review' };

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example', DOCUMENT_DOWNLOADS_PER_MINUTE: '1000' });
    termsId = await publishOffers(portal);
    await portal.addUser('accueil', 'desk-password');
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    camilleId = (await portal.addUser('camille', 'a good long password', { email: EMAIL })).id;
    desk = supertest.agent(portal.app);
    camille = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', 'desk-password')).status).to.equal(303);
    expect((await logIn(camille, 'camille', 'a good long password')).status).to.equal(303);
  });
  afterEach(() => checkPaymentsSettled(portal));
  after(() => portal.cleanup());

  it('puts in the download the documents of the quotes made out to the person: the quote sent, the receipt of its payment', async () => {
    const number = await sentQuote(portal, desk, { username: 'camille' });
    await payQuote(portal, number, termsId);
    const quoteId = (await knex()('quotes').where('number', number).first('id')).id as number;
    const expected = (await knex()('documents')
      .leftJoin('orders', 'orders.id', 'documents.order_id')
      .where('documents.quote_id', quoteId)
      .orWhere('orders.quote_id', quoteId)
      .orderBy('documents.id')
      .pluck('documents.number')) as string[];
    expect(expected, 'the quote and its receipt').to.have.length(2);

    const files = unzipSync(new Uint8Array((await download(camille, '/account/data/download').expect(200)).body as Buffer));
    const quotes = JSON.parse(strFromU8(files['quotes.json']!)) as Array<{ number: string }>;
    expect(quotes.map((quote) => quote.number)).to.deep.equal([number]);
    const documents = JSON.parse(strFromU8(files['documents.json']!)) as Array<{ number: string }>;
    expect(documents.map((document) => document.number)).to.include.members(expected);
  });

  /** Camille closed and anonymised, and every retention period past. */
  async function anonymisedLongAgo() {
    await closeAccount({ db: portal.db, clock: portal.clock }, 'camille', cli);
    await anonymiseAccount({ db: portal.db, clock: portal.clock }, 'camille', cli);
    portal.clock.advance(400 * DAY_MS);
    await createRetentionJob(retentionJobDeps(portal.config, portal.db, portal.clock, pino({ level: 'silent' }))).run();
  }

  it('leaves nothing naming the person in the people imports once anonymised and past every period', async () => {
    const { id: adminId } = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await insertPeopleImport(knex(), { fileName: 'rentree.csv', people: [{ line: 2, username: 'camille', displayName: 'Camille Martin', email: EMAIL, role: 'user', openingBalance: 0 as never }], totalUnits: 0, checkedBy: adminId }, portal.clock.now());
    await anonymisedLongAgo();
    // Decided: the import files go after their own period (RETENTION_PEOPLE_IMPORTS_DAYS), whoever they name.
    const imports = await knex()('people_imports').pluck('people_json');
    expect(imports, 'the people imports past their period').to.deep.equal([]);
  });

  it('leaves nothing naming the person in the quotes made out to their account once anonymised', async () => {
    const quotes = await knex()('quotes').where('user_id', camilleId).select('customer_name', 'customer_email', 'delivery_address', 'search_text');
    expect(quotes, 'the previous tests left camille anonymised, with a quote').to.have.length.at.least(1);
    expect(JSON.stringify(quotes), 'the quotes made out to the anonymised account').to.not.include(EMAIL).and.not.include('Camille Martin');
  });
});
