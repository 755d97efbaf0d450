import type { PortalClient, PortalDebit } from './portal-client.js';
import type { PendingDebit, SetAside, Spool } from './spool.js';

export interface ReplayReport {
  /** Left in printing/ by a backend that died while its job printed: sent like the others. */
  adopted: string[];
  /** Debited now. */
  sent: string[];
  /** Recharge had them already (a run before this one was cut after sending). */
  alreadyDebited: string[];
  /** Refused for good, or not debits at all: moved to failed/. */
  failed: SetAside[];
  /** Still pending, and why the replay stopped: Recharge unreachable, or the API key refused. */
  left: string[];
  stoppedBecause: string | null;
}

type Delivery = { kind: 'sent' | 'already-debited' } | { kind: 'failed' | 'stop'; reason: string };

/** Answers that say this reference or Idempotency-Key was used already: by this very debit, or by another job. */
const REFERENCE_TAKEN = new Set(['reference-in-use', 'idempotency-key-reused']);

const describe = ({ units, pages, printer, colour, duplex }: Pick<PortalDebit, 'units' | 'pages' | 'printer' | 'colour' | 'duplex'>, username: string) =>
  `${units} units, ${pages ?? '?'} pages on ${printer ?? '?'}, ${colour === null ? '?' : colour ? 'colour' : 'black and white'}, ${duplex === null ? '?' : duplex ? 'two-sided' : 'one-sided'}, to "${username}"`;

/**
 * The reference was used already: the debit is in Recharge only if the portal's debit under it is this
 * one (account, units, pages, printer, colour, duplex). Another job's (a job id used again) is for a
 * person to look at, never dropped.
 */
async function compareWithPortal(portal: PortalClient, { username, body }: PendingDebit): Promise<Delivery> {
  const found = await portal.findDebit(username, body.reference);
  if (found.outcome === 'unreachable') return { kind: 'stop', reason: `Recharge unreachable (${found.reason})` };
  const ours = describe(body, username);
  if (found.outcome !== 'ok') return { kind: 'failed', reason: `the reference ${body.reference} is used in Recharge, but not by a debit of "${username}"; this one: ${ours}` };
  const theirs = found.value;
  const same =
    theirs.account.username === username.normalize('NFKC').trim().toLowerCase() &&
    theirs.units === body.units &&
    theirs.pages === body.pages &&
    theirs.printer === body.printer &&
    theirs.colour === body.colour &&
    theirs.duplex === body.duplex;
  return same ? { kind: 'already-debited' } : { kind: 'failed', reason: `the reference ${body.reference} is another job's in Recharge: ${describe(theirs, theirs.account.username)}; this one: ${ours}` };
}

async function deliver(portal: PortalClient, debit: PendingDebit): Promise<Delivery> {
  const answer = await portal.debit(debit.username, debit.body, debit.idempotencyKey);
  switch (answer.outcome) {
    case 'ok':
      return { kind: 'sent' };
    // Only what may work later stops the replay: anything else would block every later debit forever.
    case 'unreachable':
      return { kind: 'stop', reason: `Recharge unreachable (${answer.reason})` };
    case 'foreign':
      return { kind: 'failed', reason: answer.reason };
    case 'not-found':
      return { kind: 'failed', reason: `no account "${debit.username}"` };
    case 'refused':
      if (answer.status === 401) return { kind: 'stop', reason: 'the API key was refused' };
      if (answer.problemType !== null && REFERENCE_TAKEN.has(answer.problemType)) return compareWithPortal(portal, debit);
      return { kind: 'failed', reason: `HTTP ${answer.status} ${answer.problemType ?? ''}${answer.detail ? `: ${answer.detail}` : ''}`.trim() };
  }
}

/**
 * Sends the pending debits oldest first, and stops at the first that cannot be sent now, so that
 * debits always reach Recharge in the order the jobs printed.
 */
export async function replaySpool(spool: Spool, portal: PortalClient): Promise<ReplayReport> {
  const orphans = await spool.adoptOrphans();
  const { entries, setAside } = await spool.list();
  const report: ReplayReport = { adopted: orphans.adopted, sent: [], alreadyDebited: [], failed: [...orphans.setAside, ...setAside], left: [], stoppedBecause: null };
  for (const [index, { name, debit }] of entries.entries()) {
    const delivery = await deliver(portal, debit);
    if (delivery.kind === 'stop') {
      report.stoppedBecause = delivery.reason;
      report.left = entries.slice(index).map((entry) => entry.name);
      break;
    }
    if (delivery.kind === 'failed') {
      await spool.moveToFailed(name);
      report.failed.push({ name, reason: delivery.reason });
    } else {
      await spool.remove(name);
      (delivery.kind === 'sent' ? report.sent : report.alreadyDebited).push(name);
    }
  }
  return report;
}
