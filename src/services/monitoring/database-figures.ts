import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { countMailsByStatus, countOrdersByStatus } from '../../db/monitoring/monitoring-repository.js';
import { countTransfersByState } from '../../db/credit-transfers/transfer-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import { ledgerCounts } from './ledger-counts.js';

/** What /metrics reports from the database rather than from this process: the same on every instance. */
export interface DatabaseFigures {
  ordersByStatus: Map<string, number>;
  mailsByStatus: Map<string, number>;
  ledgerTransactionsByKind: Map<string, number>;
  creditTransfersByState: Map<string, number>;
}

/**
 * The figures, read at most once per `maxAgeMs`: scrapes closer together than that (two Prometheus
 * servers, someone with curl) share one reading, and those arriving while it runs wait for it. So the
 * database answers four grouped counts at most that often, however often /metrics is asked; the
 * ledger's covers only its recent rows (ledger-counts.ts). null when the database did not answer
 * (logged); that reading is kept as long, so a database in trouble is not asked more often either.
 */
export function databaseFigures({ db, clock, logger, maxAgeMs }: { db: Database; clock: Clock; logger: Logger; maxAgeMs: number }): () => Promise<DatabaseFigures | null> {
  let last: { at: number; figures: Promise<DatabaseFigures | null> } | null = null;
  const countLedgerTransactionsByKind = ledgerCounts({ db });
  const read = async (): Promise<DatabaseFigures | null> => {
    try {
      const [ordersByStatus, mailsByStatus, ledgerTransactionsByKind, transfersByState] = await Promise.all([
        countOrdersByStatus(db.knex),
        countMailsByStatus(db.knex),
        countLedgerTransactionsByKind(),
        countTransfersByState(db.knex),
      ]);
      return { ordersByStatus, mailsByStatus, ledgerTransactionsByKind, creditTransfersByState: new Map(Object.entries(transfersByState)) };
    } catch (error) {
      logger.error({ err: error }, 'metrics: reading the figures from the database failed');
      return null;
    }
  };
  return () => {
    const now = clock.now().getTime();
    if (last === null || now - last.at >= maxAgeMs || now < last.at) last = { at: now, figures: read() };
    return last.figures;
  };
}
