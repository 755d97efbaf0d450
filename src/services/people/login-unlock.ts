import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { deleteThrottleRows } from '../../db/people/login-throttle-repository.js';
import { lockUserByUsername } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { accountThrottleKeys, remainingLockMs } from '../../domain/people/login-throttle.js';
import type { ChangeOutcome } from './user-management.js';
import { normalizeUsername, UserError } from '../../domain/people/users.js';

/**
 * Lifts the lock of an admin or IT account (PCI DSS 8.3.4: until the person's identity is confirmed)
 * or the slowing of any other, and forgets the failures counted against it, from every source.
 * Audited; `unchanged` (and no audit row) when nothing was counted against the account.
 */
export async function unlockLogin({ db, clock }: { db: Database; clock: Clock }, username: string, actor: AuditActor): Promise<ChangeOutcome> {
  const now = clock.now();
  return db.transaction(async (trx) => {
    const person = await lockUserByUsername(trx, normalizeUsername(username));
    if (!person) throw new UserError('user_not_found', `no user named ${normalizeUsername(username)}`);
    const { account, unfamiliar, pairPrefix } = accountThrottleKeys(person.username);
    const states = await deleteThrottleRows(trx, [account, unfamiliar], pairPrefix);
    // The account's own count, and the latest lock still running: its own, or one of a source's.
    const failures = states.get(account)?.failures ?? 0;
    const running = [...states.values()].filter((state) => remainingLockMs(state, now.getTime()) > 0).map((state) => state.lockedUntil as number);
    if (failures === 0 && running.length === 0) return 'unchanged';
    const before = { failures, lockedUntil: running.length === 0 ? null : new Date(Math.max(...running)).toISOString() };
    await recordAudit(trx, { actor, action: 'person.unlock', target: person.username, before, after: { failures: 0, lockedUntil: null } }, now);
    return 'changed';
  });
}
