import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import type { Clock } from '../../domain/time/clock.js';
import type { CreditDestination } from '../../print-systems/credit-destination.js';
import { createPrintBalances, type PrintBalances } from './print-balances.js';
import { createTransferDelivery, type TransferDelivery } from './transfer-delivery.js';

/** How long a page waits for the print system's balance before it shows the last known one. */
const PAGE_WAIT_MS = 1_500;

/** How long an attempt holds its transfer: three calls (balance, send, balance after a lost answer) with their timeouts, and a margin. */
const transferLeaseMs = (credits: Config['credits']) => Math.max(60_000, 3 * credits.timeoutMs + 10_000);

/** The print system credits go to (CREDIT_DESTINATION), as the pages and the process entry use it. */
export interface PrintSystem {
  delivery: TransferDelivery;
  balances: PrintBalances;
}

export function createPrintSystem(deps: { config: Config; db: Database; clock: Clock; logger: Logger; destination: CreditDestination }): PrintSystem {
  const { config, db, clock, logger, destination } = deps;
  const balances = createPrintBalances({ destination, clock, cacheMs: config.credits.balanceCacheSeconds * 1000, waitMs: Math.min(PAGE_WAIT_MS, config.credits.timeoutMs) });
  return {
    delivery: createTransferDelivery({
      db,
      clock,
      logger,
      destination,
      giveUpAfterMs: config.credits.giveUpHours * 3600_000,
      deliverOnPosting: config.credits.deliverOnPosting,
      leaseMs: transferLeaseMs(config.credits),
      // The person's next page shows the credit at once, not after the cache's time.
      onDelivered: balances.forget,
    }),
    balances,
  };
}
