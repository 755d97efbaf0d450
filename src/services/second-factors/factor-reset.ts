import type { Database } from '../../db/database.js';
import { findUserByUsername } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { normalizeUsername } from '../../domain/people/users.js';
import type { SecondFactors } from './second-factors.js';

export type FactorResetOutcome =
  | { outcome: 'reset'; username: string; factors: number; recoveryCodes: number }
  | { outcome: 'unchanged'; username: string }
  | { outcome: 'own_factors' }
  | { outcome: 'user_not_found'; username: string };

/**
 * Resets the second factors of the person named `username`, for an admin's person page or the
 * command line (a locked-out last admin): every factor and recovery code goes and every session of
 * the person ends, audited under `actor` (SecondFactors.reset). A person with neither is left alone
 * (sessions kept, nothing audited). An admin's own factors are refused: they are removed one by one
 * at Account security, where the step-up asks for one of them first.
 */
export async function resetFactorsOf({ db, factors }: { db: Database; factors: SecondFactors }, actor: AuditActor, username: string): Promise<FactorResetOutcome> {
  const person = await findUserByUsername(db.knex, normalizeUsername(username));
  if (!person) return { outcome: 'user_not_found', username: normalizeUsername(username) };
  if (person.id === actor.id) return { outcome: 'own_factors' };
  const { factors: enrolled, recoveryCodesLeft } = await factors.overview(person);
  if (enrolled.length === 0 && recoveryCodesLeft === 0) return { outcome: 'unchanged', username: person.username };
  return { outcome: 'reset', username: person.username, ...(await factors.reset(actor, person)) };
}
