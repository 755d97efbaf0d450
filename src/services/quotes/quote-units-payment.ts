import { recordAudit } from '../../db/audit/audit-repository.js';
import { findOpenQuoteOrder } from '../../db/checkout/order-repository.js';
import type { Database } from '../../db/database.js';
import { getAccountByCode, postTransaction, reverseTransaction } from '../../db/ledger/ledger-repository.js';
import { lockPersonAccount } from '../../db/people/people-repository.js';
import { currentTerms } from '../../db/pricing/terms-repository.js';
import { findQuote, insertQuoteEvent, lockQuote, recordQuotePaid, recordQuoteRefunded } from '../../db/quotes/quote-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { UNPAID_STATUSES } from '../../domain/checkout/order-limits.js';
import { REFUND_REASON_MAX_LENGTH } from '../../domain/checkout/refunds.js';
import { LedgerError, SystemAccount, type Hundredths } from '../../domain/ledger/ledger.js';
import { mayPayInUnits, quotePayability, type QuotePayability } from '../../domain/quotes/quote-payment.js';
import { assertQuoteMove } from '../../domain/quotes/quote-status.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import type { User } from '../../domain/people/users.js';
import { decimalText } from '../../domain/shared/decimal.js';
import { DomainError } from '../../domain/shared/errors.js';
import { dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';

/**
 * `quote_not_found`: no such quote for this person (another's, a draft, none at all: alike, so nothing
 * is revealed); `not_payable`: paid, expired, cancelled or too large (`payability` says which);
 * `payment_in_progress`: a PayPal order of the quote may still be paid.
 */
export type QuoteUnitsPaymentErrorCode =
  | 'quote_not_found'
  | 'not_payable'
  | 'units_not_offered'
  | 'no_terms'
  | 'terms_not_accepted'
  | 'payment_in_progress'
  | 'insufficient_balance';

export class QuoteUnitsPaymentError extends DomainError<QuoteUnitsPaymentErrorCode> {
  constructor(
    code: QuoteUnitsPaymentErrorCode,
    message: string,
    readonly details: { payability?: QuotePayability; balance?: Hundredths; price?: Hundredths } = {},
  ) {
    super(code, message);
  }
}

/** `not_paid_in_units`: the quote was not paid with units, or not paid at all (a PayPal payment is refunded through its order). */
export type QuoteUnitsRefundErrorCode = 'quote_not_found' | 'not_paid_in_units' | 'reason_required' | 'reason_too_long';
export class QuoteUnitsRefundError extends DomainError<QuoteUnitsRefundErrorCode> {}

/** The ledger keys of a quote's payment in units and of its refund: one of each per quote, ever. */
const quoteUnitsKeys = {
  payment: (quoteId: number) => `quote-units:${quoteId}`,
  refund: (quoteId: number) => `quote-units-refund:${quoteId}`,
} as const;

/** Whether staff may give back the units that paid this quote. */
export const isRefundableInUnits = (quote: Pick<Quote, 'status' | 'paidLedgerTransactionId'>) => quote.status === 'paid' && quote.paidLedgerTransactionId !== null;

export interface QuoteUnitsPaymentDependencies {
  db: Database;
  clock: Clock;
  /** The portal's time zone: a quote may be paid up to its last day there. */
  timeZone: string;
}

/**
 * A quote paid from the print units of the person it is made out to, when staff gave it a price in
 * units, and given back by staff. Each is one database transaction under the quote's row lock — the
 * lock PayPal's path takes too, to open an order (quote-payment.ts) and to mark the quote paid
 * (checkout/quote-orders.ts) — so a quote is paid once whatever the clicks: a second click finds it
 * paid, a PayPal order opened first refuses the units, units paid first refuse PayPal.
 */
export function createQuoteUnitsPayment({ db, clock, timeZone }: QuoteUnitsPaymentDependencies) {
  return {
    /**
     * Pays the quote with `quote.unitsPrice` units: one ledger transaction from the person's account
     * to `system:quote-payments`, never below zero, and the quote paid by it. The same person paying
     * again (a double click) is answered with the payment already made (`replayed`).
     */
    async payWithUnits(user: Pick<User, 'id' | 'username'>, quoteId: number, acceptedTermsId: unknown): Promise<{ quote: Quote; replayed: boolean }> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const quote = await lockQuote(trx, quoteId);
        if (!quote || quote.userId !== user.id || quote.status === 'draft') throw new QuoteUnitsPaymentError('quote_not_found', `no quote ${quoteId} for user ${user.id}`);
        if (quote.status === 'paid' && quote.paidLedgerTransactionId !== null) return { quote, replayed: true };
        const payability = quotePayability(quote, dayOf(now, timeZone));
        if (payability !== 'payable') throw new QuoteUnitsPaymentError('not_payable', `quote ${quote.number} is ${payability}`, { payability });
        if (!mayPayInUnits(quote, user.id)) throw new QuoteUnitsPaymentError('units_not_offered', `quote ${quote.number} has no price in units`);
        const price = quote.unitsPrice as Hundredths;
        const terms = await currentTerms(trx);
        if (!terms) throw new QuoteUnitsPaymentError('no_terms', 'no terms of sale are published');
        if (String(acceptedTermsId) !== String(terms.id)) throw new QuoteUnitsPaymentError('terms_not_accepted', 'the current terms of sale were not accepted');
        const open = await findOpenQuoteOrder(trx, quote.id, UNPAID_STATUSES);
        if (open) throw new QuoteUnitsPaymentError('payment_in_progress', `order ${open.number} of quote ${quote.number} may still be paid at PayPal`);
        // Locked, then checked here rather than left to the ledger's guard, which an account allowed below zero would pass.
        const account = await lockPersonAccount(trx, user.id);
        if (!account) throw new LedgerError('account_not_found', `user ${user.id} has no account`);
        if (account.balance < price) throw new QuoteUnitsPaymentError('insufficient_balance', `balance ${account.balance} is below ${price}`, { balance: account.balance, price });
        const system = await getAccountByCode(trx, SystemAccount.quotePayments);
        const { transactionId } = await postTransaction(
          trx,
          {
            idempotencyKey: quoteUnitsKeys.payment(quote.id),
            kind: 'quote_payment',
            lines: [
              { accountId: account.id, amount: -price },
              { accountId: system.id, amount: price },
            ],
            // The person's history names the operation in their language and shows this beside it.
            description: quote.number,
            createdBy: user.id,
          },
          now,
        );
        assertQuoteMove(quote.status, 'paid');
        await recordQuotePaid(trx, quote.id, quote.status, { ledgerTransactionId: transactionId }, now);
        await insertQuoteEvent(trx, quote.id, { type: 'paid_in_units', fromStatus: quote.status, toStatus: 'paid', detail: decimalText(price), actorUsername: user.username }, now);
        return { quote: (await findQuote(trx, quote.id))!, replayed: false };
      });
    },

    /**
     * Gives the units back to the person, at a desk person's request with their reason: the payment's
     * ledger transaction reversed once, the quote refunded in full, audited and on its timeline. A
     * quote already refunded this way is answered as such (`replayed`).
     */
    async refund(actor: AuditActor, quoteId: number, typedReason: string): Promise<{ quote: Quote; replayed: boolean }> {
      const reason = typedReason.trim();
      if (reason === '') throw new QuoteUnitsRefundError('reason_required', 'a refund needs a reason');
      if (reason.length > REFUND_REASON_MAX_LENGTH) throw new QuoteUnitsRefundError('reason_too_long', `a reason of ${reason.length} characters`);
      const now = clock.now();
      return db.transaction(async (trx) => {
        const quote = await lockQuote(trx, quoteId);
        if (!quote) throw new QuoteUnitsRefundError('quote_not_found', `no quote ${quoteId}`);
        const paidBy = quote.paidLedgerTransactionId;
        if (paidBy !== null && quote.status === 'refunded') return { quote, replayed: true };
        if (paidBy === null || !isRefundableInUnits(quote)) throw new QuoteUnitsRefundError('not_paid_in_units', `quote ${quote.number} is ${quote.status}, paid by ${paidBy === null ? 'no units' : `transaction ${paidBy}`}`);
        assertQuoteMove(quote.status, 'refunded');
        const { transactionId } = await reverseTransaction(trx, { transactionId: paidBy, idempotencyKey: quoteUnitsKeys.refund(quote.id), description: quote.number, createdBy: actor.id }, now);
        await recordQuoteRefunded(trx, quote.id, quote.status, 'refunded', quote.totalCents, now);
        await insertQuoteEvent(trx, quote.id, { type: 'units_refunded', fromStatus: quote.status, toStatus: 'refunded', detail: reason, actorUsername: actor.username }, now);
        await recordAudit(
          trx,
          { actor, action: 'quote.units_refund', target: quote.number, before: { status: quote.status }, after: { status: 'refunded', units: quote.unitsPrice, reason, transactionId } },
          now,
        );
        return { quote: (await findQuote(trx, quote.id))!, replayed: false };
      });
    },
  };
}

export type QuoteUnitsPayment = ReturnType<typeof createQuoteUnitsPayment>;
