import { randomBytes } from 'node:crypto';

/**
 * A random value put in a form when it is shown: what the form does is keyed by it, so the same
 * form sent twice acts once (a ledger posting, a PayPal request id).
 */
export function newFormNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function isFormNonce(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value);
}
