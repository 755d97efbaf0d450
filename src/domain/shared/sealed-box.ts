import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Small values the browser carries for us and must neither read nor change (a sign-in in progress, a
 * provider's checked answer): AES-256-GCM under a key derived from a secret for one purpose, with an
 * expiry inside the sealed text. `open` answers null for anything tampered with, sealed for another
 * purpose, malformed or expired.
 */
export function sealedBox(secret: string | Buffer, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `recharge:${purpose}`, 32));
  return {
    seal(value: unknown, expiresAt: number): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify({ value, expiresAt }), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed: unknown, now: number): unknown {
      if (typeof sealed !== 'string' || sealed.length > 16_384) return null;
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < 29) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
        const { value, expiresAt } = JSON.parse(text) as { value: unknown; expiresAt: number };
        return typeof expiresAt === 'number' && now < expiresAt ? value : null;
      } catch {
        return null;
      }
    },
  };
}

export type SealedBox = ReturnType<typeof sealedBox>;
