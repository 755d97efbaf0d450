import type { Knex } from 'knex';
import type { CreditDestinationKind, TransferState } from '../../domain/credit-transfers/transfers.js';
import { optionalDate, optionalInteger, type Queryable, toDate, toSafeInteger } from '../database.js';

export interface CreditDestinationRow {
  kind: CreditDestinationKind;
  label: string;
}

export interface CreditTransfer {
  id: number;
  ledgerTransactionId: number;
  /** The ledger transaction's description: the order's or quote's number, an admin's reason. */
  description: string | null;
  transactionKind: string;
  userId: number;
  username: string;
  amount: number;
  destination: CreditDestinationKind;
  state: TransferState;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
  triesSince: Date;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export type TransferEventName =
  | 'attempt'
  | 'delivered'
  | 'retry'
  | 'parked'
  | 'unknown'
  | 'interrupted'
  | 'marked_applied'
  | 'sent_again';

export interface TransferEvent {
  id: number;
  transferId: number;
  at: Date;
  event: TransferEventName;
  attempt: number | null;
  detail: string | null;
  balanceBefore: number | null;
  balanceAfter: number | null;
  actorId: number | null;
  actorUsername: string | null;
}

function toTransfer(row: Record<string, unknown>): CreditTransfer {
  return {
    id: toSafeInteger(row.id),
    ledgerTransactionId: toSafeInteger(row.ledger_transaction_id),
    description: row.description == null ? null : String(row.description),
    transactionKind: String(row.transaction_kind),
    userId: toSafeInteger(row.user_id),
    username: String(row.username),
    amount: toSafeInteger(row.amount),
    destination: row.destination as CreditDestinationKind,
    state: row.state as TransferState,
    attempts: toSafeInteger(row.attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    leaseUntil: optionalDate(row.lease_until),
    triesSince: toDate(row.tries_since),
    lastError: row.last_error == null ? null : String(row.last_error),
    createdAt: toDate(row.created_at),
    deliveredAt: optionalDate(row.delivered_at),
  };
}

const withDetails = (db: Queryable) =>
  db('credit_transfers')
    .join('users', 'users.id', 'credit_transfers.user_id')
    .join('ledger_transactions', 'ledger_transactions.id', 'credit_transfers.ledger_transaction_id')
    .select('credit_transfers.*', 'users.username', 'ledger_transactions.description', 'ledger_transactions.kind as transaction_kind');

export async function readCreditDestination(db: Queryable): Promise<CreditDestinationRow | undefined> {
  const row = await db('credit_destination').where('id', 1).first('kind', 'label');
  return row ? { kind: row.kind as CreditDestinationKind, label: String(row.label) } : undefined;
}

/** Records where this database's credits go (null: the ledger alone); transfers queued before keep their destination. */
export async function writeCreditDestination(db: Queryable, destination: CreditDestinationRow | null, now: Date): Promise<void> {
  if (!destination) {
    await db('credit_destination').del();
    return;
  }
  await db('credit_destination')
    .insert({ id: 1, kind: destination.kind, label: destination.label, configured_at: now.toISOString() })
    .onConflict('id')
    .merge(['kind', 'label', 'configured_at']);
}

/**
 * Queues the transfer of each person's line of a ledger transaction, in the posting's own database
 * transaction, when a destination is set; once per (transaction, person), whatever replays it.
 */
export async function queueCreditTransfers(trx: Knex.Transaction, posting: { ledgerTransactionId: number; lines: Array<{ userId: number; amount: number }> }, now: Date): Promise<void> {
  if (posting.lines.length === 0) return;
  const destination = await readCreditDestination(trx);
  if (!destination) return;
  const at = now.toISOString();
  await trx('credit_transfers')
    .insert(
      posting.lines.map((line) => ({
        ledger_transaction_id: posting.ledgerTransactionId,
        user_id: line.userId,
        amount: line.amount,
        destination: destination.kind,
        state: 'pending',
        attempts: 0,
        next_attempt_at: at,
        tries_since: at,
        created_at: at,
      })),
    )
    .onConflict(['ledger_transaction_id', 'user_id'])
    .ignore();
}

/** Pending transfers queued by postings dated before `now` (the demo's history) are due now, their give-up time counted from now. */
export async function restartTransferClocks(db: Queryable, now: Date): Promise<void> {
  const at = now.toISOString();
  await db('credit_transfers').where('state', 'pending').where('tries_since', '<', at).update({ tries_since: at, next_attempt_at: at });
}

/** Due transfers queued for `destination`: those queued for another (before CREDIT_DESTINATION changed) are never sent here. */
export async function listDueTransferIds(db: Queryable, destination: CreditDestinationKind, now: Date, limit: number): Promise<number[]> {
  const rows: Array<{ id: unknown }> = await db('credit_transfers')
    .where({ state: 'pending', destination })
    .where('next_attempt_at', '<=', now.toISOString())
    .orderBy('id')
    .limit(limit)
    .select('id');
  return rows.map((row) => toSafeInteger(row.id));
}

/**
 * Transfers whose attempt's holder died or hung: its lease ran out while it was delivering. Of every
 * destination (taking one over sends nothing), with the attempt's number and the destination it was for.
 */
export async function listAbandonedTransfers(db: Queryable, now: Date, limit: number): Promise<Array<{ id: number; attempts: number; destination: CreditDestinationKind }>> {
  const rows: Array<{ id: unknown; attempts: unknown; destination: unknown }> = await db('credit_transfers')
    .where('state', 'delivering')
    .where('lease_until', '<', now.toISOString())
    .orderBy('id')
    .limit(limit)
    .select('id', 'attempts', 'destination');
  return rows.map((row) => ({ id: toSafeInteger(row.id), attempts: toSafeInteger(row.attempts), destination: row.destination as CreditDestinationKind }));
}

/**
 * Takes a due transfer for one attempt (a compare-and-set, so of two instances only one gets it) and
 * returns it with its new attempt count, the token that finishing the attempt must present. The caller
 * commits this before it sends anything: a holder that dies leaves `delivering` behind, never a doubt
 * hidden as `pending`.
 */
export async function claimTransfer(db: Queryable, id: number, now: Date, leaseMs: number): Promise<CreditTransfer | undefined> {
  const claimed = await db('credit_transfers')
    .where({ id, state: 'pending' })
    .where('next_attempt_at', '<=', now.toISOString())
    .update({ state: 'delivering', lease_until: new Date(now.getTime() + leaseMs).toISOString(), attempts: db.raw('attempts + 1') });
  return claimed === 1 ? findTransfer(db, id) : undefined;
}

/**
 * Just before sending: the attempt takes its lease anew, if it still holds the transfer (a compare-and-set
 * on the state and its attempt count). An attempt that stalled past its lease and was taken over (made
 * unknown, perhaps sent again by an admin's decision) finds it changed, and must not send.
 */
export async function renewLease(db: Queryable, transfer: Pick<CreditTransfer, 'id' | 'attempts'>, now: Date, leaseMs: number): Promise<boolean> {
  const changed = await db('credit_transfers')
    .where({ id: transfer.id, state: 'delivering', attempts: transfer.attempts })
    .update({ lease_until: new Date(now.getTime() + leaseMs).toISOString() });
  return changed === 1;
}

export type TransferAttemptEnd =
  | { state: 'delivered' }
  | { state: 'pending'; nextAttemptAt: Date; error: string }
  | { state: 'parked' | 'unknown'; error: string };

/** Records how an attempt ended, unless its lease was lost and the transfer was taken over (then false). */
export async function finishTransferAttempt(db: Queryable, transfer: Pick<CreditTransfer, 'id' | 'attempts'>, end: TransferAttemptEnd, now: Date): Promise<boolean> {
  const columns =
    end.state === 'delivered'
      ? { delivered_at: now.toISOString(), last_error: null }
      : end.state === 'pending'
        ? { next_attempt_at: end.nextAttemptAt.toISOString(), last_error: end.error.slice(0, 1000) }
        : { last_error: end.error.slice(0, 1000) };
  const changed = await db('credit_transfers')
    .where({ id: transfer.id, state: 'delivering', attempts: transfer.attempts })
    .update({ ...columns, state: end.state, lease_until: null });
  return changed === 1;
}

/** An abandoned attempt becomes `unknown` (or, where resending is safe, `pending`), if it is still abandoned. */
export async function takeOverAbandonedTransfer(db: Queryable, id: number, state: 'unknown' | 'pending', error: string, now: Date): Promise<boolean> {
  const changed = await db('credit_transfers')
    .where({ id, state: 'delivering' })
    .where('lease_until', '<', now.toISOString())
    .update({ state, lease_until: null, last_error: error.slice(0, 1000), next_attempt_at: now.toISOString() });
  return changed === 1;
}

/**
 * An admin's decision on a parked or unknown transfer: `delivered` (it was applied, or they applied it
 * by hand) or `pending` (send again now, with a fresh give-up clock). A compare-and-set on the state and
 * attempt count the admin saw: a decision taken meanwhile by someone else (or an attempt since) wins,
 * and this one changes nothing (false).
 */
export async function resolveTransfer(db: Queryable, seen: Pick<CreditTransfer, 'id' | 'state' | 'attempts'>, to: 'delivered' | 'pending', now: Date): Promise<boolean> {
  const at = now.toISOString();
  const columns = to === 'delivered' ? { delivered_at: at } : { next_attempt_at: at, tries_since: at };
  const changed = await db('credit_transfers')
    .where({ id: seen.id, state: seen.state, attempts: seen.attempts })
    .whereIn('state', ['parked', 'unknown'])
    .update({ ...columns, state: to });
  return changed === 1;
}

export async function recordTransferEvent(
  db: Queryable,
  event: { transferId: number; event: TransferEventName; attempt?: number | null; detail?: string | null; balanceBefore?: number | null; balanceAfter?: number | null; actorId?: number | null },
  now: Date,
): Promise<void> {
  await db('credit_transfer_events').insert({
    transfer_id: event.transferId,
    at: now.toISOString(),
    event: event.event,
    attempt: event.attempt ?? null,
    detail: event.detail?.slice(0, 1000) ?? null,
    balance_before: event.balanceBefore ?? null,
    balance_after: event.balanceAfter ?? null,
    actor_id: event.actorId ?? null,
  });
}

export async function findTransfer(db: Queryable, id: number): Promise<CreditTransfer | undefined> {
  const row = await withDetails(db).where('credit_transfers.id', id).first();
  return row ? toTransfer(row) : undefined;
}

export async function listTransferEvents(db: Queryable, transferId: number): Promise<TransferEvent[]> {
  const rows: Array<Record<string, unknown>> = await db('credit_transfer_events')
    .leftJoin('users', 'users.id', 'credit_transfer_events.actor_id')
    .where('credit_transfer_events.transfer_id', transferId)
    .orderBy('credit_transfer_events.id')
    .select('credit_transfer_events.*', 'users.username as actor_username');
  return rows.map((row) => ({
    id: toSafeInteger(row.id),
    transferId: toSafeInteger(row.transfer_id),
    at: toDate(row.at),
    event: row.event as TransferEventName,
    attempt: optionalInteger(row.attempt),
    detail: row.detail == null ? null : String(row.detail),
    balanceBefore: optionalInteger(row.balance_before),
    balanceAfter: optionalInteger(row.balance_after),
    actorId: optionalInteger(row.actor_id),
    actorUsername: row.actor_username == null ? null : String(row.actor_username),
  }));
}

/** Newest first, optionally of one state or one person. */
export async function listTransfers(db: Queryable, query: { state?: TransferState; userId?: number; offset: number; limit: number }): Promise<{ transfers: CreditTransfer[]; total: number }> {
  const filter = (builder: Knex.QueryBuilder) => {
    if (query.state) void builder.where('credit_transfers.state', query.state);
    if (query.userId !== undefined) void builder.where('credit_transfers.user_id', query.userId);
    return builder;
  };
  const [rows, [count]] = await Promise.all([
    filter(withDetails(db)).orderBy('credit_transfers.id', 'desc').offset(query.offset).limit(query.limit) as Promise<Array<Record<string, unknown>>>,
    filter(db('credit_transfers').count({ total: '*' })) as Promise<Array<{ total: unknown }>>,
  ]);
  return { transfers: rows.map(toTransfer), total: toSafeInteger(count?.total ?? 0) };
}

/** The transfers of these ledger transactions (an order's credit and take-backs), oldest first. */
export async function listTransfersOfTransactions(db: Queryable, ledgerTransactionIds: readonly number[]): Promise<CreditTransfer[]> {
  if (ledgerTransactionIds.length === 0) return [];
  const rows: Array<Record<string, unknown>> = await withDetails(db).whereIn('credit_transfers.ledger_transaction_id', ledgerTransactionIds).orderBy('credit_transfers.id');
  return rows.map(toTransfer);
}

/** How many transfers are in each state (states without any are absent). */
export async function countTransfersByState(db: Queryable): Promise<Partial<Record<TransferState, number>>> {
  const rows: Array<{ state: unknown; total: unknown }> = await db('credit_transfers').groupBy('state').select('state').count({ total: '*' });
  return Object.fromEntries(rows.map((row) => [String(row.state), toSafeInteger(row.total)]));
}

/** When a transfer was last delivered by an attempt (not an admin's mark), for the connector's health. */
export async function lastDeliveryAt(db: Queryable): Promise<Date | null> {
  const row = await db('credit_transfer_events').where('event', 'delivered').max({ at: 'at' }).first();
  return optionalDate(row?.at);
}

/**
 * Pending transfers queued (or put back by an admin) before `queuedBefore`: late, whether their attempts
 * keep failing or none was made (the worker not running), for the dashboard.
 */
export async function countLatePendingTransfers(db: Queryable, queuedBefore: Date): Promise<number> {
  const [row] = (await db('credit_transfers').where('state', 'pending').where('tries_since', '<', queuedBefore.toISOString()).count({ total: '*' })) as Array<{ total: unknown }>;
  return toSafeInteger(row?.total ?? 0);
}
