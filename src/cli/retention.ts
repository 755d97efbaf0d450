import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../domain/time/clock.js';
import type { RetentionJobDeps } from '../services/retention/retention-job.js';

/** The retention job's settings, the same for the portal's timer and the command line. */
export function retentionJobDeps(config: Config, db: Database, clock: Clock, logger: Logger): RetentionJobDeps {
  return { db, clock, logger, periods: config.retention, loginWindowMinutes: config.login.windowMinutes, batchSize: config.retention.batchSize };
}
