import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { LOW_BALANCE_NOTICE_KIND, lowBalanceSendKey } from '../../domain/low-balance/low-balance.js';
import type { Hundredths } from '../../domain/ledger/ledger.js';
import { isLocale, type Locale } from '../../domain/shared/locale.js';
import { toSafeInteger, type Queryable } from '../database.js';
import { enqueueNoticeMail } from '../mail/mail-outbox-repository.js';

export interface LowBalanceAlert {
  threshold: Hundredths;
  /** The language the alert was set in: its mail's, unless the person chose one. */
  locale: Locale;
}

/**
 * The account's threshold as a column of a statement on `accounts` (null: no alert): the posting reads
 * it in the very update that moves the balance, so an account without an alert costs no statement more.
 */
export const thresholdColumn = (db: Queryable) => db.raw('(select threshold from low_balance_alerts where low_balance_alerts.account_id = accounts.id) as low_balance_threshold');

/** The threshold a row read with thresholdColumn carries. */
export const thresholdOf = (row: { low_balance_threshold?: unknown }): Hundredths | null => (row.low_balance_threshold == null ? null : toSafeInteger(row.low_balance_threshold));

/** The account's threshold; null without an alert. */
export async function findThreshold(db: Queryable, accountId: number): Promise<Hundredths | null> {
  const row = await db('low_balance_alerts').where('account_id', accountId).first('threshold');
  return row ? toSafeInteger(row.threshold) : null;
}

/** Sets the account's threshold, whether it had one or not. */
export async function saveAlert(db: Queryable, accountId: number, alert: LowBalanceAlert, now: Date): Promise<void> {
  await db('low_balance_alerts')
    .insert({ account_id: accountId, threshold: alert.threshold, locale: alert.locale, updated_at: now.toISOString() })
    .onConflict('account_id')
    .merge(['threshold', 'locale', 'updated_at']);
}

/** Turns the account's alert off; answers whether it was on. */
export async function removeAlert(db: Queryable, accountId: number): Promise<boolean> {
  return (await db('low_balance_alerts').where('account_id', accountId).del()) > 0;
}

export interface LowBalanceCrossing {
  transactionId: number;
  accountId: number;
  userId: number;
  balanceAfter: Hundredths;
  threshold: Hundredths;
}

/**
 * Withdraws crossing mails not yet taken for sending: one transaction's (a cancelled debit that brings the
 * balance back: its mail would be untrue), or all the account's (closed or anonymised: no mail to it any more).
 * A mail already being sent goes out.
 */
export async function withdrawPendingCrossingNotices(trx: Knex.Transaction, accountId: number, transactionId?: number): Promise<void> {
  const pending = trx('mail_outbox').where('notice_kind', LOW_BALANCE_NOTICE_KIND).where('status', 'pending');
  // lowBalanceSendKey's shape: one transaction's, or any of the account's.
  await (transactionId === undefined ? pending.where('send_key', 'like', `low-balance:%:${accountId}`) : pending.where('send_key', lowBalanceSendKey(transactionId, accountId))).del();
}

/**
 * Queues the crossing's mail in the posting's transaction (the outbox's notice, keyed by the ledger
 * transaction and the account: once, whatever replays the posting). Written in the person's chosen
 * language, else the alert's; a person without an address, whose account is closed or disabled (a job
 * printed before still debits it, but they cannot sign in to top up) or whose alert was turned off
 * meanwhile gets nothing. Answers whether a mail was queued.
 */
export async function queueCrossingNotice(trx: Knex.Transaction, crossing: LowBalanceCrossing, now: Date): Promise<boolean> {
  const person = await trx('users as person')
    .join('low_balance_alerts as alert', (on) => on.onVal('alert.account_id', crossing.accountId))
    .where('person.id', crossing.userId)
    .whereNull('person.closed_at')
    .where('person.disabled', false)
    .first('person.email', 'person.locale', 'alert.locale as alert_locale');
  if (!person || typeof person.email !== 'string' || person.email === '') return false;
  const locale: Locale = isLocale(person.locale) ? person.locale : isLocale(person.alert_locale) ? person.alert_locale : 'fr';
  return enqueueNoticeMail(
    trx,
    {
      notice: { kind: LOW_BALANCE_NOTICE_KIND, params: { balance: crossing.balanceAfter, threshold: crossing.threshold }, locale },
      sendKey: lowBalanceSendKey(crossing.transactionId, crossing.accountId),
      recipient: person.email,
      // The posting knows no portal address (it runs for every caller, the command line's included): delivery adds its domain.
      messageId: `<low-balance.${crossing.transactionId}.${crossing.accountId}.${randomBytes(6).toString('hex')}>`,
    },
    now,
  );
}
