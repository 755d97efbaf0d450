import { createHash } from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { addDays } from '../../src/domain/time/calendar.js';
import { readPdf } from '../helpers/pdf-text.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { publishOffers, restorePayments } from '../helpers/topup.js';
import { asBytes, BUY, codesOfCsv, PURCHASES, readable, voucherPurchaseSteps } from '../helpers/voucher-purchases.js';

type Agent = ReturnType<typeof supertest.agent>;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe(`top-up codes bought by a department (${testDialect})`, function () {
  this.timeout(120_000);
  let portal: TestPortal;
  let termsId: number;
  let admin: Agent;
  let secretary: { user: User; agent: Agent };
  let student: { user: User; agent: Agent };

  const { knex, today, tokenOf, signedIn, newBuyer, batchFields, postBuy, orderBatch, boughtBatch, handOver, handedOver, redeem, accountBalance } = voucherPurchaseSteps(
    () => ({ portal, termsId, admin }),
    { prefix: 'secretariat', defaults: { count: '20' } },
  );
  const state = async () => ({
    orders: await knex()('orders').count({ count: '*' }).first(),
    purchases: await knex()('voucher_purchases').count({ count: '*' }).first(),
    batches: await knex()('voucher_batches').count({ count: '*' }).first(),
    codes: await knex()('voucher_codes').count({ count: '*' }).first(),
    ledger: await knex()('ledger_transactions').count({ count: '*' }).first(),
  });

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    admin = (await signedIn('gestion', 'admin')).agent;
    secretary = await newBuyer();
    student = await signedIn('etudiante');
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  it('lets only the people an admin named buy: 403 for others, the login page for a visitor, and nothing ordered', async () => {
    const before = await state();
    expect((await student.agent.get(BUY)).status).to.equal(403);
    expect((await postBuy(student.agent, { ...batchFields(), terms: String(termsId) })).status).to.equal(403);
    const list = readable((await student.agent.get(PURCHASES).expect(200)).text);
    expect(list).to.include('réservé aux personnes désignées').and.not.include(`href="${BUY}"`);
    const visitor = await supertest(portal.app).get(BUY);
    expect([visitor.status, visitor.headers.location]).to.deep.equal([303, '/login']);
    // An admin's form: an unknown person is refused with the reason, a person allowed and taken back.
    const unknown = await admin.post('/admin/vouchers/buyers').type('form').send({ _csrf: await tokenOf(admin, '/admin/vouchers'), username: 'personne' });
    expect(unknown.status).to.equal(400);
    expect(readable(unknown.text)).to.include('Aucune personne n\'a cet identifiant.');
    expect((await student.agent.post('/admin/vouchers/buyers').type('form').send({ _csrf: await tokenOf(student.agent, '/topup'), username: 'etudiante' })).status).to.equal(403);
    expect(await state()).to.deep.equal(before);
    const audit = await knex()('audit_log').where('action', 'voucher.buyer.add').pluck('target');
    expect(audit).to.include(secretary.user.username);
  });

  it('prices the batch on the server at the base rate, in French and English, before anything is ordered', async () => {
    const before = await state();
    const french = await postBuy(secretary.agent, { ...batchFields(), summary: '1' });
    expect(french.status).to.equal(200);
    // 20 codes of 5 units at 1,00 € a unit: 100 units for 100,00 €, VAT 20 % included.
    expect(readable(french.text)).to.include('100,00\u00a0€').and.include('16,67\u00a0€').and.include('Payer avec PayPal');
    const english = await postBuy(secretary.agent, { ...batchFields(), summary: '1' }, 'en');
    expect(readable(english.text)).to.include('€100.00').and.include('Pay with PayPal');
    // A price typed into the form changes nothing: there is no field for it.
    const typedPrice = await postBuy(secretary.agent, { ...batchFields(), summary: '1', priceCents: '1' });
    expect(readable(typedPrice.text)).to.include('100,00\u00a0€');
    expect(await state()).to.deep.equal(before);
  });

  it('refuses a bad batch with 400, every problem at once, and orders nothing', async () => {
    const before = await state();
    const response = await postBuy(secretary.agent, { name: '', count: '1001', value: '12,5', expiresOn: addDays(today(), 10), terms: String(termsId) });
    expect(response.status).to.equal(400);
    const text = readable(response.text);
    expect(text).to.include('Donnez un nom au lot.').and.include('de 1 à 1\u202f000 codes').and.include("nombre entier d'unités").and.include('au moins 30 jours');
    const tooDear = await postBuy(secretary.agent, { ...batchFields({ count: '1000', value: '10' }), terms: String(termsId) });
    expect(tooDear.status).to.equal(400);
    expect(readable(tooDear.text)).to.include('Un lot coûte au plus 5\u202f000,00\u00a0€');
    const withoutTerms = await postBuy(secretary.agent, batchFields());
    expect(withoutTerms.status).to.equal(400);
    expect(readable(withoutTerms.text)).to.include('accepter les conditions');
    expect(await state()).to.deep.equal(before);
  });

  it('makes the batch once the payment is captured, crediting the codes’ account once however often it is seen', async () => {
    const vouchersBefore = await accountBalance('system:vouchers');
    const { paypalOrderId, order, purchase } = await boughtBatch(secretary.agent);
    expect(order).to.include({ kind: 'voucher_batch', status: 'paid', user_id: null });
    expect(Number(order.price_cents)).to.equal(10_000);
    // The return visited again and the webhooks delivered again: still one batch, one posting.
    await secretary.agent.get(`${BUY}/return?token=${paypalOrderId}`).expect(303);
    await portal.checkout.reconcile();
    const batches = await knex()('voucher_batches').where('id', purchase.batch_id);
    expect(batches).to.have.length(1);
    expect(batches[0]).to.include({ name: 'Accueil master', code_count: 20 });
    expect(Number(batches[0].value)).to.equal(500);
    const credits = await knex()('ledger_transactions').where('idempotency_key', `paypal-capture:${order.paypal_capture_id}`);
    expect(credits).to.have.length(1);
    expect((await accountBalance('system:vouchers')) - vouchersBefore).to.equal(20 * 500);
    // The units of codes sold and not redeemed are owed too: the dashboard says so beside the balances.
    const dashboard = readable((await admin.get('/admin').expect(200)).text).replace(/\u202f|\u00a0/g, ' ');
    expect(dashboard).to.include("S'y ajoutent 100,00 unités de codes achetés par des services");
    // No code exists before the buyer downloads them.
    expect(await knex()('voucher_codes').where('batch_id', purchase.batch_id)).to.have.length(0);
    // The receipt is the buyer's, mailed to them, and says what was bought; another person cannot read it.
    const receipt = await knex()('documents').where({ order_id: order.id, kind: 'receipt' }).first();
    expect(receipt.buyer_email).to.equal(secretary.user.email);
    expect(await knex()('mail_outbox').where('document_id', receipt.id).pluck('recipient')).to.deep.equal([secretary.user.email]);
    const pdf = await asBytes(secretary.agent.get(`/documents/${receipt.number}.pdf`)).expect(200);
    expect((await readPdf(pdf.body as Buffer)).text).to.include('20 codes de rechargement de 5');
    expect((await student.agent.get(`/documents/${receipt.number}.pdf`)).status).to.equal(404);
    const page = readable((await secretary.agent.get(`${PURCHASES}?notice=paid`).expect(200)).text);
    expect(page).to.include('Paiement reçu').and.include('Télécharger les codes').and.include(receipt.number);
  });

  it('hands the codes over once, drawn by the download and stored as hashes; a second download is refused', async () => {
    const buyer = await newBuyer();
    const { purchase } = await boughtBatch(buyer.agent, { count: '12' });
    const [first, second] = await Promise.all([handOver(buyer.agent, purchase.id, { format: 'csv' }), handOver(buyer.agent, purchase.id, { format: 'csv' })]);
    // Two clicks at once: one file, one refusal; twelve codes in all.
    expect([first.status, second.status].sort()).to.deep.equal([201, 409]);
    const file = first.status === 201 ? first : second;
    expect(file.headers['cache-control']).to.equal('no-store');
    const codes = codesOfCsv(file.body as Buffer);
    expect(codes).to.have.length(12);
    const stored = await knex()('voucher_codes').where('batch_id', purchase.batch_id).pluck('code_sha256');
    expect(stored.sort()).to.deep.equal(codes.map((code) => sha256(code.replace(/-/g, ''))).sort());
    const again = await handOver(buyer.agent, purchase.id, { format: 'pdf' });
    expect(again.status).to.equal(409);
    expect(readable(String(again.body))).to.include('déjà été remis');
    // Not theirs: the 404 of a purchase that does not exist, and no code drawn.
    expect((await handOver(secretary.agent, purchase.id, { format: 'csv', replace: '1' })).status).to.equal(404);
    expect(await knex()('voucher_codes').where('batch_id', purchase.batch_id)).to.have.length(12);
    expect(await knex()('audit_log').where('action', 'voucher.handover').where('actor_username', buyer.user.username)).to.have.length(1);
    // The codes credit whoever types them, once each.
    const before = await accountBalance(`user:${student.user.id}`);
    expect((await redeem(student.agent, codes[0]!)).status).to.equal(200);
    expect((await accountBalance(`user:${student.user.id}`)) - before).to.equal(500);
  });

  it('replaces the codes not used yet: the old ones are refused, the used one keeps its units, the new ones work', async () => {
    const buyer = await newBuyer();
    const { purchase } = await boughtBatch(buyer.agent, { count: '3' });
    const first = codesOfCsv((await handedOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
    expect((await redeem(student.agent, first[0]!)).status).to.equal(200);
    const replaced = await handedOver(buyer.agent, purchase.id, { format: 'csv', replace: '1' });
    const fresh = codesOfCsv(replaced.body as Buffer);
    expect(fresh).to.have.length(2);
    expect(fresh.some((code) => first.includes(code))).to.equal(false);
    const refused = await redeem(student.agent, first[1]!);
    expect(refused.status).to.equal(409);
    expect(readable(refused.text)).to.include('retiré par l\'administration');
    expect((await redeem(student.agent, fresh[0]!)).status).to.equal(200);
    const batch = await knex()('voucher_batches').where('id', purchase.batch_id).first();
    expect([batch.code_count, batch.redeemed_count]).to.deep.equal([3, 2]);
    expect(await knex()('voucher_codes').where('batch_id', purchase.batch_id).whereNotNull('replaced_at')).to.have.length(2);
    const page = readable((await buyer.agent.get(PURCHASES).expect(200)).text);
    expect(page).to.include('puis remplacés (2 remises)');
  });

  it('never lets a code both be redeemed and replaced when the two happen at once', async () => {
    const buyer = await newBuyer();
    const { purchase } = await boughtBatch(buyer.agent, { count: '4' });
    const first = codesOfCsv((await handedOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
    const before = await accountBalance(`user:${student.user.id}`);
    const [redemption, replacement] = await Promise.all([redeem(student.agent, first[2]!), handOver(buyer.agent, purchase.id, { format: 'csv', replace: '1' })]);
    expect(replacement.status).to.equal(201);
    const fresh = codesOfCsv(replacement.body as Buffer);
    const credited = (await accountBalance(`user:${student.user.id}`)) - before;
    if (redemption.status === 200) {
      // Redeemed first: its units stay, and three codes were replaced.
      expect([credited, fresh.length]).to.deep.equal([500, 3]);
    } else {
      // Replaced first: refused, nothing credited, four new codes.
      expect([redemption.status, credited, fresh.length]).to.deep.equal([409, 0, 4]);
    }
    const live = await knex()('voucher_codes').where('batch_id', purchase.batch_id).whereNull('replaced_at').count({ count: '*' }).first();
    expect(Number(live?.count)).to.equal(4);
  });

  it('voids the codes not used yet when the order is refunded, taking the units back from the codes’ account', async () => {
    const buyer = await newBuyer();
    const { order, purchase } = await boughtBatch(buyer.agent, { count: '2' });
    const codes = codesOfCsv((await handedOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
    expect((await redeem(student.agent, codes[0]!)).status).to.equal(200);
    const vouchersBefore = await accountBalance('system:vouchers');
    portal.simulator.refundCapture(order.paypal_order_id, '5.00');
    await portal.simulator.flushWebhooks();
    const batch = await knex()('voucher_batches').where('id', purchase.batch_id).first();
    expect(batch.voided_at).to.not.equal(null);
    expect(batch.voided_by).to.equal(null);
    expect((await accountBalance('system:vouchers')) - vouchersBefore).to.equal(-500);
    expect((await redeem(student.agent, codes[1]!)).status).to.equal(409);
    const events = await knex()('order_events').where({ order_id: order.id, type: 'vouchers_voided' });
    expect(events).to.have.length(1);
    const page = readable((await buyer.agent.get(PURCHASES).expect(200)).text);
    expect(page).to.include('ont été annulés');
    expect((await handOver(buyer.agent, purchase.id, { format: 'csv', replace: '1' })).status).to.equal(409);
    // The admin's batch page says who bought it and why it is void.
    const adminPage = readable((await admin.get(`/admin/vouchers/${purchase.batch_id}`).expect(200)).text);
    expect(adminPage).to.include(`Acheté par ${buyer.user.username}`).and.include('a été remboursée');
  });

  it('takes back the right to buy without taking the purchases: the list and the downloads stay, new orders are refused', async () => {
    const buyer = await newBuyer();
    const { purchase } = await boughtBatch(buyer.agent, { count: '1' });
    const page = readable((await admin.get('/admin/vouchers').expect(200)).text);
    expect(page).to.include(buyer.user.username);
    const removed = await admin.post(`/admin/vouchers/buyers/${buyer.user.id}/remove`).type('form').send({ _csrf: csrfTokenFrom(page) });
    expect(removed.status).to.equal(303);
    expect((await buyer.agent.get(BUY)).status).to.equal(403);
    expect((await handOver(buyer.agent, purchase.id, { format: 'pdf' })).status).to.equal(201);
  });

  it('keeps a bought batch out of the buyer’s own credit: nothing of it is refundable to them, their balance untouched', async () => {
    const buyer = await newBuyer();
    await boughtBatch(buyer.agent, { count: '2' });
    expect(await accountBalance(`user:${buyer.user.id}`)).to.equal(0);
    const refundPage = readable((await buyer.agent.get('/account/refund').expect(200)).text);
    expect(refundPage).to.include("Rien n'est remboursable aujourd'hui.").and.not.include('10,00');
  });

  it('says PayPal is unreachable with 502 and charges nothing; at most three unpaid orders at once', async () => {
    const buyer = await newBuyer();
    portal.simulator.setFault({ type: 'http500', times: 2, operation: 'create' });
    const refused = await postBuy(buyer.agent, { ...batchFields(), terms: String(termsId) });
    expect(refused.status).to.equal(502);
    expect(readable(refused.text)).to.include('rien n\'a été payé');
    portal.simulator.clearFaults();
    // The same batch again reuses its order; three different ones are the limit.
    await orderBatch(buyer.agent);
    await orderBatch(buyer.agent, { count: '21' });
    await orderBatch(buyer.agent, { count: '22' });
    const open = await knex()('voucher_purchases').where('buyer_id', buyer.user.id);
    expect(open).to.have.length(3);
    const fourth = await postBuy(buyer.agent, { ...batchFields({ count: '23' }), terms: String(termsId) });
    expect(fourth.status).to.equal(409);
    expect(readable(fourth.text)).to.include('plusieurs commandes de codes en attente');
    expect(await knex()('voucher_purchases').where('buyer_id', buyer.user.id)).to.have.length(3);
  });

  afterEach(() => expectLedgerConsistent(portal.db));
});
