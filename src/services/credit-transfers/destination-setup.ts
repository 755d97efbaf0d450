import type { Database } from '../../db/database.js';
import { readCreditDestination, writeCreditDestination } from '../../db/credit-transfers/transfer-repository.js';
import type { CreditDestination } from '../../print-systems/credit-destination.js';

/**
 * Records in the database where credits go, before anything is posted: the ledger queues a transfer
 * with each person's posting only while a destination is recorded. Every instance of one database must
 * be configured alike; the last to start wins, and a change is said in the log.
 */
export async function recordCreditDestination(db: Database, destination: CreditDestination | null, now: Date): Promise<{ changedFrom: string | null }> {
  const before = await readCreditDestination(db.knex);
  const wanted = destination ? { kind: destination.kind, label: destination.label } : null;
  await writeCreditDestination(db.knex, wanted, now);
  const same = (before?.kind ?? null) === (wanted?.kind ?? null) && (before?.label ?? null) === (wanted?.label ?? null);
  return { changedFrom: same ? null : (before?.label ?? 'the ledger alone') };
}
