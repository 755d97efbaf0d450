import { expect } from 'chai';
import supertest from 'supertest';
import { expectDocumentsConsistent, expectLedgerConsistent } from './database.js';
import { formFields, withChanges } from './html-form.js';
import type { TestPortal } from './portal.js';
import { lookUpQuote } from './quotes.js';
import { pathOf } from './topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** A browser without an account that gave the quote's number and postcode on "Recherche de commande". */
export async function customerOf(portal: TestPortal, number: string, postcode = '75 005'): Promise<Agent> {
  const agent = supertest.agent(portal.app);
  const found = await lookUpQuote(agent, number, postcode);
  expect(found.status, found.text.slice(0, 500)).to.equal(303);
  expect(found.headers.location).to.equal(`/quotes/${number}`);
  return agent;
}

/** "Passer au paiement" with the terms accepted (and `extra` fields a tampering browser adds); answers the response. */
export async function pressPay(agent: Agent, number: string, termsId: number, extra: Record<string, string> = {}) {
  const page = await agent.get(`/quotes/${number}`).expect(200);
  return agent.post(`/quotes/${number}/pay`).type('form').send(withChanges(formFields(page.text, `/quotes/${number}/pay`), { terms: String(termsId), ...extra }));
}

/** Sent to PayPal: answers the PayPal order id of the approval link. */
export async function toPayPal(portal: TestPortal, agent: Agent, number: string, termsId: number): Promise<string> {
  const response = await pressPay(agent, number, termsId);
  expect(response.status, response.text.slice(0, 500)).to.equal(303);
  const approval = new URL(response.headers.location as string);
  expect(approval.origin).to.equal(new URL(portal.simulator.baseUrl).origin);
  return approval.searchParams.get('token')!;
}

/**
 * The customer of a sent quote, without an account, as the seed has them: "Recherche de commande"
 * with the number and postcode, the terms accepted, "Passer au paiement", approval at the PayPal
 * simulator, back on the quote, PayPal's webhooks delivered. Answers the customer's browser.
 */
export async function payQuote(portal: TestPortal, number: string, termsId: number, postcode = '75 005'): Promise<Agent> {
  const customer = await customerOf(portal, number, postcode);
  const paypalOrderId = await toPayPal(portal, customer, number, termsId);
  await customer.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
  await portal.simulator.flushWebhooks();
  return customer;
}

/** After each payment test: no fault left, webhooks back on and delivered, PDFs drawn, the ledger and documents consistent. */
export async function checkPaymentsSettled(portal: TestPortal): Promise<void> {
  portal.simulator.clearFaults();
  portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
  await portal.simulator.flushWebhooks();
  await portal.documentFiles.idle();
  await expectLedgerConsistent(portal.db);
  await expectDocumentsConsistent(portal.db);
}
