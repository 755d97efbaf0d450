import { createHash, randomBytes } from 'node:crypto';

/**
 * The characters of a code: digits and capitals without those read as one another (0 and O, 1 and I).
 * 32 of them, so each is 5 random bits and a random byte's low 5 bits pick one without bias.
 */
export const VOUCHER_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** 16 characters: 80 random bits, printed in groups of 4 (`7KQ2-M9XD-RT4P-ZB6H`). */
export const VOUCHER_CODE_LENGTH = 16;
const GROUP_LENGTH = 4;

/** A code as stored in nobody's hands but the holder's: 16 characters of the alphabet, no dashes. */
export type CanonicalCode = string & { readonly canonicalCode: unique symbol };

const CANONICAL = new RegExp(`^[${VOUCHER_ALPHABET}]{${VOUCHER_CODE_LENGTH}}$`);

/** A new random code, canonical (crypto's generator: the code's 80 bits are its only protection). */
export function generateVoucherCode(random: (size: number) => Uint8Array = randomBytes): CanonicalCode {
  return [...random(VOUCHER_CODE_LENGTH)].map((byte) => VOUCHER_ALPHABET[byte & 31]).join('') as CanonicalCode;
}

/** As printed and shown: groups of 4 joined by dashes. */
export function formatVoucherCode(code: CanonicalCode): string {
  return code.match(new RegExp(`.{${GROUP_LENGTH}}`, 'g'))!.join('-');
}

/**
 * A code as typed, forgiving what people do to it: lower case, spaces, dashes of any kind or none,
 * and the full-width forms a phone keyboard may give (NFKC). Null when it cannot be a code at all
 * (then nothing needs looking up).
 */
export function normaliseVoucherCode(typed: unknown): CanonicalCode | null {
  if (typeof typed !== 'string' || typed.length > 64) return null;
  const folded = typed.normalize('NFKC').toUpperCase().replace(/[\s\-‐‑‒–—_.]/g, '');
  return CANONICAL.test(folded) ? (folded as CanonicalCode) : null;
}

/**
 * What the database keeps of a code: its SHA-256. A keyed hash (HMAC) would add nothing: with 80
 * random bits a code cannot be found from its hash by trying (2^80 / 10,000 codes = 2^67 tries per
 * code found), and no secret means no key to rotate or lose with the codes still in people's hands.
 */
export function voucherCodeHash(code: CanonicalCode): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}
