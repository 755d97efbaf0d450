/** A certificate expiring within this many days is flagged: time to roll the provider's keys over. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 24 * 3600_000;

export type CertificateExpiry = 'valid' | 'expiring' | 'expired' | 'unknown';

/** How a certificate's `notAfter` (ISO) stands at `now`; `unknown` when the date cannot be read. */
export function certificateExpiry(notAfter: string, now: Date): CertificateExpiry {
  const expiresAt = Date.parse(notAfter);
  if (Number.isNaN(expiresAt)) return 'unknown';
  if (expiresAt <= now.getTime()) return 'expired';
  return expiresAt - now.getTime() <= EXPIRY_WARNING_DAYS * DAY_MS ? 'expiring' : 'valid';
}
