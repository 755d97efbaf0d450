import type { Knex } from 'knex';
import { recordAudit } from '../../db/audit/audit-repository.js';
import { findOpenQuoteOrder, lockOrder, moveOrder } from '../../db/checkout/order-repository.js';
import type { Database } from '../../db/database.js';
import { findUserByUsername } from '../../db/people/user-repository.js';
import { loadPriceList } from '../../db/pricing/price-list-repository.js';
import {
  countQuotes,
  findQuote,
  findQuoteIdByNumber,
  insertQuote,
  insertQuoteEvent,
  listQuoteEvents,
  lockQuote,
  moveQuote,
  replaceQuoteLines,
  searchQuotes,
  updateQuoteContents,
  type QuoteListRow,
} from '../../db/quotes/quote-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { UNPAID_STATUSES } from '../../domain/checkout/order-limits.js';
import type { Order } from '../../domain/checkout/orders.js';
import { DomainError } from '../../domain/shared/errors.js';
import { typedUsername, validateQuoteDraft, type QuoteDraft, type QuoteDraftInput } from '../../domain/quotes/quote-draft.js';
import { assertQuoteMove, EDITABLE_STATUSES } from '../../domain/quotes/quote-status.js';
import { quoteTotals, type QuoteTotals } from '../../domain/quotes/quote-totals.js';
import type { Quote, QuoteEvent, QuoteSearch } from '../../domain/quotes/quotes.js';
import { dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { QuoteExpiry } from './quote-expiry.js';
import { createQuoteUnitsPayment } from './quote-units-payment.js';

/** `stale`: the draft changed since the form was made from it; `reason_too_long`: a cancel reason over CANCEL_REASON_MAX_LENGTH. */
export type QuoteErrorCode = 'quote_not_found' | 'not_editable' | 'stale' | 'reason_too_long' | 'payment_in_progress';
export class QuoteError extends DomainError<QuoteErrorCode> {}

export interface QuoteDeskDependencies {
  db: Database;
  clock: Clock;
  /** The portal's time zone: a quote's validity is a day there. */
  timeZone: string;
  /** A new quote's language unless staff choose the other one. */
  defaultLocale: Locale;
  /** A quote looked at after its last day is expired first, if the sweep has not come yet. */
  expiry: QuoteExpiry;
}

/** A quote with what its pages show: the server's totals and VAT per rate, and its timeline. */
export interface QuoteDetails {
  quote: Quote;
  totals: QuoteTotals;
  events: QuoteEvent[];
}

export const CANCEL_REASON_MAX_LENGTH = 500;

/** What the audit log keeps of a quote, before and after a change. */
const auditedState = (quote: Pick<Quote, 'status' | 'customer' | 'staffNote' | 'lines' | 'totalCents' | 'currency' | 'unitsPrice'>) => ({
  status: quote.status,
  customer: quote.customer,
  staffNote: quote.staffNote,
  lines: quote.lines,
  totalCents: quote.totalCents,
  currency: quote.currency,
  unitsPrice: quote.unitsPrice,
});

/**
 * The reprography desk's use cases: drafting, editing and cancelling quotes. Every amount is the
 * server's, computed from the lines; every change is audited and put on the quote's timeline in the
 * same transaction as the change itself.
 */
/**
 * The order of a quote being cancelled, never captured: closed so that neither the buyer's return, a
 * webhook nor the reconciler captures it (an approval that is not captured takes no money).
 */
async function closeOrderOfCancelledQuote(trx: Knex.Transaction, order: Order, quoteNumber: string, now: Date): Promise<void> {
  if (order.status === 'capture_pending') throw new QuoteError('payment_in_progress', `order ${order.number} of quote ${quoteNumber} is being captured`);
  const detail = `quote ${quoteNumber} cancelled by staff`;
  const moved = order.status === 'approved'
    ? await moveOrder(trx, order.id, { from: ['approved'], to: 'expired', detail }, now)
    : await moveOrder(trx, order.id, { from: ['created', 'awaiting_payment'], to: 'cancelled', detail }, now);
  if (!moved) throw new Error(`order ${order.number} changed under its lock`);
}

export function createQuoteDesk({ db, clock, timeZone, defaultLocale, expiry }: QuoteDeskDependencies) {
  const unitsPayment = createQuoteUnitsPayment({ db, clock, timeZone });

  /**
   * The draft as typed, checked against today's date; a username must name someone of the portal.
   * Every problem is reported at once, that one included.
   */
  async function checkedDraft(trx: Knex.Transaction, input: QuoteDraftInput, now: Date): Promise<{ draft: QuoteDraft; userId: number | null }> {
    const username = typedUsername(input.username);
    const person = username === null ? undefined : await findUserByUsername(trx, username);
    const draft = validateQuoteDraft(input, dayOf(now, timeZone), () => person !== undefined);
    return { draft, userId: person?.id ?? null };
  }

  async function lockedQuote(trx: Knex.Transaction, id: number): Promise<Quote> {
    const quote = await lockQuote(trx, id);
    if (!quote) throw new QuoteError('quote_not_found', `no quote ${id}`);
    return quote;
  }

  /** The quote with its totals and timeline, or undefined; a sent quote past its last day is expired first. */
  async function details(id: number): Promise<QuoteDetails | undefined> {
    await expiry.expireIfDue(id, clock.now());
    const quote = await findQuote(db.knex, id);
    if (!quote) return undefined;
    return { quote, totals: quoteTotals(quote.lines), events: await listQuoteEvents(db.knex, id) };
  }

  return {
    /** A new draft; its currency is the price list's. */
    async createDraft(actor: AuditActor, input: QuoteDraftInput): Promise<Quote> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const { draft, userId } = await checkedDraft(trx, input, now);
        const { currency } = (await loadPriceList(trx)).settings;
        const totalCents = quoteTotals(draft.lines).totalCents;
        const { id } = await insertQuote(trx, { customer: draft.customer, staffNote: draft.staffNote, userId, totalCents, unitsPrice: draft.unitsPrice, currency, createdBy: actor.username }, now, dayOf(now, timeZone));
        await replaceQuoteLines(trx, id, draft.lines);
        await insertQuoteEvent(trx, id, { type: 'created', fromStatus: null, toStatus: 'draft', detail: null, actorUsername: actor.username }, now);
        const quote = (await findQuote(trx, id))!;
        await recordAudit(trx, { actor, action: 'quote.create', target: quote.number, before: null, after: auditedState(quote) }, now);
        return quote;
      });
    },

    /**
     * Replaces a draft's customer, delivery and lines, all in one, if it is still at `version` (the one
     * the form was made from): a quote no longer a draft is refused (not_editable), and so is a draft
     * someone else saved meanwhile (stale), so that this save never silently undoes theirs.
     */
    async updateDraft(actor: AuditActor, id: number, version: number, input: QuoteDraftInput): Promise<Quote> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const before = await lockedQuote(trx, id);
        if (!EDITABLE_STATUSES.includes(before.status)) throw new QuoteError('not_editable', `quote ${before.number} is ${before.status}`);
        if (before.version !== version) throw new QuoteError('stale', `quote ${before.number} is at version ${before.version}, the form was made from ${version}`);
        const { draft, userId } = await checkedDraft(trx, input, now);
        await updateQuoteContents(trx, before, { customer: draft.customer, staffNote: draft.staffNote, userId, totalCents: quoteTotals(draft.lines).totalCents, unitsPrice: draft.unitsPrice }, now);
        await replaceQuoteLines(trx, id, draft.lines);
        await insertQuoteEvent(trx, id, { type: 'updated', fromStatus: null, toStatus: null, detail: null, actorUsername: actor.username }, now);
        const after = (await findQuote(trx, id))!;
        await recordAudit(trx, { actor, action: 'quote.update', target: after.number, before: auditedState(before), after: auditedState(after) }, now);
        return after;
      });
    },

    /**
     * Cancels a draft or a sent quote, with the reason staff give (may be empty, at most
     * CANCEL_REASON_MAX_LENGTH characters: never cut); anything else is refused (QuoteStatusError). A
     * customer at PayPal cannot pay it afterwards: the quote's order, not captured yet, is closed in the
     * same transaction (the portal captures only open orders); while PayPal confirms a capture already
     * made (`capture_pending`), the quote is not cancelled (QuoteError `payment_in_progress`).
     */
    async cancel(actor: AuditActor, id: number, reason: string): Promise<Quote> {
      const now = clock.now();
      const detail = reason.trim() || null;
      if (detail !== null && detail.length > CANCEL_REASON_MAX_LENGTH) throw new QuoteError('reason_too_long', `a reason of ${detail.length} characters`);
      return db.transaction(async (trx) => {
        // The quote's open order is locked before the quote, as the capture's transaction does (no deadlock).
        const open = await findOpenQuoteOrder(trx, id, UNPAID_STATUSES);
        const order = open ? await lockOrder(trx, open.id) : null;
        const before = await lockedQuote(trx, id);
        assertQuoteMove(before.status, 'cancelled');
        if (order) await closeOrderOfCancelledQuote(trx, order, before.number, now);
        await moveQuote(trx, id, before.status, 'cancelled', now);
        await insertQuoteEvent(trx, id, { type: 'cancelled', fromStatus: before.status, toStatus: 'cancelled', detail, actorUsername: actor.username }, now);
        await recordAudit(trx, { actor, action: 'quote.cancel', target: before.number, before: { status: before.status }, after: { status: 'cancelled', reason: detail } }, now);
        return (await findQuote(trx, id))!;
      });
    },

    async list(search: QuoteSearch, page: { limit: number; offset: number }): Promise<{ rows: QuoteListRow[]; total: number }> {
      const [rows, total] = await Promise.all([searchQuotes(db.knex, search, page), countQuotes(db.knex, search)]);
      return { rows, total };
    },

    /** The quote numbered exactly `number` (as stored), with its totals and timeline, or undefined. */
    async detailsByNumber(number: string): Promise<QuoteDetails | undefined> {
      const id = await findQuoteIdByNumber(db.knex, number);
      return id === undefined ? undefined : details(id);
    },

    details,

    /** Gives back the units a quote was paid with (quote-units-payment.ts). */
    refundUnits: unitsPayment.refund,

    /** What a new quote's form starts from: the price list's currency and VAT rate, today in the portal's time zone, the portal's language. */
    async defaults(): Promise<{ currency: string; vatRateBasisPoints: number; today: string; locale: Locale }> {
      const { settings } = await loadPriceList(db.knex);
      return { currency: settings.currency, vatRateBasisPoints: settings.vatRateBasisPoints, today: dayOf(clock.now(), timeZone), locale: defaultLocale };
    },
  };
}

export type QuoteDesk = ReturnType<typeof createQuoteDesk>;
