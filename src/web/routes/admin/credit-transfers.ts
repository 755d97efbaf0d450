import type { Request, Response, Router } from 'express';
import {
  countTransfersByState,
  findTransfer,
  lastDeliveryAt,
  listTransferEvents,
  listTransfers,
  TRANSFER_STATES,
  type CreditTransfer,
  type TransferEvent,
  type TransferState,
} from '../../../services/credit-transfers/records.js';
import { resolveCreditTransfer, type TransferDecision } from '../../../services/credit-transfers/transfer-resolution.js';
import { transferComment } from '../../../domain/credit-transfers/transfers.js';
import { parseOrderNumber } from '../../../domain/checkout/orders.js';
import type { Translate } from '../../../i18n/index.js';
import { HttpError, notFound } from '../../http-error.js';
import { perPersonLimit } from '../../middleware/per-person-limit.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';
import { shortError } from '../../short-error.js';

export const TRANSFERS_PAGE_SIZE = 25;
/** An admin's reason is kept in the transfer's history and the audit log. */
const DECISION_REASON_MAX_LENGTH = 500;
const LIST_PATH = '/admin/transfers';
const TRANSFER_ID = /^[1-9]\d{0,8}$/;
/** Each check reaches the print system over the network: a few a minute per admin is plenty, and keeps a stuck button from hammering it. */
const HEALTH_CHECKS_PER_MINUTE = 5;
const DECISIONS: readonly TransferDecision[] = ['applied', 'send_again'];
/** The states only an admin's decision moves on. */
const AWAITING_DECISION: readonly TransferState[] = ['parked', 'unknown'];
/** The notices a redirect may ask the transfer page to show, each only while it is still true. */
const NOTICES = { applied: ['delivered'], sentAgain: ['pending', 'delivering'] } as const satisfies Record<string, readonly TransferState[]>;

const isTransferState = (value: unknown): value is TransferState => (TRANSFER_STATES as readonly unknown[]).includes(value);
/** A pending transfer that was tried already is waiting for its next try, which admins read differently. */
const stateWording = (transfer: CreditTransfer) => (transfer.state === 'pending' && transfer.attempts > 0 ? 'retrying' : transfer.state);
/** The order a top-up or its take-back belongs to: the ledger description starts with its number. */
const orderNumberIn = (description: string | null) => {
  const first = description?.split(' ')[0] ?? '';
  return parseOrderNumber(first) === null ? null : first;
};

interface CheckedHealth {
  reachable: boolean;
  credentialsAccepted: boolean | null;
  detail: string | null;
  checkedAt: Date;
}

interface DecisionForm {
  reason?: string;
  reasonError?: string | null;
}

/**
 * The transfers of credit to the print system as admins see them: each one's state and history, the
 * connector's health on demand, and an admin's decision on a transfer that is parked or whose outcome
 * is unknown (docs/architecture.md, "Credits in the print system").
 */
export function registerCreditTransferRoutes(router: Router, { db, clock, printSystem }: AdminDependencies): void {
  const healthLimit = perPersonLimit({ limit: HEALTH_CHECKS_PER_MINUTE, windowMs: 60_000, clock });

  /** What the list page shows whatever it lists: the connector with the transfers' counts, and the filter's form. */
  async function listPage(response: Response, typedState: string) {
    const [counts, lastDelivery] = await Promise.all([countTransfersByState(db.knex), lastDeliveryAt(db.knex)]);
    return {
      title: (response.locals.t as Translate)('admin.transfers.title'),
      adminSection: 'transfers',
      states: TRANSFER_STATES,
      typedState,
      connector: { label: printSystem?.balances.label ?? null, lastDelivery, counts: TRANSFER_STATES.map((state) => ({ state, count: counts[state] ?? 0 })) },
    };
  }

  async function showList(response: Response, filter: TransferState | undefined, requestedPage: number, health: CheckedHealth | null) {
    const pageOf = (page: number) => listTransfers(db.knex, { ...(filter ? { state: filter } : {}), offset: (page - 1) * TRANSFERS_PAGE_SIZE, limit: TRANSFERS_PAGE_SIZE });
    let page = requestedPage;
    let { transfers, total } = await pageOf(page);
    const pageCount = Math.max(1, Math.ceil(total / TRANSFERS_PAGE_SIZE));
    if (page > pageCount) {
      // A page past the end (transfers left the filtered state since the link was made) shows the last one.
      page = pageCount;
      ({ transfers, total } = await pageOf(page));
    }
    await renderPage(response, 'admin/transfers/list', {
      ...(await listPage(response, filter ?? '')),
      health,
      filterError: null,
      listing: {
        total,
        rows: transfers.map((transfer) => ({ ...transfer, wording: stateWording(transfer), shortError: shortError(transfer.lastError) })),
        pager: pageLinks(LIST_PATH, filter ? { state: filter } : {}, page, pageCount),
      },
    });
  }

  router.get(LIST_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const requested = request.query.state;
    const filter = requested === undefined || requested === '' ? undefined : requested;
    if (filter !== undefined && !isTransferState(filter)) {
      const typedState = typeof requested === 'string' ? requested : '';
      await renderPage(response.status(400), 'admin/transfers/list', { ...(await listPage(response, typedState)), health: null, filterError: t('admin.transfers.list.filterError'), listing: null });
      return;
    }
    await showList(response, filter, parsePage(request.query.page), null);
  });

  router.post(`${LIST_PATH}/health`, healthLimit, async (_request, response) => {
    if (!printSystem) throw notFound();
    // A destination promises an answer within its timeout; one that throws instead is unreachable all the same.
    const answer = await printSystem.balances.checkHealth().catch((error: unknown) => ({ reachable: false, credentialsAccepted: null, detail: error instanceof Error ? error.message : String(error) }));
    // Answered with the page itself: the result shows even when the next request would reach another instance.
    await showList(response, undefined, 1, { ...answer, checkedAt: clock.now() });
  });

  async function transferOf(request: Request): Promise<CreditTransfer> {
    const id = request.params.id;
    const transfer = typeof id === 'string' && TRANSFER_ID.test(id) ? await findTransfer(db.knex, Number(id)) : undefined;
    if (!transfer) throw notFound();
    return transfer;
  }

  async function showTransfer(response: Response, transfer: CreditTransfer, state: { notice?: string | null; problem?: string | null; form?: DecisionForm }, status = 200) {
    const t = response.locals.t as Translate;
    const events = await listTransferEvents(db.knex, transfer.id);
    await renderPage(response.status(status), 'admin/transfers/transfer', {
      title: t('admin.transfers.transfer.title', { id: transfer.id }),
      adminSection: 'transfers',
      transfer: { ...transfer, wording: stateWording(transfer), orderNumber: orderNumberIn(transfer.description) },
      events,
      decision: AWAITING_DECISION.includes(transfer.state) ? await decisionView(transfer, events) : null,
      form: { reason: '', reasonError: null, ...state.form },
      reasonMaxLength: DECISION_REASON_MAX_LENGTH,
      notice: state.notice ?? null,
      problem: state.problem ?? null,
    });
  }

  /** What an admin compares to decide: the balances around the last attempt, the balance now, and where to look in the print system. */
  async function decisionView(transfer: CreditTransfer, events: readonly TransferEvent[]) {
    const lastAttempt = events.filter((event) => event.attempt === transfer.attempts);
    const before = lastAttempt.find((event) => event.balanceBefore !== null)?.balanceBefore ?? null;
    const after = lastAttempt.find((event) => event.balanceAfter !== null)?.balanceAfter ?? null;
    // Only the system the transfer went to can tell: a destination configured since knows nothing of it.
    const reads = printSystem !== null && printSystem.balances.kind === transfer.destination ? printSystem : null;
    return {
      before,
      after,
      ifApplied: before === null ? null : before + transfer.amount,
      now: reads ? await reads.balances.balanceOf(transfer.username) : null,
      readsBalance: reads !== null,
      logComment: transferComment(transfer.ledgerTransactionId, null),
      // Only the destination it was queued for may receive it: another one's worker never takes it.
      canSendAgain: printSystem?.balances.kind === transfer.destination,
    };
  }

  router.get(`${LIST_PATH}/:id`, async (request, response) => {
    const t = response.locals.t as Translate;
    const transfer = await transferOf(request);
    const name = Object.keys(NOTICES).find((key) => key === request.query.notice) as keyof typeof NOTICES | undefined;
    const notice = name && (NOTICES[name] as readonly TransferState[]).includes(transfer.state) ? t(`admin.transfers.notices.${name}`) : null;
    await showTransfer(response, transfer, { notice });
  });

  router.post(`${LIST_PATH}/:id/decision`, async (request, response) => {
    const t = response.locals.t as Translate;
    const transfer = await transferOf(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const decision = body.decision as TransferDecision;
    // The form carries the state and attempt the admin decided on: evidence from an earlier attempt decides nothing.
    const seen = { state: body.state, attempts: body.attempts };
    if (!DECISIONS.includes(decision) || !AWAITING_DECISION.includes(seen.state as TransferState) || typeof seen.attempts !== 'string' || !/^\d{1,9}$/.test(seen.attempts)) {
      throw new HttpError(400, 'badRequest', 'not a decision form');
    }
    const changed = (current: CreditTransfer) =>
      showTransfer(response, current, { problem: t('admin.transfers.decision.errors.changed', { state: t(`admin.transfers.states.${stateWording(current)}`), count: current.attempts }) }, 409);
    if (transfer.state !== seen.state || transfer.attempts !== Number(seen.attempts)) return changed(transfer);
    if (decision === 'send_again' && printSystem?.balances.kind !== transfer.destination) return showTransfer(response, transfer, { problem: t('admin.transfers.decision.errors.noDestination') }, 409);

    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (reason === '' || reason.length > DECISION_REASON_MAX_LENGTH) {
      const reasonError = t(reason === '' ? 'admin.transfers.decision.errors.reason' : 'admin.transfers.decision.errors.reasonTooLong', { max: DECISION_REASON_MAX_LENGTH });
      return showTransfer(response, transfer, { form: { reason: typeof body.reason === 'string' ? body.reason.slice(0, DECISION_REASON_MAX_LENGTH) : '', reasonError } }, 400);
    }
    if (!(await resolveCreditTransfer(db, { transfer, decision, reason, actor: request.user! }, clock.now()))) {
      return changed((await findTransfer(db.knex, transfer.id)) ?? transfer);
    }
    // Refused above without a print system: send again always has one to kick.
    if (decision === 'send_again') printSystem?.delivery.kick();
    response.redirect(303, `${LIST_PATH}/${transfer.id}?notice=${decision === 'applied' ? 'applied' : 'sentAgain'}`);
  });
}
