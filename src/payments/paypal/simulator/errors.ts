import { newDebugId } from './ids.js';

/** Which PayPal API answers: the error texts and documentation links differ between them. */
export type PayPalApi = 'orders' | 'payments' | 'notifications';

export interface ErrorDetail {
  issue: string;
  field?: string;
  value?: string;
  location?: 'body' | 'path';
}

/** The `name` and `message` of PayPal's error envelope per status, exactly as the specs enumerate them. */
const ENVELOPES: Record<number, { name: string; message: string }> = {
  400: { name: 'INVALID_REQUEST', message: 'Request is not well-formed, syntactically incorrect, or violates schema.' },
  401: { name: 'AUTHENTICATION_FAILURE', message: 'Authentication failed due to missing authorization header, or invalid authentication credentials.' },
  404: { name: 'RESOURCE_NOT_FOUND', message: 'The specified resource does not exist.' },
  409: { name: 'RESOURCE_CONFLICT', message: 'The server has detected a conflict while processing this request.' },
  422: { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed, semantically incorrect, or failed business validation.' },
  500: { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.' },
};

/** Issue descriptions as each spec words them (the specs validate them as enums). */
const SHARED_DESCRIPTIONS: Record<string, string> = {
  MALFORMED_REQUEST_JSON: 'The request JSON is not well formed.',
  INVALID_RESOURCE_ID: 'Specified resource ID does not exist. Please check the resource ID and try again.',
  CANNOT_BE_ZERO_OR_NEGATIVE: 'Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.',
  PREVIOUS_REQUEST_IN_PROGRESS:
    'A previous request on this resource is currently in progress. Please wait for sometime and try again. It is best to space out the initial and the subsequent request(s) to avoid receiving this error.',
};

const DESCRIPTIONS: Record<PayPalApi, Record<string, string>> = {
  orders: {
    MISSING_REQUIRED_PARAMETER: 'A required parameter is missing.',
    INVALID_PARAMETER_VALUE: 'A parameter value is not valid.',
    INVALID_STRING_LENGTH: 'The value of a field is either too short or too long',
    INVALID_ARRAY_MAX_ITEMS: 'The number of items in an array parameter is too large.',
    DUPLICATE_INVOICE_ID:
      'Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction.',
    INSTRUMENT_DECLINED: "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.",
    ORDER_NOT_APPROVED:
      "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid `payment_source` in the request.",
    ORDER_ALREADY_CAPTURED: "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    TRANSACTION_REFUSED: 'The request was refused.',
    PAYER_ACTION_REQUIRED: 'Transaction cannot complete successfully, instruct the buyer to return to PayPal.',
    PAYEE_BLOCKED_TRANSACTION: 'The Fraud settings for this seller are such that this payment cannot be executed.',
  },
  payments: {
    MISSING_REQUIRED_PARAMETER: 'A required field / parameter is missing.',
    INVALID_PARAMETER_SYNTAX: 'The value of a field does not conform to the expected format.',
    INVALID_STRING_LENGTH: 'The value of a field is either too short or too long.',
    CAPTURE_FULLY_REFUNDED: 'The capture has already been fully refunded',
    REFUND_CAPTURE_CURRENCY_MISMATCH: 'Refund must be in the same currency as the capture',
    REFUND_NOT_ALLOWED: 'Capture cannot be refunded.',
    REFUND_AMOUNT_EXCEEDED: 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
    PENDING_CAPTURE:
      'Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has funded the transaction using e-check/bank funded.',
    REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK:
      'Refunds are not allowed on this capture due to a chargeback on the card or bank. Please contact the payee to resolve the chargeback.',
  },
  notifications: {
    MISSING_REQUIRED_PARAMETER: 'A required field / parameter is missing.',
  },
};

const DOCUMENTATION: Record<PayPalApi, string> = {
  orders: 'https://developer.paypal.com/docs/api/orders/v2/',
  payments: 'https://developer.paypal.com/docs/api/payments/v2/',
  notifications: 'https://developer.paypal.com/docs/api/webhooks/v1/',
};

export interface Link {
  href: string;
  rel: string;
  method?: 'GET' | 'POST' | 'PATCH';
}

/** A refusal as PayPal answers it: the HTTP status and its error envelope. */
export class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    const issue = (body.details as ErrorDetail[] | undefined)?.[0]?.issue;
    super(`${status} ${String(body.name)}${issue ? ` ${issue}` : ''}`);
  }
}

export function apiError(api: PayPalApi, status: number, details: ErrorDetail[], extraLinks: Link[] = []): PayPalApiError {
  const envelope = ENVELOPES[status] ?? (ENVELOPES[500] as { name: string; message: string });
  const anchor = details[0]?.issue ?? envelope.name;
  const body: Record<string, unknown> = { name: envelope.name, message: envelope.message, debug_id: newDebugId() };
  if (details.length > 0) {
    body.details = details.map((detail) => ({ ...detail, description: DESCRIPTIONS[api][detail.issue] ?? SHARED_DESCRIPTIONS[detail.issue] ?? detail.issue }));
  }
  body.links = [...extraLinks, { href: `${DOCUMENTATION[api]}#error-${anchor}`, rel: 'information_link', method: 'GET' }];
  return new PayPalApiError(status, body);
}

export const unprocessable = (api: PayPalApi, issue: string, extraLinks: Link[] = []): PayPalApiError => apiError(api, 422, [{ issue }], extraLinks);
export const resourceNotFound = (api: PayPalApi): PayPalApiError => apiError(api, 404, [{ issue: 'INVALID_RESOURCE_ID', location: 'path' }]);
export const malformedJson = (api: PayPalApi): PayPalApiError => apiError(api, 400, [{ issue: 'MALFORMED_REQUEST_JSON', location: 'body' }]);
export const authenticationFailure = (): PayPalApiError => apiError('orders', 401, []);
export const internalServerError = (api: PayPalApi): PayPalApiError => apiError(api, 500, []);
export const previousRequestInProgress = (api: PayPalApi): PayPalApiError => apiError(api, 409, [{ issue: 'PREVIOUS_REQUEST_IN_PROGRESS' }]);
