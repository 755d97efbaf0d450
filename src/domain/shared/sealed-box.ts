import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longer than any cookie or URL the portal accepts: anything longer is not ours. */
const MAX_SEALED_LENGTH = 16_384;

export type Opened = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Small values the browser carries for us and must neither read nor change (a sign-in in progress, a
 * provider's checked answer): AES-256-GCM under a key derived (HKDF) from a secret for one purpose,
 * so a value sealed for one purpose or provider opens under no other; compressed first (a person's
 * groups can run to kilobytes, and a URL must stay under Node's 16 KiB header limit); the expiry is
 * inside the sealed text.
 */
export function sealedBox(secret: string | Buffer, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `recharge:${purpose}`, 32));
  return {
    seal(value: unknown, expiresAt: number): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify({ value, expiresAt }))), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    /** The value, or why it cannot be trusted (for the log). */
    open(sealed: unknown, now: number): Opened {
      if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_LENGTH) return { ok: false, problem: 'not a sealed value' };
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length <= IV_BYTES + TAG_BYTES) return { ok: false, problem: 'the sealed value is truncated' };
      let opened: { value: unknown; expiresAt: unknown };
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        opened = JSON.parse(inflateRawSync(plain).toString('utf8')) as typeof opened;
      } catch {
        return { ok: false, problem: 'the sealed value was altered or sealed with another key or purpose' };
      }
      if (typeof opened.expiresAt !== 'number' || opened.expiresAt <= now) return { ok: false, problem: `the sealed value expired at ${new Date(Number(opened.expiresAt)).toISOString()}` };
      return { ok: true, value: opened.value };
    },
  };
}

export type SealedBox = ReturnType<typeof sealedBox>;
