import { expect } from 'chai';
import type { Knex } from 'knex';
import supertest from 'supertest';
import { toSafeInteger } from '../../src/db/database.js';
import type { PaperCutSimulator } from '../../src/print-systems/papercut/simulator/index.js';
import { DEMO_LOGINS, DEMO_PAPERCUT_PEOPLE } from '../../src/services/demo/demo-logins.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { until } from '../helpers/waiting.js';
import type { PortalProcess } from './portal-process.js';

type Agent = ReturnType<typeof supertest.agent>;

/*
 * What the tests of portal processes crediting PaperCut share: a simulator in the test's own process
 * that the portals reach over HTTP, the demo admin's adjustments through the admin pages, and the
 * outbox read from the database.
 */

export const DEMO_ADMIN = DEMO_LOGINS.find((login) => login.role === 'admin')!;
export const DEMO_STUDENT = DEMO_LOGINS.find((login) => login.role === 'user' && !login.quoteDesk)!;

/** A PaperCut simulator knowing the demo people as `npm start` with the built-in one does, with nothing on their accounts. */
export const demoPeopleInPaperCut = () => Object.fromEntries(DEMO_PAPERCUT_PEOPLE.map((username) => [username, 0]));

/** A portal's settings for crediting `papercut` (a simulator run by the test): every second, and at once after a payment. */
export const creditingPaperCut = (papercut: PaperCutSimulator, timeoutMs: number) => ({
  CREDIT_DESTINATION: 'papercut',
  PAPERCUT_URL: papercut.url,
  PAPERCUT_AUTH_TOKEN: papercut.authToken,
  CREDIT_DESTINATION_TIMEOUT_MS: String(timeoutMs),
  CREDIT_DELIVERY_INTERVAL_SECONDS: '1',
});

/** The ledger transaction a PaperCut adjustment came from, read from its comment ("Recharge #12 R-2026-000004"). */
export function ledgerTransactionOf(comment: string): number | null {
  const id = /^Recharge #(\d+)(?: |$)/.exec(comment)?.[1];
  return id === undefined ? null : Number(id);
}

/** How many adjustments PaperCut's log has for each ledger transaction. */
export function adjustmentsPerTransaction(papercut: PaperCutSimulator): Map<number | null, number> {
  const counts = new Map<number | null, number>();
  for (const { comment } of papercut.transactions) {
    const id = ledgerTransactionOf(comment);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export interface TransferRow {
  id: number;
  ledgerTransactionId: number;
  username: string;
  amount: number;
  state: string;
  description: string | null;
}

export async function readTransfers(knex: Knex): Promise<TransferRow[]> {
  const rows: Array<Record<string, unknown>> = await knex('credit_transfers')
    .join('users', 'users.id', 'credit_transfers.user_id')
    .join('ledger_transactions', 'ledger_transactions.id', 'credit_transfers.ledger_transaction_id')
    .orderBy('credit_transfers.id')
    .select('credit_transfers.id', 'credit_transfers.ledger_transaction_id', 'users.username', 'credit_transfers.amount', 'credit_transfers.state', 'ledger_transactions.description');
  return rows.map((row) => ({
    id: toSafeInteger(row.id),
    ledgerTransactionId: toSafeInteger(row.ledger_transaction_id),
    username: String(row.username),
    amount: toSafeInteger(row.amount),
    state: String(row.state),
    description: row.description == null ? null : String(row.description),
  }));
}

export async function eventsOf(knex: Knex, transferId: number): Promise<string[]> {
  return (await knex('credit_transfer_events').where('transfer_id', transferId).orderBy('id').select('event')).map((row: { event: string }) => row.event);
}

/** A demo person, signed in through the login form of `instance`. */
export async function signedIn(instance: PortalProcess, login: { username: string; password: string }): Promise<Agent> {
  const agent = supertest.agent(instance.url);
  const page = await agent.get('/login').expect(200);
  const response = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: login.username, password: login.password });
  expect(response.status, response.text.slice(0, 300)).to.equal(303);
  return agent;
}

export const signedInAdmin = (instance: PortalProcess) => signedIn(instance, DEMO_ADMIN);

/**
 * A top-up paid as the buyer does it in a portal with its built-in PayPal simulator: the offer and the
 * terms, "Pay with PayPal", "Approve" on the simulator's page, back to the portal's return page. Returns
 * the order's number; throws when a step is not answered as it should be.
 */
export async function payTopUp(buyer: Agent, offer: Record<string, string>): Promise<string> {
  const form = await buyer.get('/topup').timeout(10_000);
  const terms = /name="terms" value="(\d+)"/.exec(form.text)?.[1] as string;
  const placed = await buyer.post('/topup').timeout(10_000).type('form').send({ _csrf: csrfTokenFrom(form.text), ...offer, terms });
  expect(placed.status, placed.text.slice(0, 300)).to.equal(303);
  const orderPath = placed.headers.location as string;
  const page = await buyer.get(orderPath).timeout(10_000);
  const paying = await buyer.post(`${orderPath}/pay`).timeout(10_000).type('form').send({ _csrf: csrfTokenFrom(page.text) });
  expect(paying.status, paying.text.slice(0, 300)).to.equal(303);
  const approval = new URL(paying.headers.location as string);
  const approved = await supertest(approval.origin).post('/checkoutnow/approve').timeout(10_000).type('form').send({ token: approval.searchParams.get('token') });
  expect(approved.status).to.equal(303);
  const back = new URL(approved.headers.location as string);
  const returned = await buyer.get(`${back.pathname}${back.search}`).timeout(10_000);
  expect(returned.status, returned.text.slice(0, 300)).to.equal(303);
  return orderPath.slice('/orders/'.length);
}

/** An adjustment through the person's admin page, as an admin types it (units, "2,50"); the answer, not checked. */
export async function adjust(admin: Agent, username: string, fields: { direction: 'credit' | 'debit'; amount: string; reason: string }) {
  const page = await admin.get(`/admin/people/${username}`).timeout(10_000);
  if (page.status !== 200) return page;
  const nonce = /name="nonce" value="([^"]+)"/.exec(page.text)?.[1] as string;
  return admin.post(`/admin/people/${username}/adjustments`).timeout(10_000).type('form').send({ _csrf: csrfTokenFrom(page.text), nonce, ...fields });
}

/**
 * Kills the instance at once (SIGKILL: no shutdown, nothing finished), as a crash or the OOM killer
 * does. Its process id is the one its log lines carry.
 */
export async function killAtOnce(instance: PortalProcess): Promise<void> {
  const pid = await until(() => instance.logs.find((line) => typeof line.pid === 'number')?.pid as number | undefined, `${instance.name} has logged its process id`);
  process.kill(pid, 'SIGKILL');
  await until(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, `${instance.name} has died`);
}
