import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { findTransfer, listTransferEvents, listTransfers, type CreditTransfer } from '../../src/db/credit-transfers/transfer-repository.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import type { User } from '../../src/domain/people/users.js';
import type { CreditDestination } from '../../src/print-systems/credit-destination.js';
import { post } from '../../src/print-systems/http-post.js';
import { PrintSystemError } from '../../src/print-systems/print-system-error.js';
import { createWebhookDestination } from '../../src/print-systems/webhook/webhook-destination.js';
import { signWebhook } from '../../src/print-systems/webhook/webhook-signature.js';
import { createAdjustments } from '../../src/services/ledger/adjustments.js';
import { startCreditWebhookReceiver, type CreditWebhookReceiver } from '../helpers/credit-webhook-receiver.js';
import { freePort } from '../helpers/free-port.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';
import { waitForOutput } from '../helpers/processes.js';
import { openShop, orderSentToPayPal, pathOf, restorePayments, type Shop } from '../helpers/topup.js';

const SECRET = 'a3f1c9e07b5d42861e0f3a5c7d9b2e4f';
const NOTHING = { delivered: 0, retrying: 0, parked: 0, unknown: 0 };
const MINUTE = 60_000;

/** An admin's credit (or debit) of `amount` units to `username`, as the admin page posts it; returns its transfer. */
async function adjust(portal: TestPortal, admin: User, username: string, direction: 'credit' | 'debit', amount: string): Promise<CreditTransfer> {
  await createAdjustments({ db: portal.db, clock: portal.clock }).adjust(admin, username, { direction, amount, reason: 'Printer jam', nonce: newFormNonce() });
  const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 1 });
  return transfers[0]!;
}

async function transferNow(portal: TestPortal, transfer: CreditTransfer): Promise<CreditTransfer> {
  return (await findTransfer(portal.db.knex, transfer.id))!;
}

async function eventsOf(portal: TestPortal, transfer: CreditTransfer): Promise<string[]> {
  return (await listTransferEvents(portal.db.knex, transfer.id)).map((event) => event.event);
}

const eventId = (transfer: CreditTransfer) => `recharge-transfer-${transfer.id}`;

describe('Credits sent by webhook', () => {
  let receiver: CreditWebhookReceiver;
  let destination: CreditDestination;
  let shop: Shop;
  let admin: User;

  before(async () => {
    receiver = await startCreditWebhookReceiver(SECRET);
    destination = createWebhookDestination({ url: receiver.url, secret: SECRET, timeoutMs: 2000 });
    shop = await openShop({}, { creditDestination: destination });
    admin = await shop.portal.addUser('admin', 'a good long admin password', { role: 'admin' });
  });
  afterEach(async () => {
    receiver.clearFaults();
    await restorePayments(shop.portal);
  });
  after(async () => {
    await shop?.portal.cleanup();
    await receiver?.stop();
  });

  const requestsFor = (transfer: CreditTransfer) => receiver.requests.filter((request) => request.headers['recharge-event-id'] === eventId(transfer));
  const appliedFor = (transfer: CreditTransfer) => receiver.applied.filter((credit) => credit.eventId === eventId(transfer));

  it('sends a paid top-up as a signed credit.transferred event, which the receiver verifies and applies once', async () => {
    const { portal, agent } = shop;
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 1 });
    const transfer = transfers[0]!;
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, delivered: 1 });

    const [request] = requestsFor(transfer);
    expect(request).to.include({ signatureValid: true, applied: true, answer: 204 });
    expect(request!.headers['content-type']).to.equal('application/json');
    expect(request!.headers['recharge-signature']).to.match(/^v1=[0-9a-f]{64}$/);
    expect(request!.event).to.deep.equal({
      id: eventId(transfer),
      type: 'credit.transferred',
      created: transfer.createdAt.toISOString(),
      data: {
        username: 'camille',
        amount: `${Math.trunc(transfer.amount / 100)}.${String(transfer.amount % 100).padStart(2, '0')}`,
        amount_hundredths: transfer.amount,
        ledger_transaction_id: transfer.ledgerTransactionId,
        transaction_kind: 'top_up',
        comment: `Recharge #${transfer.ledgerTransactionId} ${number}`,
      },
    });
    expect(transfer.amount).to.be.greaterThan(0);
    expect(appliedFor(transfer)).to.deep.equal([{ eventId: eventId(transfer), username: 'camille', amountHundredths: transfer.amount }]);
    expect((await transferNow(portal, transfer)).state).to.equal('delivered');
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal(NOTHING);
  });

  it('sends a debit as a negative amount, in units and in hundredths', async () => {
    const { portal } = shop;
    await adjust(portal, admin, 'camille', 'credit', '20');
    const debit = await adjust(portal, admin, 'camille', 'debit', '3,05');
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, delivered: 2 });
    expect(requestsFor(debit)[0]!.event!.data).to.deep.include({ amount: '-3.05', amount_hundredths: -305, transaction_kind: 'adjustment', comment: `Recharge #${debit.ledgerTransactionId} Printer jam` });
  });

  it('sends again, with the same event id, a credit answered 500 after the receiver applied it: delivered, applied once', async () => {
    const { portal } = shop;
    receiver.failNext(1, 500, { afterApplying: true, body: 'Internal Server Error' });
    const transfer = await adjust(portal, admin, 'camille', 'credit', '12,50');
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, retrying: 1 });
    const waiting = await transferNow(portal, transfer);
    expect(waiting).to.include({ state: 'pending', lastError: `credit.transferred ${eventId(transfer)}: the receiver did not acknowledge it, HTTP 500: Internal Server Error` });
    expect(waiting.nextAttemptAt.getTime()).to.equal(portal.clock.now().getTime() + MINUTE);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal(NOTHING);

    portal.clock.advance(MINUTE);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, delivered: 1 });
    const requests = requestsFor(transfer);
    expect(requests.map((request) => [request.event!.id, request.signatureValid, request.applied, request.answer])).to.deep.equal([
      [eventId(transfer), true, true, 500],
      [eventId(transfer), true, false, 204],
    ]);
    expect(appliedFor(transfer)).to.have.length(1);
    expect(await eventsOf(portal, transfer)).to.deep.equal(['attempt', 'retry', 'attempt', 'delivered']);
  });

  for (const lost of ['reset', 'hang'] as const) {
    it(`sends again, with the same event id, a credit whose answer was lost (${lost === 'hang' ? 'timed out' : 'connection reset'}) after it was applied`, async () => {
      const { portal } = shop;
      receiver.failNext(1, lost, { afterApplying: true });
      const transfer = await adjust(portal, admin, 'camille', 'credit', '4');
      expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, retrying: 1 });
      const waiting = await transferNow(portal, transfer);
      expect(waiting.state).to.equal('pending');
      expect(waiting.lastError).to.match(lost === 'hang' ? /timed out after 2000 ms \(after the request was sent\)/ : /after the request was sent/);
      expect(waiting.nextAttemptAt.getTime()).to.equal(portal.clock.now().getTime() + MINUTE);

      portal.clock.advance(MINUTE);
      expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, delivered: 1 });
      expect(requestsFor(transfer).map((request) => [request.event!.id, request.answer])).to.deep.equal([
        [eventId(transfer), lost],
        [eventId(transfer), 204],
      ]);
      expect(appliedFor(transfer)).to.have.length(1);
    });
  }

  it('parks at once a credit the receiver refused with 422, with the receiver\'s reason', async () => {
    const { portal } = shop;
    receiver.failNext(1, 422, { body: 'unknown user camille' });
    const transfer = await adjust(portal, admin, 'camille', 'credit', '2');
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, parked: 1 });
    expect(await transferNow(portal, transfer)).to.include({ state: 'parked', lastError: `credit.transferred ${eventId(transfer)}: the receiver refused it, HTTP 422: unknown user camille` });
    portal.clock.advance(2 * 3600_000);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal(NOTHING);
    expect(requestsFor(transfer)).to.have.length(1);
    expect(appliedFor(transfer)).to.deep.equal([]);
    expect(await eventsOf(portal, transfer)).to.deep.equal(['attempt', 'parked']);
  });

  it('keeps a credit pending while nothing listens at the URL, and delivers it once the receiver is back', async () => {
    const { portal } = shop;
    await receiver.stop();
    const transfer = await adjust(portal, admin, 'camille', 'credit', '7,25');
    try {
      expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, retrying: 1 });
    } finally {
      await receiver.start();
    }
    const waiting = await transferNow(portal, transfer);
    expect(waiting.state).to.equal('pending');
    expect(waiting.lastError).to.match(/connect ECONNREFUSED .* \(before anything was sent\)$/);
    portal.clock.advance(MINUTE);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, delivered: 1 });
    expect(requestsFor(transfer)).to.have.length(1);
    expect(appliedFor(transfer)).to.deep.equal([{ eventId: eventId(transfer), username: 'camille', amountHundredths: 725 }]);
  });

  it('checks its health with a signed ping the receiver answers without applying anything', async () => {
    const before = receiver.requests.length;
    expect(await destination.checkHealth()).to.deep.equal({ reachable: true, credentialsAccepted: true, detail: null });
    const [ping] = receiver.requests.slice(before);
    expect(ping).to.include({ signatureValid: true, applied: false, answer: 204 });
    expect(ping!.event).to.include({ type: 'ping' });
    expect(ping!.event!.id).to.match(/^recharge-ping-\d+$/);
    expect(ping!.headers['recharge-event-id']).to.equal(ping!.event!.id);

    await receiver.stop();
    try {
      expect(await destination.checkHealth()).to.include({ reachable: false, credentialsAccepted: null });
    } finally {
      await receiver.start();
    }
  });
});

describe('Credits sent by webhook with a secret the receiver does not share', () => {
  let receiver: CreditWebhookReceiver;
  let destination: CreditDestination;
  let portal: TestPortal;

  before(async () => {
    receiver = await startCreditWebhookReceiver(SECRET);
    destination = createWebhookDestination({ url: receiver.url, secret: `${SECRET}-not-the-same`, timeoutMs: 2000 });
    portal = await createTestPortal({}, { creditDestination: destination });
  });
  after(async () => {
    await portal?.cleanup();
    await receiver?.stop();
  });

  it('retries a credit refused with 401 with growing delays until CREDIT_GIVE_UP_HOURS, then parks it', async () => {
    const admin = await portal.addUser('admin', 'a good long admin password', { role: 'admin' });
    await portal.addUser('dominique', 'a good long password');
    const transfer = await adjust(portal, admin, 'dominique', 'credit', '5');
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, retrying: 1 });
    expect(await transferNow(portal, transfer)).to.include({ state: 'pending', lastError: `credit.transferred ${eventId(transfer)}: the receiver refused it, HTTP 401: bad signature` });
    expect(receiver.requests.map((request) => [request.signatureValid, request.answer])).to.deep.equal([[false, 401]]);

    portal.clock.advance(MINUTE);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, retrying: 1 });
    expect((await transferNow(portal, transfer)).nextAttemptAt.getTime()).to.equal(portal.clock.now().getTime() + 2 * MINUTE);

    portal.clock.advance(portal.config.credits.giveUpHours * 3600_000);
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, parked: 1 });
    expect((await transferNow(portal, transfer)).state).to.equal('parked');
    expect(await eventsOf(portal, transfer)).to.deep.equal(['attempt', 'retry', 'attempt', 'retry', 'attempt', 'parked']);
    expect(receiver.requests.map((request) => request.headers['recharge-event-id'])).to.deep.equal([eventId(transfer), eventId(transfer), eventId(transfer)]);
    expect(receiver.applied).to.deep.equal([]);
  });

  it('reports the receiver reachable and the credentials refused', async () => {
    const health = await destination.checkHealth();
    expect(health).to.include({ reachable: true, credentialsAccepted: false });
    expect(health.detail).to.match(/HTTP 401: bad signature$/);
  });
});

describe('The receiver of docs/credit-webhook.md', () => {
  let folder: string;
  let receiver: ChildProcess;
  let url: string;

  before(async () => {
    // The documentation's example, as it is printed there.
    const doc = await readFile(path.join(projectRoot, 'docs/credit-webhook.md'), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).to.be.a('string');
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-webhook-receiver-'));
    await writeFile(path.join(folder, 'receiver.mjs'), example!);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/credits`;
    receiver = spawn(process.execPath, [path.join(folder, 'receiver.mjs')], { env: { PATH: process.env.PATH, PORT: String(port), RECHARGE_WEBHOOK_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(receiver, /listening/);
  });
  after(async () => {
    receiver?.kill();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  const transfer = (id: number, amount: number) => ({
    eventId: `recharge-transfer-${id}`,
    ledgerTransactionId: 100 + id,
    transactionKind: 'top_up',
    username: 'zoé',
    amount,
    comment: `Recharge #${100 + id} R-000001`,
    postedAt: new Date(),
  });

  it('accepts what the portal signs, applies an event sent twice once, and refuses another secret', async () => {
    const sender = createWebhookDestination({ url, secret: SECRET, timeoutMs: 2000 });
    expect(await sender.checkHealth()).to.deep.equal({ reachable: true, credentialsAccepted: true, detail: null });
    const output = waitForOutput(receiver, /recharge-transfer-2\)/);
    await sender.send(transfer(1, 1250));
    await sender.send(transfer(1, 1250));
    await sender.send(transfer(2, -300));
    // Printed in order: had the repeat been applied, its line would come before the second event's.
    expect((await output).trim().split('\n')).to.deep.equal(['credited zoé 12.50 (recharge-transfer-1)', 'credited zoé -3.00 (recharge-transfer-2)']);

    const impostor = createWebhookDestination({ url, secret: `${SECRET}-not-the-same`, timeoutMs: 2000 });
    const refusal = await impostor.send(transfer(3, 100)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).to.be.instanceOf(PrintSystemError);
    expect(refusal).to.deep.include({ kind: 'definite_fault', details: { reason: 'access_denied', httpStatus: 401 } });
  });

  it('refuses a request signed more than five minutes ago, however well', async () => {
    const body = JSON.stringify({ id: 'recharge-ping-1', type: 'ping', created: new Date().toISOString() });
    const sentAt = (secondsAgo: number) => Math.floor(Date.now() / 1000) - secondsAgo;
    const replay = async (timestamp: number) =>
      (
        await post(new URL(url), {
          headers: { 'Content-Type': 'application/json', 'Recharge-Timestamp': String(timestamp), 'Recharge-Signature': signWebhook(SECRET, timestamp, body) },
          body: Buffer.from(body),
          timeoutMs: 2000,
          maxResponseBytes: 1024,
        })
      ).status;
    expect(await replay(sentAt(6 * 60))).to.equal(401);
    expect(await replay(sentAt(60))).to.equal(204);
  });
});
