import type { AuditActor, AuditEntry, AuditRecord } from '../../domain/audit/audit.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

const toJson = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
const fromJson = (value: unknown): unknown => (value == null ? null : JSON.parse(String(value)));

/** Appends to the audit log; call it in the transaction that makes the change, so both commit or neither. */
export async function recordAudit(db: Queryable, record: Omit<AuditRecord, 'actor'> & { actor: AuditActor }, now: Date): Promise<void> {
  await db('audit_log').insert({
    actor_user_id: record.actor.id,
    actor_username: record.actor.username,
    action: record.action,
    target: record.target?.slice(0, 200) ?? null,
    before_json: toJson(record.before),
    after_json: toJson(record.after),
    created_at: now.toISOString(),
  });
}

export interface AuditQuery {
  from?: Date;
  /** Exclusive. */
  until?: Date;
  action?: string;
  limit: number;
  offset: number;
}

/** Newest first. */
export async function listAudit(db: Queryable, query: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }> {
  const filtered = () => {
    const builder = db('audit_log');
    if (query.from) void builder.where('created_at', '>=', query.from.toISOString());
    if (query.until) void builder.where('created_at', '<', query.until.toISOString());
    if (query.action) void builder.where('action', query.action);
    return builder;
  };
  const [rows, count] = await Promise.all([
    filtered().orderBy('id', 'desc').limit(query.limit).offset(query.offset),
    filtered().count({ total: '*' }).first(),
  ]);
  return {
    total: toSafeInteger(count?.total ?? 0),
    entries: (rows as Array<Record<string, unknown>>).map((row) => ({
      id: toSafeInteger(row.id),
      actorUsername: String(row.actor_username),
      action: String(row.action),
      target: row.target == null ? null : String(row.target),
      before: fromJson(row.before_json),
      after: fromJson(row.after_json),
      createdAt: toDate(row.created_at),
    })),
  };
}

/** Every action the log holds, alphabetically (the audit page's filter offers them). */
export async function listAuditActions(db: Queryable): Promise<string[]> {
  const rows: Array<{ action: unknown }> = await db('audit_log').distinct('action').orderBy('action');
  return rows.map((row) => String(row.action));
}
