import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TRANSFER_STATES } from '../../domain/credit-transfers/transfers.js';
import type { Database } from '../../db/database.js';
import { ORDER_STATUSES } from '../../domain/checkout/order-status.js';
import { MAIL_STATUSES } from '../../domain/mail/outbox-status.js';
import { TRANSACTION_KINDS } from '../../domain/ledger/ledger.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Checkout } from '../checkout/checkout.js';
import { databaseFigures } from './database-figures.js';

const PREFIX = 'recharge_';

/** Scrapes within this long of a database reading are answered from it (database-figures.ts). */
const DATABASE_READING_MAX_AGE_MS = 5_000;

/** A sweep looks up to every unfinished order at PayPal: from milliseconds to minutes. */
const SWEEP_BUCKETS_SECONDS = [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

export interface TimedRequest {
  method: string;
  /** The route's template (`/orders/:number`), never the path asked for. */
  route: string;
  /** The answer's status code, or `aborted` when the connection closed before the answer was sent. */
  status: number | 'aborted';
  seconds: number;
}

export interface PortalMetrics {
  /** This app's own registry: tests build many apps in one process, so prom-client's global one is never used. */
  registry: Registry;
  observeRequest(request: TimedRequest): void;
  /** The same checkout, its sweeps counted by outcome and timed. */
  countSweeps(checkout: Checkout): Checkout;
}

/**
 * What /metrics shows. Events of this process (requests, sweeps) are counters and histograms kept in
 * memory. States and totals that live in the database (orders, the mail queue, the ledger) are read
 * from it at scrape time rather than counted here: every instance then reports the truth, including
 * what other instances, the CLI and webhooks handled elsewhere did, and a restart loses nothing.
 * Aggregate those with max, not sum, across instances.
 */
export function createPortalMetrics({ db, clock, logger }: { db: Database; clock: Clock; logger: Logger }): PortalMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];

  const requestDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time to answer an HTTP request, by method, route template and status code (aborted: the connection closed first).',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });

  const sweepOutcomes = ['completed', 'failed'] as const;
  const sweeps = new Counter({
    name: `${PREFIX}reconciler_sweeps_total`,
    help: 'Reconciler sweeps run by this process, by outcome (a sweep skipped because another process held the lock is not counted).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const sweepDuration = new Histogram({
    name: `${PREFIX}reconciler_sweep_duration_seconds`,
    help: 'Time a reconciler sweep of this process took, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: SWEEP_BUCKETS_SECONDS,
    registers,
  });
  // Both outcomes exist from the start, so that an alert on failed sweeps has a series to watch.
  for (const outcome of sweepOutcomes) sweeps.inc({ outcome }, 0);

  new Counter({
    name: `${PREFIX}database_statements_total`,
    help: 'SQL statements this process sent to the database (BEGIN and COMMIT included): the benchmark divides it by the requests answered.',
    registers,
    collect() {
      this.reset();
      this.inc(db.statementCount());
    },
  });

  const figures = databaseFigures({ db, clock, logger, maxAgeMs: DATABASE_READING_MAX_AGE_MS });
  new Gauge({
    name: `${PREFIX}database_figures_read`,
    help: '1 when the figures read from the database (orders, mail queue, ledger) are in this scrape, 0 when the database did not answer and they are left out.',
    registers,
    async collect() {
      this.set((await figures()) ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}top_up_orders`,
    help: 'Top-up orders by status, counted in the database at scrape time (the same on every instance).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = (await figures())?.ordersByStatus;
      this.reset();
      // Every status is shown, 0 included, so that a status emptying reads 0 rather than vanishing.
      if (counts) for (const status of ORDER_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}mail_outbox`,
    help: 'Receipt and credit-note mails by status, counted in the database at scrape time: pending and sending are the queue.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = (await figures())?.mailsByStatus;
      this.reset();
      if (counts) for (const status of MAIL_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}credit_transfers`,
    help: 'Credits for the print system (CREDIT_DESTINATION) by state, counted in the database at scrape time: parked and unknown wait for an admin.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = (await figures())?.creditTransfersByState;
      this.reset();
      if (counts) for (const state of TRANSFER_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  // A counter read from the database: the ledger is append-only, so the count only grows (rate() works).
  new Counter({
    name: `${PREFIX}ledger_transactions_total`,
    help: 'Ledger transactions posted, by kind, counted in the database at scrape time (every instance and the CLI included; the same on every instance).',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      const counts = (await figures())?.ledgerTransactionsByKind;
      this.reset();
      if (counts) for (const kind of TRANSACTION_KINDS) this.inc({ kind }, counts.get(kind) ?? 0);
    },
  });

  const timedSweep = async <T>(sweep: () => Promise<T>): Promise<T> => {
    const stop = sweepDuration.startTimer();
    const record = (outcome: (typeof sweepOutcomes)[number]) => {
      stop({ outcome });
      sweeps.inc({ outcome });
    };
    try {
      const result = await sweep();
      record('completed');
      return result;
    } catch (error) {
      record('failed');
      throw error;
    }
  };

  return {
    registry,
    observeRequest: ({ method, route, status, seconds }) => requestDuration.observe({ method, route, status: String(status) }, seconds),
    countSweeps: (checkout) => ({ ...checkout, reconcile: () => timedSweep(() => checkout.reconcile()) }),
  };
}
