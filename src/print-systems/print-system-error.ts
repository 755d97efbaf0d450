import type { DeliveryFailureKind, DeliveryFaultReason } from '../domain/credit-transfers/transfers.js';

/**
 * How a call to a print system failed, by what it means for an operation that changes a balance:
 *
 * - `definite_fault`: the print system answered that it refused the call (PaperCut: an XML-RPC fault,
 *   or an HTTP 3xx/4xx before the call reached its API). The operation was not applied: it may be sent
 *   again once the cause is mended (`reason` says which).
 * - `not_sent`: no connection was made (DNS, refused, unreachable, TLS handshake, the time ran out while
 *   connecting). Not a byte of the request left: it may be sent again as it is.
 * - `unknown_outcome`: the request was sent and no readable answer came (time out, connection reset or
 *   closed, HTTP 5xx, a garbled or oversized answer). The operation may have been applied: sending it
 *   again may apply it twice. Never retry blindly; find out first.
 *
 * For calls that only read (does the person exist, what is the balance) every kind just means "no answer".
 */
export type PrintSystemErrorKind = DeliveryFailureKind;

/**
 * Why a definite fault happened, for what to do next: `unknown_user` (the person has no account there:
 * an admin must act), `access_denied` (bad token, caller's address not allowed, web services off, a wrong URL or a proxy's refusal: the
 * configuration must be mended, then retrying works), `refused` (anything else the system refused).
 */
export type PrintSystemFaultReason = DeliveryFaultReason;

export interface PrintSystemErrorDetails {
  reason?: PrintSystemFaultReason;
  /** The XML-RPC fault as the print system sent it. */
  faultCode?: number;
  faultString?: string;
  httpStatus?: number;
  /** Node's error code of a transport failure (ECONNREFUSED, ENOTFOUND, ECONNRESET…). */
  errno?: string;
}

export class PrintSystemError extends Error {
  constructor(
    readonly kind: PrintSystemErrorKind,
    message: string,
    readonly details: PrintSystemErrorDetails = {},
  ) {
    super(message);
    this.name = 'PrintSystemError';
  }
}
