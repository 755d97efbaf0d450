import { apiError, malformedJson, type ErrorDetail } from './errors.js';
import { isAmountValue, isCurrencyCode } from './money.js';
import type { RefundRequest } from './store.js';

const STRING_LIMITS = { custom_id: 127, invoice_id: 127, note_to_payer: 255 } as const;

/** Reads a refund body (empty means: refund what is left); syntax problems are 400 INVALID_REQUEST. */
export function parseRefundRequest(body: unknown): RefundRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformedJson('payments');
  const fields = body as Record<string, unknown>;
  const problems: ErrorDetail[] = [];
  const request: RefundRequest = {};
  if (fields.amount !== undefined) {
    const { value, currency_code: currency } = (typeof fields.amount === 'object' && fields.amount !== null ? fields.amount : {}) as Record<string, unknown>;
    if (value === undefined) problems.push({ field: '/amount/value', location: 'body', issue: 'MISSING_REQUIRED_PARAMETER' });
    else if (!isAmountValue(value)) problems.push({ field: '/amount/value', ...(typeof value === 'string' ? { value } : {}), location: 'body', issue: 'INVALID_PARAMETER_SYNTAX' });
    if (currency === undefined) problems.push({ field: '/amount/currency_code', location: 'body', issue: 'MISSING_REQUIRED_PARAMETER' });
    else if (!isCurrencyCode(currency)) problems.push({ field: '/amount/currency_code', ...(typeof currency === 'string' ? { value: currency } : {}), location: 'body', issue: 'INVALID_PARAMETER_SYNTAX' });
    if (isAmountValue(value) && isCurrencyCode(currency)) request.amount = { currency_code: currency, value };
  }
  for (const [key, maxLength] of Object.entries(STRING_LIMITS) as Array<[keyof typeof STRING_LIMITS, number]>) {
    const value = fields[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) problems.push({ field: `/${key}`, location: 'body', issue: 'INVALID_STRING_LENGTH' });
    else request[key] = value;
  }
  if (problems.length > 0) throw apiError('payments', 400, problems);
  return request;
}
