import type { Database } from '../../db/database.js';
import { countLedgerTransactionsByKind, ledgerHighWater } from '../../db/monitoring/monitoring-repository.js';

/**
 * Ledger transactions per kind, at a cost that does not grow with the ledger. The ledger is append-only,
 * so the rows up to a settled id are counted once and kept, and each reading counts afresh only the
 * rows above it (a primary-key range). An id is settled once no row below it can still appear. On
 * PostgreSQL ids are drawn from a sequence before the transaction holding one commits, so a lower id
 * can become visible after a higher one, and keeping a count past the highest visible id would miss it
 * for good. So the highest id a reading sees is settled when the transactions then writing to the
 * ledger have all ended: at once when there were none (always on SQLite), else at a later reading.
 * Only the first reading of a process counts the whole table (and the second, when the first had to
 * leave its highest id unsettled).
 */
export function ledgerCounts({ db }: { db: Database }): () => Promise<Map<string, number>> {
  let settled = { lastId: 0, counts: new Map<string, number>() };
  /** A highest id seen while some transactions were writing: settled when none of them is left. */
  let candidate: { lastId: number; writers: string[] } | null = null;

  const read = async (): Promise<Map<string, number>> => {
    const { lastId, writers } = await ledgerHighWater(db.knex);
    let settling = settled.lastId;
    if (candidate && !candidate.writers.some((writer) => writers.includes(writer))) {
      settling = candidate.lastId;
      candidate = null;
    }
    if (writers.length === 0) settling = lastId;
    else candidate ??= { lastId, writers };
    if (settling > settled.lastId) {
      const added = await countLedgerTransactionsByKind(db.knex, { after: settled.lastId, upTo: settling });
      settled = { lastId: settling, counts: sum(settled.counts, added) };
    }
    return sum(settled.counts, await countLedgerTransactionsByKind(db.knex, { after: settled.lastId }));
  };

  // One reading at a time: two at once could add the same rows to the settled counts twice.
  let previous: Promise<unknown> = Promise.resolve();
  return () => {
    const reading = previous.then(read);
    previous = reading.catch(() => undefined);
    return reading;
  };
}

function sum(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const total = new Map(a);
  for (const [key, count] of b) total.set(key, (total.get(key) ?? 0) + count);
  return total;
}
