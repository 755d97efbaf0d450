import { expect } from 'chai';
import supertest from 'supertest';
import { insertQuoteOrder } from '../../src/db/checkout/order-repository.js';
import { insertCreditRefundRequest } from '../../src/db/credit-refunds/credit-refund-repository.js';
import { AccountClosureError, anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { draftQuote, sentQuote } from '../helpers/quotes.js';
import { BUYER_PASSWORD, orderSentToPayPal, pathOf, placeOrder, useShop, type Shop } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** Closing and anonymising never leave a payment or a refund half-way, nor a quote still open. */
describe(`closing an account with payments in flight (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), { SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example' });

  const knex = () => shop.portal.db.knex;
  const deps = () => ({ db: shop.portal.db, clock: shop.portal.clock });
  const cli = { id: null, username: 'cli:closure' };
  const refusalOf = (promise: Promise<unknown>) => promise.then(() => 'done', (error: unknown) => (error instanceof AccountClosureError ? error.code : error));
  const idOf = (number: string) => Number(/\d+$/.exec(number)![0]);

  /** A new buyer signed in, with the shop's agent swapped for theirs. */
  async function buyer(username: string): Promise<{ id: number; agent: Agent; shop: Shop }> {
    const person = await shop.portal.addUser(username, BUYER_PASSWORD);
    const agent = supertest.agent(shop.portal.app);
    await logIn(agent, username, BUYER_PASSWORD);
    return { id: person.id, agent, shop: { ...shop, agent } };
  }

  for (const status of ['approved', 'capture_pending'] as const) {
    it(`refuses to close, with a 409 the page explains, while an order is ${status}, changing nothing`, async () => {
      const username = `paying-${status.replace('_', '-')}`;
      const person = await buyer(username);
      const { number } = await orderSentToPayPal(person.shop);
      // Where PayPal's answers put it (the buyer approved; a capture refused for the seller, or pending).
      await knex()('orders').where('id', idOf(number)).update({ status });
      expect(await refusalOf(closeAccount(deps(), username, cli))).to.equal('payment_in_flight');

      await shop.portal.addUser(`admin-${status.replace('_', '-')}`, BUYER_PASSWORD, { role: 'admin' });
      const admin = supertest.agent(shop.portal.app);
      await logIn(admin, `admin-${status.replace('_', '-')}`, BUYER_PASSWORD);
      const path = `/admin/people/${username}`;
      const page = await admin.get(path).expect(200);
      const answer = await admin.post(`${path}/close`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
      expect(answer.status).to.equal(409);
      expect(answer.text).to.include('id="closure-error"').and.include('en cours de paiement');

      expect(await knex()('users').where('id', person.id).first('closed_at')).to.deep.equal({ closed_at: null });
      expect(await knex()('orders').where('id', idOf(number)).first('status')).to.deep.equal({ status });
      await knex()('orders').where('id', idOf(number)).update({ status: 'awaiting_payment' });
    });
  }

  it('cancels the orders not yet approved when closing, each with its order event, and PayPal takes nothing for them later', async () => {
    const person = await buyer('leaving');
    const sent = await orderSentToPayPal(person.shop);
    const created = await placeOrder(person.agent, { offer: 'pack-10', terms: String(shop.termsId) });

    await closeAccount(deps(), 'leaving', cli);

    for (const number of [sent.number, created]) {
      expect(await knex()('orders').where('id', idOf(number)).first('status', 'ledger_transaction_id')).to.deep.equal({ status: 'cancelled', ledger_transaction_id: null });
      const event = await knex()('order_events').where('order_id', idOf(number)).orderBy('id', 'desc').first('type', 'to_status', 'detail');
      expect(event).to.deep.include({ type: 'status', to_status: 'cancelled', detail: 'the account was closed' });
    }
    // The buyer approves in the PayPal tab left open: nothing is captured.
    shop.portal.simulator.approve(sent.paypalOrderId);
    await shop.portal.simulator.flushWebhooks();
    await shop.portal.checkout.reconcile();
    expect((shop.portal.simulator.order(sent.paypalOrderId) as { status: string }).status).to.not.equal('COMPLETED');
    expect(await knex()('orders').where('id', idOf(sent.number)).first('status')).to.deep.equal({ status: 'cancelled' });
  });

  it('never loses a payment when the buyer comes back from PayPal as the account closes: captured and credited, or neither', async () => {
    for (let round = 0; round < 4; round += 1) {
      const person = await buyer(`racing-${round}`);
      const { number, paypalOrderId } = await orderSentToPayPal(person.shop);
      const approval = pathOf(shop.portal.simulator.approve(paypalOrderId));
      const [closed] = await Promise.all([refusalOf(closeAccount(deps(), `racing-${round}`, cli)), person.agent.get(approval)]);
      await shop.portal.simulator.flushWebhooks();
      await shop.portal.checkout.reconcile();
      const order = (await knex()('orders').where('id', idOf(number)).first('status', 'ledger_transaction_id')) as { status: string; ledger_transaction_id: number | null };
      const captured = (shop.portal.simulator.order(paypalOrderId) as { status: string }).status === 'COMPLETED';
      expect(order.ledger_transaction_id !== null, `round ${round}: ${String(closed)}, order ${order.status}, PayPal captured: ${captured}`).to.equal(captured);
      // Refused only while the capture was under way; closed otherwise.
      if (closed !== 'done') expect(closed).to.equal('payment_in_flight');
      await expectLedgerConsistent(shop.portal.db);
    }
  });

  describe('anonymising', () => {
    let desk: Agent;
    before(async () => {
      await shop.portal.addUser('accueil', 'desk-password');
      await knex()('users').where('username', 'accueil').update({ quote_desk: true });
      desk = supertest.agent(shop.portal.app);
      await logIn(desk, 'accueil', 'desk-password');
    });

    async function closed(username: string) {
      const person = await buyer(username);
      await closeAccount(deps(), username, cli);
      return person;
    }
    const untouched = async (id: number, username: string) =>
      expect(await knex()('users').where('id', id).first('username', 'anonymised_at')).to.deep.equal({ username, anonymised_at: null });

    it('refuses while a refund of unused credit is requested or not paid in full', async () => {
      const person = await buyer('refunding');
      const { number } = await orderSentToPayPal(person.shop);
      await closeAccount(deps(), 'refunding', cli);
      const requestId = await shop.portal.db.transaction((trx) => insertCreditRefundRequest(trx, { userId: person.id, closeAccount: false, estimatedCents: 100, currency: 'EUR' }, shop.portal.clock.now()));
      expect(await refusalOf(anonymiseAccount(deps(), 'refunding', cli))).to.equal('refund_in_flight');
      await untouched(person.id, 'refunding');
      // The request no longer open, but a part of it still waits for its transfer.
      await knex()('credit_refund_requests').where('id', requestId).update({ status: 'completed', open_user_id: null });
      const now = shop.portal.clock.now().toISOString();
      await knex()('credit_refund_parts').insert({ request_id: requestId, order_id: idOf(number), method: 'transfer', status: 'awaiting_transfer', amount_cents: 100, currency: 'EUR', units: 0, bonus_units: 0, paypal_request_id: `part-${requestId}`, created_at: now, updated_at: now });
      expect(await refusalOf(anonymiseAccount(deps(), 'refunding', cli))).to.equal('refund_in_flight');
      await untouched(person.id, 'refunding');
      await knex()('credit_refund_parts').where('request_id', requestId).update({ status: 'transferred' });
      expect(await refusalOf(anonymiseAccount(deps(), 'refunding', cli))).to.equal('done');
    });

    it('refuses while a refund an admin asked PayPal for is pending', async () => {
      const person = await buyer('refunded-by-admin');
      const { number } = await orderSentToPayPal(person.shop);
      await closeAccount(deps(), 'refunded-by-admin', cli);
      const now = shop.portal.clock.now().toISOString();
      await knex()('admin_refund_requests').insert({ request_id: 'admin-refund-review', order_id: idOf(number), status: 'pending', amount_cents: 100, units_reserved: 0, reason: 'test', requested_by: person.id, created_at: now, updated_at: now });
      expect(await refusalOf(anonymiseAccount(deps(), 'refunded-by-admin', cli))).to.equal('refund_in_flight');
      await untouched(person.id, 'refunded-by-admin');
      await knex()('admin_refund_requests').where('request_id', 'admin-refund-review').update({ status: 'not_refunded' });
      expect(await refusalOf(anonymiseAccount(deps(), 'refunded-by-admin', cli))).to.equal('done');
    });

    it('refuses while a quote made out to the person is a draft or sent, then clears its customer once it is not', async () => {
      const person = await closed('quoted');
      for (const make of [draftQuote, sentQuote]) {
        const number = await make(shop.portal, desk, { username: 'quoted' });
        expect(await refusalOf(anonymiseAccount(deps(), 'quoted', cli)), number).to.equal('quote_open');
        await untouched(person.id, 'quoted');
        await knex()('quotes').where('number', number).update({ status: 'cancelled' });
      }
      const before = (await knex()('quotes').where('user_id', person.id).select('customer_name', 'customer_email', 'search_text')) as Array<Record<string, string>>;
      expect(before.every((quote) => quote.search_text!.includes(quote.customer_email!.toLowerCase()))).to.equal(true);
      expect(await refusalOf(anonymiseAccount(deps(), 'quoted', cli))).to.equal('done');
      const after = await knex()('quotes').where('user_id', person.id).orderBy('id').select('number', 'customer_name', 'customer_email', 'delivery_address', 'search_text');
      expect(after).to.have.length(2);
      for (const quote of after) expect(quote).to.deep.equal({ number: quote.number, customer_name: '', customer_email: '', delivery_address: '', search_text: `${String(quote.number).toLowerCase()}\n\n` });
    });

    it('refuses while an order paying one of their quotes is being paid, though the quote was cancelled meanwhile', async () => {
      const person = await closed('quote-paying');
      const number = await sentQuote(shop.portal, desk, { username: 'quote-paying' });
      const quote = (await knex()('quotes').where('number', number).first('id')) as { id: number };
      const order = await shop.portal.db.transaction((trx) =>
        insertQuoteOrder(trx, { quoteId: quote.id, currency: 'EUR', priceCents: 100, netCents: 100, vatCents: 0, vatRateBasisPoints: 0, termsVersionId: shop.termsId, locale: 'fr' }, shop.portal.clock.now()),
      );
      await knex()('orders').where('id', order.id).update({ status: 'capture_pending' });
      await knex()('quotes').where('id', quote.id).update({ status: 'cancelled' });
      expect(await refusalOf(anonymiseAccount(deps(), 'quote-paying', cli))).to.equal('payment_in_flight');
      await untouched(person.id, 'quote-paying');
      await knex()('orders').where('id', order.id).update({ status: 'failed' });
      expect(await refusalOf(anonymiseAccount(deps(), 'quote-paying', cli))).to.equal('done');
    });

    it('cancels an order not yet approved of an account closed some other way (its refund request), and refuses one being paid', async () => {
      const person = await buyer('closed-by-refund');
      const { number } = await orderSentToPayPal(person.shop);
      await knex()('users').where('id', person.id).update({ closed_at: shop.portal.clock.now().toISOString(), disabled: true });
      await knex()('orders').where('id', idOf(number)).update({ status: 'approved' });
      expect(await refusalOf(anonymiseAccount(deps(), 'closed-by-refund', cli))).to.equal('payment_in_flight');
      await untouched(person.id, 'closed-by-refund');
      await knex()('orders').where('id', idOf(number)).update({ status: 'awaiting_payment' });
      expect(await refusalOf(anonymiseAccount(deps(), 'closed-by-refund', cli))).to.equal('done');
      expect(await knex()('orders').where('id', idOf(number)).first('status')).to.deep.equal({ status: 'cancelled' });
    });
  });
});
