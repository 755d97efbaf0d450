import type { Knex } from 'knex';
import { isUniqueViolation } from '../database.js';

/** The sign_in_keys of one provider (the contract is SignInKeyStore in src/identity/provider.ts). */
export function signInKeyRepository(knex: Knex, providerId: string, now: () => Date) {
  const rows = () => knex('sign_in_keys').where('provider_id', providerId);
  /** An expired key is as good as absent: deleted before it is written again. */
  const purgeExpired = (key: string) => rows().andWhere('key', key).andWhere('expires_at', '<=', now().getTime()).del();
  return {
    async claim(key: string, expiresAt: Date): Promise<boolean> {
      await purgeExpired(key);
      try {
        await knex('sign_in_keys').insert({ provider_id: providerId, key, value: null, expires_at: expiresAt.getTime() });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async save(key: string, value: string, expiresAt: Date): Promise<void> {
      await purgeExpired(key);
      await knex('sign_in_keys').insert({ provider_id: providerId, key, value, expires_at: expiresAt.getTime() });
    },
    async get(key: string): Promise<string | null> {
      const row = (await rows().andWhere('key', key).andWhere('expires_at', '>', now().getTime()).first('value')) as { value: string | null } | undefined;
      return row?.value ?? null;
    },
    async remove(key: string): Promise<void> {
      await rows().andWhere('key', key).del();
    },
  };
}

/** Deletes every provider's expired keys (sign-in starts and returns call it, at most once a minute). */
export async function purgeExpiredSignInKeys(knex: Knex, now: Date): Promise<number> {
  return knex('sign_in_keys').where('expires_at', '<=', now.getTime()).del();
}
