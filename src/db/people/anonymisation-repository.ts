import type { Knex } from 'knex';

/** The username an anonymised account takes: unique, and saying nothing of the person. */
export const anonymisedUsername = (userId: number) => `closed-${userId}`;

/** Closes the account: disabled for good (no sign-in, no debit), and its sessions end at their next request. */
export async function markUserClosed(trx: Knex.Transaction, userId: number, now: Date): Promise<void> {
  await trx('users')
    .where('id', userId)
    .update({ closed_at: now.toISOString(), disabled: true, session_version: trx.raw('session_version + 1'), updated_at: now.toISOString() });
}

/**
 * Replaces what names the person on a closed account, and deletes what only served to sign them in:
 * identity links, sign-ins and their sessions, familiar sources. The ledger, the orders and the
 * documents keep the account's id (accounting records); the mails already handled lose the address.
 */
export async function eraseUserIdentity(trx: Knex.Transaction, user: { id: number; email: string }, now: Date): Promise<void> {
  const sids = trx('login_sessions').where('user_id', user.id).select('sid');
  await trx('sessions').whereIn('sid', sids).del();
  await trx('login_sessions').where('user_id', user.id).del();
  await trx('user_identities').where('user_id', user.id).del();
  await trx('login_familiar_sources').where('user_id', user.id).del();
  if (user.email !== '') await trx('mail_outbox').where('recipient', user.email).whereIn('status', ['sent', 'kept', 'failed']).update({ recipient: '' });
  await trx('users')
    .where('id', user.id)
    .update({
      username: anonymisedUsername(user.id),
      display_name: '',
      email: '',
      password_hash: null,
      locale: null,
      anonymised_at: now.toISOString(),
      session_version: trx.raw('session_version + 1'),
      updated_at: now.toISOString(),
    });
}
