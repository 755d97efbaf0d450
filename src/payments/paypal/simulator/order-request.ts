import { apiError, type ErrorDetail } from './errors.js';
import { fromCents, isAmountValue, isCurrencyCode, toCents, type Money } from './money.js';

/** The one purchase unit the simulator keeps, in PayPal's own field names. */
export interface PurchaseUnitRequest {
  reference_id: string;
  amount: Money;
  description?: string;
  custom_id?: string;
  invoice_id?: string;
  soft_descriptor?: string;
}

export interface ExperienceContext {
  return_url: string;
  cancel_url: string;
  brand_name?: string;
  locale?: string;
  user_action?: string;
  shipping_preference?: string;
  landing_page?: string;
}

export interface OrderRequest {
  purchaseUnit: PurchaseUnitRequest;
  experience: ExperienceContext;
}

/** Optional strings of a purchase unit and their length limits (the spec's minLength 1 / maxLength). */
const PURCHASE_UNIT_STRINGS = { reference_id: 256, description: 127, custom_id: 127, invoice_id: 127, soft_descriptor: 22 } as const;

const EXPERIENCE_ENUMS: Record<string, readonly string[]> = {
  user_action: ['CONTINUE', 'PAY_NOW'],
  shipping_preference: ['GET_FROM_FILE', 'NO_SHIPPING', 'SET_PROVIDED_ADDRESS'],
  landing_page: ['LOGIN', 'GUEST_CHECKOUT', 'NO_PREFERENCE'],
};

const LOCALE = /^[a-z]{2}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$/;
const EXPERIENCE_PATH = '/payment_source/paypal/experience_context';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a create-order body the way PayPal does, collecting every problem: 400 INVALID_REQUEST with
 * one detail per field, then the business rules (422). The simulator only supports what the portal
 * uses: intent CAPTURE, one purchase unit, PayPal as the payment source with its return and cancel URLs.
 */
export function parseOrderRequest(body: unknown): OrderRequest {
  if (!isObject(body)) throw apiError('orders', 400, [{ issue: 'MALFORMED_REQUEST_JSON', location: 'body' }]);
  const problems: ErrorDetail[] = [];
  const missing = (field: string) => problems.push({ field, location: 'body', issue: 'MISSING_REQUIRED_PARAMETER' });
  const invalid = (field: string, value: unknown, issue = 'INVALID_PARAMETER_VALUE') =>
    problems.push({ field, ...(typeof value === 'string' ? { value } : {}), location: 'body', issue });

  if (body.intent === undefined) missing('/intent');
  else if (body.intent !== 'CAPTURE') invalid('/intent', body.intent);

  const units = body.purchase_units;
  let purchaseUnit: PurchaseUnitRequest | undefined;
  if (!Array.isArray(units) || units.length === 0) missing('/purchase_units');
  else if (units.length > 1) problems.push({ field: '/purchase_units', location: 'body', issue: 'INVALID_ARRAY_MAX_ITEMS' });
  else purchaseUnit = parsePurchaseUnit(units[0], missing, invalid);

  const context = (body.payment_source as { paypal?: { experience_context?: unknown } } | undefined)?.paypal?.experience_context;
  const experience = parseExperience(isObject(context) ? context : {}, missing, invalid);

  if (problems.length > 0 || !purchaseUnit || !experience) throw apiError('orders', 400, problems);
  if (toCents(purchaseUnit.amount.value) === 0) {
    throw apiError('orders', 422, [{ field: '/purchase_units/0/amount/value', value: purchaseUnit.amount.value, location: 'body', issue: 'CANNOT_BE_ZERO_OR_NEGATIVE' }]);
  }
  return { purchaseUnit, experience };
}

type Complaint = (field: string, value?: unknown, issue?: string) => void;

function parsePurchaseUnit(unit: unknown, missing: Complaint, invalid: Complaint): PurchaseUnitRequest | undefined {
  const path = '/purchase_units/0';
  if (!isObject(unit)) {
    invalid(path, undefined);
    return undefined;
  }
  const amount = unit.amount;
  let parsedAmount: Money | undefined;
  if (!isObject(amount)) missing(`${path}/amount`);
  else {
    const { currency_code: currency, value } = amount;
    if (currency === undefined) missing(`${path}/amount/currency_code`);
    else if (!isCurrencyCode(currency)) invalid(`${path}/amount/currency_code`, currency);
    if (value === undefined) missing(`${path}/amount/value`);
    else if (!isAmountValue(value)) invalid(`${path}/amount/value`, value);
    // PayPal answers with two decimals whatever the request said ("10" comes back as "10.00").
    if (isCurrencyCode(currency) && isAmountValue(value)) parsedAmount = { currency_code: currency, value: fromCents(toCents(value)) };
  }
  const strings: Partial<Record<keyof typeof PURCHASE_UNIT_STRINGS, string>> = {};
  for (const [key, maxLength] of Object.entries(PURCHASE_UNIT_STRINGS) as Array<[keyof typeof PURCHASE_UNIT_STRINGS, number]>) {
    const value = unit[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') invalid(`${path}/${key}`, value);
    else if (value.length === 0 || value.length > maxLength) invalid(`${path}/${key}`, value, 'INVALID_STRING_LENGTH');
    else strings[key] = value;
  }
  const { reference_id: referenceId = 'default', ...others } = strings;
  return parsedAmount ? { reference_id: referenceId, amount: parsedAmount, ...others } : undefined;
}

function parseExperience(context: Record<string, unknown>, missing: Complaint, invalid: Complaint): ExperienceContext | undefined {
  const urls: Partial<Record<'return_url' | 'cancel_url', string>> = {};
  for (const key of ['return_url', 'cancel_url'] as const) {
    const value = context[key];
    if (value === undefined) missing(`${EXPERIENCE_PATH}/${key}`);
    else if (!isAbsoluteHttpUrl(value)) invalid(`${EXPERIENCE_PATH}/${key}`, value);
    else urls[key] = value;
  }
  const optional: Partial<ExperienceContext> = {};
  const { brand_name: brandName, locale } = context;
  if (brandName !== undefined) {
    if (typeof brandName !== 'string' || brandName.length === 0 || brandName.length > 127) invalid(`${EXPERIENCE_PATH}/brand_name`, brandName);
    else optional.brand_name = brandName;
  }
  if (locale !== undefined) {
    if (typeof locale !== 'string' || !LOCALE.test(locale)) invalid(`${EXPERIENCE_PATH}/locale`, locale);
    else optional.locale = locale;
  }
  for (const [key, allowed] of Object.entries(EXPERIENCE_ENUMS)) {
    const value = context[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !allowed.includes(value)) invalid(`${EXPERIENCE_PATH}/${key}`, value);
    else optional[key as 'user_action' | 'shipping_preference' | 'landing_page'] = value;
  }
  return urls.return_url && urls.cancel_url ? { ...optional, return_url: urls.return_url, cancel_url: urls.cancel_url } : undefined;
}

function isAbsoluteHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
