import { randomInt } from 'node:crypto';

/** Ten codes, each enough for one sign-in or step-up: the way back when the phone and the key are lost. */
export const RECOVERY_CODE_COUNT = 10;

/** Crockford's base32 without I, L, O and U: nothing to confuse when copied from paper. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const GROUPS = 2;
const GROUP_LENGTH = 5;

/** A new code, `XXXXX-XXXXX`: 50 random bits, kept as a keyed digest (SecretBox.digest): nothing to stretch. */
export function newRecoveryCode(): string {
  const groups = Array.from({ length: GROUPS }, () => Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

/** A code as typed (any case, spaces, dashes, O for 0, I and L for 1) in the form it was issued, or null. */
export function normaliseRecoveryCode(typed: string): string | null {
  const plain = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (plain.length !== GROUPS * GROUP_LENGTH || [...plain].some((character) => !ALPHABET.includes(character))) return null;
  return `${plain.slice(0, GROUP_LENGTH)}-${plain.slice(GROUP_LENGTH)}`;
}
