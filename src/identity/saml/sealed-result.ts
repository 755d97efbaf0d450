import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Attributes } from '../../domain/identity/identity.js';

/**
 * What the ACS proved, carried by the browser from the IdP's cross-site POST (no cookie of ours) to
 * the callback (the pending cookie): sealed with AES-256-GCM so the browser can neither read nor
 * change it, and short-lived because it travels in a URL.
 */
export interface SignInResult {
  /** The AuthnRequest this answers: the callback refuses it unless this browser started that request. */
  requestId: string;
  subject: string;
  attributes: Attributes;
}

export const RESULT_LIFETIME_MS = 2 * 60_000;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface ResultSeal {
  seal(result: SignInResult, now: Date): string;
  /** The result, or why it cannot be trusted. */
  open(token: string, now: Date): SignInResult | { problem: string };
}

/**
 * `context` is bound to every token (GCM additional data), so a result sealed for one provider is
 * refused by another sharing the key. Compressed first: a person's groups can run to kilobytes,
 * and the URL must stay well under Node's 16 KiB request header limit.
 */
export function resultSeal(key: Buffer, context: string): ResultSeal {
  if (key.length !== 32) throw new Error(`the SAML result key must be 32 bytes (AES-256), not ${key.length}`);
  const additionalData = Buffer.from(context, 'utf8');
  return {
    seal(result, now) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(additionalData);
      const plain = deflateRawSync(JSON.stringify({ ...result, expiresAt: now.getTime() + RESULT_LIFETIME_MS }));
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open(token, now) {
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length <= IV_BYTES + TAG_BYTES) return { problem: 'the sealed result is truncated' };
      let payload: SignInResult & { expiresAt: number };
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES)).setAAD(additionalData);
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        payload = JSON.parse(inflateRawSync(plain).toString('utf8')) as SignInResult & { expiresAt: number };
      } catch {
        return { problem: 'the sealed result was altered or sealed with another key' };
      }
      if (payload.expiresAt <= now.getTime()) return { problem: `the sealed result expired at ${new Date(payload.expiresAt).toISOString()}` };
      return { requestId: payload.requestId, subject: payload.subject, attributes: payload.attributes };
    },
  };
}
