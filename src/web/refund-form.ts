import { REFUND_REASON_MAX_LENGTH } from '../domain/checkout/refunds.js';
import { parseAmount, PricingError, type Cents } from '../domain/pricing/pricing.js';
import { decimalSeparatorOf, decimalText } from '../domain/shared/decimal.js';
import { isFormNonce, newFormNonce } from '../domain/shared/form-nonce.js';
import type { Locale, Translate } from '../i18n/index.js';
import { HttpError } from './http-error.js';

export type RefundField = 'amount' | 'reason';

/** A PayPal refund form (admins' order page, the desk's quote page), as typed; its nonce makes it refund once. */
export interface RefundForm {
  amount: string;
  reason: string;
  nonce: string;
}

/** A new form offering `refundableCents`, as staff would type it back: "5,00" in French, "5.00" in English (what parseAmount reads). */
export const freshRefundForm = (refundableCents: Cents, locale: Locale): RefundForm => ({ amount: decimalText(refundableCents, decimalSeparatorOf(locale)), reason: '', nonce: newFormNonce() });

/**
 * The form as sent, with the amount in cents and what is wrong with it (in the reader's language);
 * a form without its nonce is no form of ours (400).
 */
export function readRefundForm(body: Record<string, unknown>, t: Translate): { form: RefundForm; amountCents: Cents; errors: Partial<Record<RefundField, string>> } {
  if (!isFormNonce(body.nonce)) throw new HttpError(400, 'badRequest', 'refund form without a valid nonce');
  const form: RefundForm = {
    amount: typeof body.amount === 'string' ? body.amount.trim().slice(0, 20) : '',
    reason: typeof body.reason === 'string' ? body.reason.trim() : '',
    nonce: body.nonce,
  };
  const errors: Partial<Record<RefundField, string>> = {};
  let amountCents = 0;
  try {
    amountCents = parseAmount(form.amount);
  } catch (error) {
    if (!(error instanceof PricingError)) throw error;
    errors.amount = t('admin.orders.refund.errors.amount');
  }
  if (form.reason === '') errors.reason = t('admin.orders.refund.errors.reason');
  else if (form.reason.length > REFUND_REASON_MAX_LENGTH) errors.reason = t('admin.orders.refund.errors.reasonLength', { max: REFUND_REASON_MAX_LENGTH });
  return { form, amountCents, errors };
}
