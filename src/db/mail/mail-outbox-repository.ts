import type { Knex } from 'knex';
import type { MailStatus } from '../../domain/mail/outbox-status.js';
import type { Notice } from '../../domain/mail/notices.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { AttemptOutcome } from '../../domain/mail/retry-schedule.js';
import { optionalDate, type Queryable, toDate, toSafeInteger } from '../database.js';

export interface OutboxMail {
  id: number;
  /** A document's mail: the document, and its number for lists and subjects. Null for a notice. */
  documentId: number | null;
  documentNumber: string | null;
  /** A notice's mail (no document): what it is about, written at each attempt. Null for a document's. */
  notice: Notice | null;
  recipient: string;
  status: MailStatus;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
  lastError: string | null;
  messageId: string;
  createdAt: Date;
  /** When it was queued, or last put back by an admin: attempts give up counting from here. */
  triesSince: Date;
  sentAt: Date | null;
}

function toMail(row: Record<string, unknown>): OutboxMail {
  return {
    id: toSafeInteger(row.id),
    documentId: row.document_id == null ? null : toSafeInteger(row.document_id),
    documentNumber: row.document_number == null ? null : String(row.document_number),
    notice: row.notice_kind == null ? null : { kind: String(row.notice_kind), params: JSON.parse(String(row.notice_params)) as Notice['params'], locale: row.locale as Locale },
    recipient: String(row.recipient),
    status: row.status as MailStatus,
    attempts: toSafeInteger(row.attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    leaseUntil: optionalDate(row.lease_until),
    lastError: row.last_error == null ? null : String(row.last_error),
    messageId: String(row.message_id),
    createdAt: toDate(row.created_at),
    triesSince: toDate(row.tries_since),
    sentAt: optionalDate(row.sent_at),
  };
}

const withDocumentNumber = (db: Queryable) => db('mail_outbox').leftJoin('documents', 'documents.id', 'mail_outbox.document_id').select('mail_outbox.*', 'documents.number as document_number');

/** Queues one mail in the caller's transaction unless one has its `sendKey` already; answers whether it was queued now. */
async function enqueue(trx: Knex.Transaction, content: Record<string, unknown>, mail: { sendKey: string; recipient: string; messageId: string }, now: Date): Promise<boolean> {
  const inserted = await trx('mail_outbox')
    .insert({
      ...content,
      send_key: mail.sendKey,
      recipient: mail.recipient,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now.toISOString(),
      message_id: mail.messageId,
      created_at: now.toISOString(),
      tries_since: now.toISOString(),
    })
    .onConflict('send_key')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/**
 * Queues a mail of a document in the caller's transaction, once per `sendKey` (domain/mail/outbox-keys.ts):
 * the document's own mail once, each "send again" once. Answers whether it was queued now.
 */
export function enqueueMail(trx: Knex.Transaction, mail: { documentId: number; sendKey: string; recipient: string; messageId: string }, now: Date): Promise<boolean> {
  return enqueue(trx, { document_id: mail.documentId }, mail, now);
}

/** Queues a notice (a mail with no document) in the caller's transaction, once per `sendKey`; answers whether it was queued now. */
export function enqueueNoticeMail(trx: Knex.Transaction, mail: { notice: Notice; sendKey: string; recipient: string; messageId: string }, now: Date): Promise<boolean> {
  return enqueue(trx, { notice_kind: mail.notice.kind, notice_params: JSON.stringify(mail.notice.params), locale: mail.notice.locale }, mail, now);
}

/** Whether a mail was queued under `sendKey`. */
export async function isMailQueued(db: Queryable, sendKey: string): Promise<boolean> {
  return (await db('mail_outbox').where('send_key', sendKey).first('id')) !== undefined;
}

/** Due: pending and its time has come, or being sent by a holder whose lease ran out (it died or hung). */
function whereDue(query: Knex.QueryBuilder, now: Date): Knex.QueryBuilder {
  return query.where((due) =>
    due
      .where((pending) => pending.where('mail_outbox.status', 'pending').where('mail_outbox.next_attempt_at', '<=', now.toISOString()))
      .orWhere((abandoned) => abandoned.where('mail_outbox.status', 'sending').where('mail_outbox.lease_until', '<', now.toISOString())),
  );
}

export async function listDueMailIds(db: Queryable, now: Date, limit: number): Promise<number[]> {
  const rows: Array<{ id: unknown }> = await whereDue(db('mail_outbox').select('id'), now).orderBy('id').limit(limit);
  return rows.map((row) => toSafeInteger(row.id));
}

/**
 * Takes a due mail for one delivery attempt (a compare-and-set, so of two instances only one gets it)
 * and returns it with its new attempt count, the token that finishing the attempt must present.
 */
export async function claimMail(db: Queryable, id: number, now: Date, leaseMs: number): Promise<OutboxMail | undefined> {
  const claimed = await whereDue(db('mail_outbox').where('id', id), now).update({
    status: 'sending',
    lease_until: new Date(now.getTime() + leaseMs).toISOString(),
    attempts: db.raw('attempts + 1'),
  });
  return claimed === 1 ? findMail(db, id) : undefined;
}

/** Records how an attempt ended, unless the lease was lost and another attempt took the mail over. */
export async function finishAttempt(db: Queryable, mail: Pick<OutboxMail, 'id' | 'attempts'>, outcome: AttemptOutcome, now: Date): Promise<boolean> {
  const columns =
    outcome.status === 'pending'
      ? { next_attempt_at: outcome.nextAttemptAt.toISOString(), last_error: outcome.error.slice(0, 1000) }
      : outcome.status === 'failed'
        ? { last_error: outcome.error.slice(0, 1000) }
        : { sent_at: now.toISOString() };
  const changed = await db('mail_outbox')
    .where({ id: mail.id, status: 'sending', attempts: mail.attempts })
    .update({ ...columns, status: outcome.status, lease_until: null });
  return changed === 1;
}

/** An admin's "try again now" on a mail that gave up: due at once and tried as long as a new one, its attempts kept for the record. */
export async function requeueFailedMail(db: Queryable, id: number, now: Date): Promise<boolean> {
  const changed = await db('mail_outbox').where({ id, status: 'failed' }).update({ status: 'pending', next_attempt_at: now.toISOString(), tries_since: now.toISOString() });
  return changed === 1;
}

/** A mail by its id, or a document's own mail (the first queued for it). */
export async function findMail(db: Queryable, by: number | { documentId: number }): Promise<OutboxMail | undefined> {
  const row = await withDocumentNumber(db)
    .where(typeof by === 'number' ? { 'mail_outbox.id': by } : { 'mail_outbox.document_id': by.documentId })
    .orderBy('mail_outbox.id')
    .first();
  return row ? toMail(row) : undefined;
}

/** Newest first, optionally of one status. */
export async function listMails(db: Queryable, query: { status?: MailStatus; offset: number; limit: number }): Promise<{ mails: OutboxMail[]; total: number }> {
  const filter = (builder: Knex.QueryBuilder) => (query.status ? builder.where('mail_outbox.status', query.status) : builder);
  const [rows, [count]] = await Promise.all([
    filter(withDocumentNumber(db)).orderBy('mail_outbox.id', 'desc').offset(query.offset).limit(query.limit) as Promise<Array<Record<string, unknown>>>,
    filter(db('mail_outbox').count({ total: '*' })) as Promise<Array<{ total: unknown }>>,
  ]);
  return { mails: rows.map(toMail), total: toSafeInteger(count?.total ?? 0) };
}
