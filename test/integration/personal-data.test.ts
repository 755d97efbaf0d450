import { expect } from 'chai';
import { strFromU8, unzipSync } from 'fflate';
import supertest from 'supertest';
import { getAccountByCode, postTransaction } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { download } from '../helpers/downloads.js';
import { testDialect } from '../helpers/database.js';
import { BUYER_PASSWORD, orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';

describe(`personal data download (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), { DATA_EXPORTS_PER_HOUR: '3' });

  const unzip = (body: Buffer) => unzipSync(new Uint8Array(body));
  const jsonIn = (files: Record<string, Uint8Array>, name: string) => JSON.parse(strFromU8(files[name]!)) as unknown;

  it('explains the download on a page of its own, for signed-in people only', async () => {
    const page = await shop.agent.get('/account/data').expect(200);
    expect(page.headers['cache-control']).to.equal('no-store');
    expect(page.text).to.include('href="/account/data/download"').and.include('Télécharger mes données');
    const visitor = await supertest(shop.portal.app).get('/account/data/download');
    expect(visitor.status).to.equal(303);
  });

  it('holds the profile, sign-ins, orders, ledger history, documents with their PDFs, and nothing of anyone else', async () => {
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await shop.agent.get(pathOf(shop.portal.simulator.approve(paypalOrderId))).expect(303);
    await shop.portal.simulator.flushWebhooks();
    // The receipt's PDF is stored once rendered, at its first download.
    const receipt = (await shop.portal.db.knex('documents').where('kind', 'receipt').first('number')) as { number: string };
    await download(shop.agent, `/documents/${receipt.number}.pdf`).expect(200);
    await shop.portal.addUser('dominique', BUYER_PASSWORD, { email: 'dominique@example.edu' });

    const response = await download(shop.agent, '/account/data/download').expect(200);
    expect(response.headers['content-type']).to.equal('application/zip');
    expect(response.headers['cache-control']).to.equal('no-store');
    expect(response.headers['content-disposition']).to.match(/^attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.zip"$/);
    const files = unzip(response.body as Buffer);

    const profile = jsonIn(files, 'profile.json') as { profile: Record<string, unknown> };
    expect(profile.profile).to.include({ username: 'camille', email: 'camille@example.edu' });
    expect(profile.profile).to.not.have.property('password_hash');
    expect((jsonIn(files, 'sign-ins.json') as unknown[]).length).to.be.at.least(1);
    const orders = jsonIn(files, 'orders.json') as Array<Record<string, unknown>>;
    expect(orders.map((order) => order.status)).to.deep.equal(['paid']);
    expect(`R-2026-${String(orders[0]!.id).padStart(6, '0')}`).to.equal(number);
    const ledger = jsonIn(files, 'ledger-history.json') as Array<Record<string, unknown>>;
    const balance = (await shop.portal.ledger.userAccount(shop.camille.id)).balance;
    expect(ledger.map((entry) => [entry.kind, Number(entry.amount), Number(entry.balance_after)])).to.deep.equal([['top_up', balance, balance]]);
    const documents = jsonIn(files, 'documents.json') as Array<Record<string, unknown>>;
    expect(documents).to.have.length(1);
    const stored = (await shop.portal.db.knex('document_files').where('document_id', documents[0]!.id as number).first('pdf', 'locale')) as { pdf: Buffer; locale: string };
    const pdf = files[`documents/${String(documents[0]!.number)}-${stored.locale}.pdf`];
    expect(Buffer.from(pdf!).equals(Buffer.from(stored.pdf))).to.equal(true);
    expect(jsonIn(files, 'quotes.json')).to.deep.equal([]);
    expect(jsonIn(files, 'bought-codes.json')).to.deep.equal({ buyer: null, purchases: [] });
    const everything = Object.values(files).map((bytes) => Buffer.from(bytes).toString('latin1')).join('\n');
    expect(everything).to.not.include('dominique');
  });

  it('holds the low-balance alert and the requests for a refund of unused credit, with their parts', async () => {
    const { paypalOrderId } = await orderSentToPayPal(shop);
    await shop.agent.get(pathOf(shop.portal.simulator.approve(paypalOrderId))).expect(303);
    await shop.portal.simulator.flushWebhooks();
    const alertPage = await shop.agent.get('/account/low-balance-alert').expect(200);
    await shop.agent.post('/account/low-balance-alert').type('form').send({ _csrf: csrfTokenFrom(alertPage.text), threshold: '2,50' }).expect(303);
    const refundPage = await shop.agent.get('/account/refund').expect(200);
    await shop.agent.post('/account/refund').type('form').send({ _csrf: csrfTokenFrom(refundPage.text) }).expect(303);

    const files = unzip((await download(shop.agent, '/account/data/download').expect(200)).body as Buffer);
    const profile = jsonIn(files, 'profile.json') as { lowBalanceAlert: Record<string, unknown> | null };
    expect(Number(profile.lowBalanceAlert?.threshold)).to.equal(250);
    const requests = jsonIn(files, 'credit-refund-requests.json') as Array<{ status: string; parts: unknown[] }>;
    expect(requests.map((request) => request.status)).to.deep.equal(['requested']);
    expect(requests[0]!.parts).to.deep.equal([]);
  });

  it('writes a long history whole, page after page of the ledger, in order', async () => {
    const lou = await shop.portal.addUser('lou', BUYER_PASSWORD);
    const entries = 2_050;
    await shop.portal.db.transaction(async (trx) => {
      const adjustments = await getAccountByCode(trx, SystemAccount.adjustments);
      const own = await getAccountByCode(trx, `user:${lou.id}`);
      for (let index = 0; index < entries; index += 1) {
        const amount = index % 3 === 2 ? -100 : 100;
        await postTransaction(trx, { idempotencyKey: `test:history:${index}`, kind: 'adjustment', lines: [{ accountId: own.id, amount }, { accountId: adjustments.id, amount: -amount }], allowOverdraft: true }, shop.portal.clock.now());
      }
    });
    const agent = supertest.agent(shop.portal.app);
    await logIn(agent, 'lou', BUYER_PASSWORD);
    const files = unzip((await download(agent, '/account/data/download').expect(200)).body as Buffer);
    const ledger = jsonIn(files, 'ledger-history.json') as Array<Record<string, unknown>>;
    expect(ledger).to.have.length(entries);
    const ids = ledger.map((entry) => Number(entry.id));
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).to.equal(entries);
    expect(Number(ledger.at(-1)!.balance_after)).to.equal((await shop.portal.ledger.userAccount(lou.id)).balance);
  });

  it('is limited per person, with Retry-After', async () => {
    const agent = supertest.agent(shop.portal.app);
    await shop.portal.addUser('eloise', BUYER_PASSWORD);
    await logIn(agent, 'eloise', BUYER_PASSWORD);
    for (let download = 0; download < 3; download += 1) await agent.get('/account/data/download').expect(200);
    const refused = await agent.get('/account/data/download').expect(429);
    expect(Number(refused.headers['retry-after'])).to.be.greaterThan(0);
  });
});
