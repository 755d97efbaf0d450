import { randomBytes, randomInt } from 'node:crypto';

const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** PayPal's account ids: `^[2-9A-HJ-NP-Z]{13}$` (no 0, 1, I or O). */
const ACCOUNT_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

function randomString(alphabet: string, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** Orders, captures and refunds: 17 upper-case alphanumerics, like 5O190127TN364715T. */
export const newTransactionId = (): string => randomString(UPPER_ALPHANUMERIC, 17);
/** Payer and merchant ids. */
export const newAccountId = (): string => randomString(ACCOUNT_ALPHABET, 13);
export const newEventId = (): string => `WH-${newTransactionId()}-${newTransactionId()}`;
export const newDebugId = (): string => randomBytes(7).toString('hex').slice(0, 13);
export const newAccessToken = (): string => `A21AA${randomBytes(48).toString('base64url')}`;
export const newAppId = (): string => `APP-${newTransactionId()}`;
