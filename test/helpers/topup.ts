import { expect } from 'chai';
import supertest from 'supertest';
import { replacePriceList } from '../../src/db/pricing/price-list-repository.js';
import { publishTerms } from '../../src/db/pricing/terms-repository.js';
import { DEMO_PRICE_LIST, DEMO_TERMS } from '../../src/services/demo/demo.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent } from './database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal, type TestPortalOptions } from './portal.js';

type Agent = ReturnType<typeof supertest.agent>;

/** The demo price list and terms, as an admin would have published them. */
export async function publishOffers(portal: TestPortal): Promise<number> {
  await portal.db.transaction((trx) => replacePriceList(trx, DEMO_PRICE_LIST));
  return (await publishTerms(portal.db.knex, DEMO_TERMS, portal.clock.now())).id;
}

/** Chooses an offer and accepts the terms; returns the order number. */
export async function placeOrder(agent: Agent, fields: Record<string, string>): Promise<string> {
  const form = await agent.get('/topup').expect(200);
  const response = await agent.post('/topup').type('form').send({ _csrf: csrfTokenFrom(form.text), ...fields });
  expect(response.status, response.text.slice(0, 300)).to.equal(303);
  return (response.headers.location as string).replace('/orders/', '');
}

/** Presses "Pay with PayPal"; returns the PayPal order id from the approval link we were sent to. */
export async function pay(agent: Agent, portal: TestPortal, number: string): Promise<string> {
  const page = await agent.get(`/orders/${number}`).expect(200);
  const response = await agent.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
  expect(response.status).to.equal(303);
  const approval = new URL(response.headers.location as string);
  expect(approval.origin).to.equal(new URL(portal.simulator.baseUrl).origin);
  return approval.searchParams.get('token') as string;
}

/** The path and query of a URL the simulator sends the buyer to. */
export const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

export async function balanceOf(portal: TestPortal, userId: number): Promise<number> {
  return (await portal.ledger.userAccount(userId)).balance;
}

export async function captureCredits(portal: TestPortal): Promise<number> {
  return (await portal.db.knex('ledger_transactions').where('idempotency_key', 'like', 'paypal-capture:%')).length;
}

/** After each payment test: no faults left, webhooks back to the portal and delivered, the ledger consistent. */
export async function restorePayments(portal: TestPortal): Promise<void> {
  portal.simulator.clearFaults();
  portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
  await portal.simulator.flushWebhooks();
  await expectLedgerConsistent(portal.db);
}

export const BUYER_PASSWORD = 'a good long password';

/** A portal with the demo offers published and the buyer Camille in it, signed in through `agent`. */
export interface Shop {
  portal: TestPortal;
  termsId: number;
  camille: User;
  agent: Agent;
}

export async function openShop(env: Record<string, string> = {}, options: TestPortalOptions = {}): Promise<Shop> {
  const portal = await createTestPortal(env, options);
  const termsId = await publishOffers(portal);
  const camille = await portal.addUser('camille', BUYER_PASSWORD);
  const agent = supertest.agent(portal.app);
  await logIn(agent, 'camille', BUYER_PASSWORD);
  return { portal, termsId, camille, agent };
}

/**
 * A suite's own shop: opened before its tests (`receive` takes the portal, terms, buyer and agent),
 * payments restored and the ledger checked after each test, the portal removed after the suite.
 */
export function useShop(receive: (shop: Shop) => void, env: Record<string, string> = {}, options: TestPortalOptions = {}): void {
  let portal: TestPortal | undefined;
  before(async () => {
    const shop = await openShop(env, options);
    portal = shop.portal;
    receive(shop);
  });
  afterEach(() => restorePayments(portal!));
  after(() => portal?.cleanup());
}

/** An order for `fields` (a pack by default) sent to PayPal; the buyer has not approved yet. */
export async function orderSentToPayPal({ portal, termsId, agent }: Shop, fields: Record<string, string> = { offer: 'pack-10' }): Promise<{ number: string; paypalOrderId: string }> {
  const number = await placeOrder(agent, { ...fields, terms: String(termsId) });
  return { number, paypalOrderId: await pay(agent, portal, number) };
}
