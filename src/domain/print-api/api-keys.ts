import { createHash, randomBytes } from 'node:crypto';

/** `rk_` and 43 base64url characters: 256 random bits, recognisable in logs and secret scanners. */
export const API_KEY_PATTERN = /^rk_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 10;

export interface NewApiKey {
  /** Shown once to the admin who created it, never stored. */
  secret: string;
  /** The first characters, stored and shown to tell keys apart. */
  prefix: string;
  secretSha256: string;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function apiKeyFromSecret(secret: string): NewApiKey {
  if (!API_KEY_PATTERN.test(secret)) throw new Error('an API key is rk_ followed by 43 base64url characters');
  return { secret, prefix: secret.slice(0, PREFIX_LENGTH), secretSha256: hashApiKey(secret) };
}

export function generateApiKey(): NewApiKey {
  return apiKeyFromSecret(`rk_${randomBytes(32).toString('base64url')}`);
}

/** The key from an `Authorization: Bearer …` header, or null when it is absent or malformed. */
export function bearerSecret(header: string | undefined): string | null {
  const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  return match && API_KEY_PATTERN.test(match[1]!) ? match[1]! : null;
}

export const API_KEY_NAME_MAX = 100;

export interface ApiKeySummary {
  id: number;
  name: string;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}
