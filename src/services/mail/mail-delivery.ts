import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { claimMail, finishAttempt, listDueMailIds, type OutboxMail } from '../../db/mail/mail-outbox-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import type { ComposedMail } from './document-mail.js';
import { afterFailure, type AttemptOutcome } from '../../domain/mail/retry-schedule.js';
import { MailTransportError, type MailTransport } from '../../smtp/transport.js';
import { createSerialRuns } from '../outbox/serial-runs.js';

export interface MailDeliveryDependencies {
  db: Database;
  clock: Clock;
  logger: Logger;
  transport: MailTransport;
  /** The mail as sent: a document's (its PDF attached) or a notice's. */
  compose: (mail: OutboxMail) => Promise<ComposedMail>;
  /** A mail still not delivered this long after it was queued is marked failed at its next failure. */
  giveUpAfterMs: number;
  /** Completes a Message-ID queued without a domain (by the ledger's posting, which knows no portal address). */
  mailDomain: string;
  /** Deliver as soon as a document is issued (kick), besides the timer. */
  deliverOnIssue: boolean;
  /** How long a claimed mail is ours; past it, another run takes it over. Longer than any send (transport timeouts). */
  leaseMs?: number;
}

export interface DeliveryCounts {
  sent: number;
  kept: number;
  retrying: number;
  failed: number;
}

const BATCH = 20;

/** The same on every attempt: `<local>` becomes `<local@domain>`; a complete one is kept. */
const withDomain = (messageId: string, domain: string) => (messageId.includes('@') ? messageId : messageId.replace(/>$/, `@${domain}>`));
const DEFAULT_LEASE_MS = 2 * 60_000;

/**
 * Sends the mails of the outbox. Each attempt claims its mail first (compare-and-set with a lease),
 * so however many runs and instances go at once, a mail is handed to the transport by one of them;
 * only a holder that dies after sending and before recording it can cause a second copy, which then
 * carries the same Message-ID. Payments never wait for any of this: they only queue and kick.
 */
export function createMailDelivery(deps: MailDeliveryDependencies) {
  const { db, clock, logger, transport, compose, giveUpAfterMs } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;

  async function attempt(mail: OutboxMail): Promise<AttemptOutcome> {
    try {
      // The transport asks for the PDF's bytes only when it sends them: a kept mail draws nothing.
      await transport.send({ ...(await compose(mail)), to: mail.recipient, messageId: withDomain(mail.messageId, deps.mailDomain) });
      return { status: transport.kind === 'keep' ? 'kept' : 'sent' };
    } catch (error) {
      if (error instanceof MailTransportError) {
        logger.warn({ mailId: mail.id, document: mail.documentNumber, notice: mail.notice?.kind, permanent: error.permanent, error: error.message }, 'mail not delivered');
        return afterFailure({ permanent: error.permanent, error: error.message, attempts: mail.attempts, triesSince: mail.triesSince }, clock.now(), giveUpAfterMs);
      }
      // Writing the mail or drawing its PDF failed. A bug or missing record behind one document must not hold back the others: retried like an outage.
      logger.error({ err: error, mailId: mail.id, documentId: mail.documentId, notice: mail.notice?.kind }, 'cannot compose mail');
      return afterFailure({ permanent: false, error: `compose: ${error instanceof Error ? error.message : String(error)}`, attempts: mail.attempts, triesSince: mail.triesSince }, clock.now(), giveUpAfterMs);
    }
  }

  async function deliverAll(): Promise<DeliveryCounts> {
    const counts: DeliveryCounts = { sent: 0, kept: 0, retrying: 0, failed: 0 };
    // A mail looked at once is not taken again in the same run, whatever became of it.
    const seen = new Set<number>();
    for (;;) {
      const ids = (await listDueMailIds(db.knex, clock.now(), BATCH + seen.size)).filter((id) => !seen.has(id));
      if (ids.length === 0) return counts;
      for (const id of ids) {
        seen.add(id);
        const mail = await claimMail(db.knex, id, clock.now(), leaseMs);
        if (!mail) continue; // another run or instance has it
        const outcome = await attempt(mail);
        if (!(await finishAttempt(db.knex, mail, outcome, clock.now()))) {
          logger.warn({ mailId: mail.id, document: mail.documentNumber }, 'mail lease ran out before the attempt ended; another run took it over');
          continue;
        }
        counts[outcome.status === 'pending' ? 'retrying' : outcome.status] += 1;
      }
    }
  }

  const runs = createSerialRuns(deliverAll, {
    logger,
    done: (counts) => {
      if (Object.values(counts).some((count) => count > 0)) logger.info(counts, 'mails delivered');
    },
    failure: 'mail delivery failed',
  });

  return {
    deliverDue: runs.runDue,
    /** After a document is issued: deliver on the next tick. Never throws, never makes the caller wait. */
    kick: () => {
      if (deps.deliverOnIssue) runs.kick();
    },
    idle: runs.idle,
  };
}

export type MailDelivery = ReturnType<typeof createMailDelivery>;
