import supertest from 'supertest';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { User } from '../../src/domain/people/users.js';
import { csrfTokenFrom, logIn, type TestPortal } from './portal.js';

type Agent = ReturnType<typeof supertest.agent>;

/** A new person with an address, signed in through their own agent. */
export async function signedInPerson(portal: TestPortal, username: string): Promise<{ user: User; agent: Agent }> {
  const user = await portal.addUser(username, 'student-password', { email: `${username}@example.edu` });
  const agent = supertest.agent(portal.app);
  await logIn(agent, user.username, 'student-password');
  return { user, agent };
}

/** A pack bought and captured through the simulator, as the buyer's return and PayPal's webhooks settle it; the clock then moves a minute on, so captures have an order. */
export async function paidPackOrder(portal: TestPortal, buyer: User, packId: string, termsId: number): Promise<Order> {
  const placed = await portal.checkout.placeOrder(buyer, { packId }, termsId, 'fr');
  await portal.checkout.startOrderPayment(placed, 'fr');
  const sent = await portal.checkout.ownOrder(buyer, { id: placed.id });
  portal.simulator.approve(sent.paypalOrderId!);
  await portal.checkout.completeReturn(buyer, sent.paypalOrderId);
  await portal.simulator.flushWebhooks();
  portal.clock.advance(60_000);
  return portal.checkout.ownOrder(buyer, { id: placed.id });
}

/**
 * PayPal makes the next refund but its answer comes too late, the look-up that follows fails, and its
 * webhooks are held back (they would look the refund up at once): the refund's outcome is unknown.
 */
export function loseNextRefundAnswer(portal: TestPortal): void {
  portal.simulator.setFault({ type: 'delay', ms: 1500, operation: 'refund' });
  portal.simulator.setFault({ type: 'http500', times: 1, operation: 'get' });
  portal.simulator.setWebhookUrl('http://127.0.0.1:9/webhooks/paypal');
}

/** The person asks from "Mon compte" for their unused credit back (`closeAccount: 'yes'` to close it too). */
export async function askForRefund(agent: Agent, fields: Record<string, string> = {}) {
  const page = await agent.get('/account/refund').expect(200);
  return agent.post('/account/refund').type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
}

/** The person's newest request, and a request's parts, as stored. */
export const latestRefundRequestOf = (portal: TestPortal, person: User) => portal.db.knex('credit_refund_requests').where('user_id', person.id).orderBy('id', 'desc').first();
export const refundPartsOf = (portal: TestPortal, requestId: number) => portal.db.knex('credit_refund_parts').where('request_id', requestId).orderBy('id');
