import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function createArgon2Hasher(): PasswordHasher {
  return {
    hash: (password) => argon2.hash(password, ARGON2_OPTIONS),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
  };
}

/**
 * A hash of a random password, verified when the username is unknown so that a wrong username
 * costs the same time as a wrong password (no enumeration by timing).
 */
export function createDecoyHash(hasher: PasswordHasher): () => Promise<string> {
  let decoy: Promise<string> | undefined;
  return () => (decoy ??= hasher.hash(randomBytes(32).toString('base64')));
}
