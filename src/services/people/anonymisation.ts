import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { anonymisedUsername, eraseUserIdentity, markUserClosed } from '../../db/people/anonymisation-repository.js';
import { lockUserByUsername } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { normalizeUsername } from '../../domain/people/users.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Clock } from '../../domain/time/clock.js';

export type AccountClosureErrorCode = 'user_not_found' | 'own_account' | 'not_closed';
export class AccountClosureError extends DomainError<AccountClosureErrorCode> {}

/** Whether anything changed, and the account's username after the change (an anonymised one has a new one). */
export interface ClosureOutcome {
  outcome: 'changed' | 'unchanged';
  username: string;
}

interface Deps {
  db: Database;
  clock: Clock;
}

/**
 * An admin closes a person's account: disabled for good, their sessions end, audited. Closing again
 * changes nothing. The person's balance stays in the ledger as it is (a refund of unused credit is
 * its own request).
 */
export async function closeAccount({ db, clock }: Deps, username: string, actor: AuditActor): Promise<ClosureOutcome> {
  const now = clock.now();
  return db.transaction(async (trx) => {
    const person = await lockUserByUsername(trx, normalizeUsername(username));
    if (!person) throw new AccountClosureError('user_not_found', 'no such person');
    if (person.closedAt) return { outcome: 'unchanged', username: person.username };
    if (person.id === actor.id) throw new AccountClosureError('own_account', 'an admin cannot close their own account');
    await markUserClosed(trx, person.id, now);
    await recordAudit(trx, { actor, action: 'person.close', target: person.username, before: { disabled: person.disabled }, after: { closed: true, disabled: true } }, now);
    return { outcome: 'changed', username: person.username };
  });
}

/**
 * Anonymises a closed account (refused while it is open): name, username, e-mail, identity links,
 * sign-ins and familiar sources go; the ledger and the documents stay, under the account's id. The
 * audit entry names the account by its new name only, so the log does not keep what was erased.
 * Anonymising again changes nothing.
 */
export async function anonymiseAccount({ db, clock }: Deps, username: string, actor: AuditActor): Promise<ClosureOutcome> {
  const now = clock.now();
  return db.transaction(async (trx) => {
    const person = await lockUserByUsername(trx, normalizeUsername(username));
    if (!person) throw new AccountClosureError('user_not_found', 'no such person');
    if (person.anonymisedAt) return { outcome: 'unchanged', username: person.username };
    if (!person.closedAt) throw new AccountClosureError('not_closed', 'only a closed account may be anonymised');
    await eraseUserIdentity(trx, { id: person.id, email: person.email }, now);
    const newUsername = anonymisedUsername(person.id);
    await recordAudit(trx, { actor, action: 'person.anonymise', target: newUsername, before: { closedAt: person.closedAt.toISOString() }, after: { anonymised: true } }, now);
    return { outcome: 'changed', username: newUsername };
  });
}
