import type { Logger } from 'pino';
import { findActiveApiKey } from '../../db/print-api/api-key-repository.js';
import type { Database } from '../../db/database.js';
import { findUserByUsername } from '../../db/people/user-repository.js';
import { createApiKeyManagement } from '../print-api/api-key-management.js';
import { hashApiKey } from '../../domain/print-api/api-keys.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { DEMO_API_KEY, DEMO_LOGINS } from './demo-logins.js';
import type { PasswordHasher } from '../../domain/people/passwords.js';
import { createUserManagement } from '../people/user-management.js';

export const REMOVE_DEMO_COMMAND = 'npm run cli -- demo remove';

/** What the README's demo logins and key still open: people (usernames) and the key (its id). */
export interface UsableDemoCredentials {
  people: string[];
  apiKeyId: number | null;
}

/**
 * The demo people who are enabled and still have their published password, and the demo API key
 * unless it is revoked. The password is checked, not the name: a site may have an `admin` of its own.
 */
export async function findUsableDemoCredentials({ db, hasher }: { db: Database; hasher: PasswordHasher }): Promise<UsableDemoCredentials> {
  const people: string[] = [];
  for (const login of DEMO_LOGINS) {
    const person = await findUserByUsername(db.knex, login.username);
    if (person && !person.disabled && person.passwordHash !== null && (await hasher.verify(person.passwordHash, login.password))) people.push(person.username);
  }
  const key = await findActiveApiKey(db.knex, hashApiKey(DEMO_API_KEY));
  return { people, apiKeyId: key?.id ?? null };
}

/** e.g. "the demo logins admin, etudiant and the demo print-server API key"; null when nothing is usable. */
function describeUsable({ people, apiKeyId }: UsableDemoCredentials): string | null {
  const parts = [];
  if (people.length > 0) parts.push(`the demo login${people.length > 1 ? 's' : ''} ${people.join(', ')} (with the password printed in the README)`);
  if (apiKeyId !== null) parts.push(`the demo print-server API key (${DEMO_API_KEY.slice(0, 8)}…)`);
  return parts.length === 0 ? null : parts.join(' and ');
}

/**
 * In production, the message to refuse to start with while demo credentials work — anyone who read
 * the README could sign in as an admin or debit accounts — or null. ALLOW_DEMO_IN_PRODUCTION turns
 * the refusal into a warning in the log.
 */
export async function demoCredentialsRefusal(deps: {
  config: { env: string; demo: { allowInProduction: boolean } };
  db: Database;
  hasher: PasswordHasher;
  logger: Logger;
}): Promise<string | null> {
  if (deps.config.env !== 'production') return null;
  const usable = await findUsableDemoCredentials(deps);
  const what = describeUsable(usable);
  if (what === null) return null;
  if (deps.config.demo.allowInProduction) {
    deps.logger.warn({ demoCredentials: usable }, `DEMO CREDENTIALS WORK IN PRODUCTION (ALLOW_DEMO_IN_PRODUCTION=true): ${what}. Anyone can use them; remove them with \`${REMOVE_DEMO_COMMAND}\``);
    return null;
  }
  return (
    `Refusing to start in production: ${what} still work, and anyone can read them in the README.\n` +
    `Remove them with \`${REMOVE_DEMO_COMMAND}\` (disables those people, revokes the key; audited), or set ALLOW_DEMO_IN_PRODUCTION=true to start anyway.`
  );
}

/**
 * Disables the demo people who still have their demo password and revokes the demo key, each audited
 * in its own transaction (the same changes an admin makes from the admin pages). Running it again
 * finds nothing usable and changes nothing.
 */
export async function removeDemoCredentials({ db, hasher, clock, actor }: { db: Database; hasher: PasswordHasher; clock: Clock; actor: AuditActor }) {
  const usable = await findUsableDemoCredentials({ db, hasher });
  const users = createUserManagement({ db, hasher, clock });
  const disabled: string[] = [];
  for (const username of usable.people) if ((await users.setDisabled(username, true, actor)) === 'changed') disabled.push(username);
  const revoked = usable.apiKeyId !== null && (await createApiKeyManagement({ db, clock }).revoke(usable.apiKeyId, actor)) === 'revoked';
  return { disabled, revoked };
}
