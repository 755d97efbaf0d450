import type { Logger } from 'pino';
import { runIfLockFree } from '../../db/advisory-lock.js';
import type { Database } from '../../db/database.js';
import { purgeRetentionBatch } from '../../db/retention/retention-repository.js';
import { RETENTION_KINDS, retentionCutoffs, type RetentionCounts, type RetentionKind, type RetentionPeriods } from '../../domain/retention/retention-periods.js';
import type { Clock } from '../../domain/time/clock.js';

export interface RetentionJobDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  periods: RetentionPeriods;
  /** The login throttle's counting window (config.login.windowMinutes). */
  loginWindowMinutes: number;
  batchSize: number;
}

/** `failed`: the kinds a database error stopped (logged); the others ran all the same. */
export type RetentionRun = { ran: true; removed: RetentionCounts; failed: RetentionKind[] } | { ran: false };

/**
 * Removes what is older than its period, kind by kind, batch by batch (each batch a short statement or
 * transaction), and logs what went. One run at a time across every instance (the `retention` advisory
 * lock on PostgreSQL; SQLite has one instance): a run finding the lock taken does nothing. Every delete
 * is of rows already due and checks that again, so a run repeated or interrupted half-way is harmless.
 * The ledger is never touched, and documents only lose their copy of an anonymised buyer once the
 * accounting period is over.
 */
export function createRetentionJob(deps: RetentionJobDeps) {
  const { db, clock, logger } = deps;

  async function removeDue(): Promise<{ removed: RetentionCounts; failed: RetentionKind[] }> {
    const cutoffs = retentionCutoffs(deps.periods, clock.now(), deps.loginWindowMinutes);
    const removed = Object.fromEntries(RETENTION_KINDS.map((kind) => [kind, 0])) as RetentionCounts;
    const failed: RetentionKind[] = [];
    for (const kind of RETENTION_KINDS) {
      try {
        for (;;) {
          const count = await purgeRetentionBatch(db, kind, cutoffs, deps.batchSize);
          removed[kind] += count;
          if (count < deps.batchSize) break;
        }
      } catch (error) {
        // One kind refused (a row still pointed at, a database that went away) does not keep the others.
        logger.error({ err: error, kind }, 'retention: removing rows past their period failed');
        failed.push(kind);
      }
    }
    return { removed, failed };
  }

  return {
    async run(): Promise<RetentionRun> {
      const run = await runIfLockFree(db.knex, 'retention', removeDue);
      if (!run.ran) {
        logger.debug('retention skipped: another process holds the retention lock');
        return { ran: false };
      }
      const removed = Object.fromEntries(Object.entries(run.value.removed).filter(([, count]) => count > 0));
      if (Object.keys(removed).length > 0) logger.info({ removed }, 'retention: removed rows past their period');
      else logger.debug('retention: nothing past its period');
      return { ran: true, ...run.value };
    },
  };
}

export type RetentionJob = ReturnType<typeof createRetentionJob>;
