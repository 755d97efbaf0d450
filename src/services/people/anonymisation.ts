import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Knex } from 'knex';
import { moveOrder } from '../../db/checkout/order-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import {
  anonymisedUsername,
  eraseQuoteCustomers,
  eraseUserIdentity,
  hasOpenQuote,
  hasQuotePaymentInFlight,
  hasRefundInFlight,
  isBeingPaid,
  lockUnfinishedOrders,
  markUserClosed,
} from '../../db/people/anonymisation-repository.js';
import { findUserByUsername, lockUserByUsername } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { normalizeUsername } from '../../domain/people/users.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Clock } from '../../domain/time/clock.js';

export type AccountClosureErrorCode = 'user_not_found' | 'own_account' | 'not_closed' | 'payment_in_flight' | 'refund_in_flight' | 'quote_open' | 'username_taken';
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
 * No payment left half-way on an account closing: refused while one of the person's orders is being
 * paid (approved at PayPal, or its capture pending: it may still be credited), and their orders not
 * yet approved are cancelled through the order state machine (an order event says why), so a buyer
 * approving later in a PayPal tab still open is never captured. The orders are locked first, as
 * every payment path locks one before moving it.
 */
async function settleOrdersOfClosingAccount(trx: Knex.Transaction, userId: number, now: Date): Promise<void> {
  const orders = await lockUnfinishedOrders(trx, userId);
  if (orders.some((order) => isBeingPaid(order.status))) throw new AccountClosureError('payment_in_flight', 'an order of this person is being paid');
  for (const order of orders) await moveOrder(trx, order.id, { from: [order.status], to: 'cancelled', detail: 'the account was closed' }, now);
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
    await settleOrdersOfClosingAccount(trx, person.id, now);
    await markUserClosed(trx, person.id, now);
    await recordAudit(trx, { actor, action: 'person.close', target: person.username, before: { disabled: person.disabled }, after: { closed: true, disabled: true } }, now);
    return { outcome: 'changed', username: person.username };
  });
}

/**
 * Anonymises a closed account (refused while it is open): name, username, e-mail, identity links,
 * sign-ins and familiar sources go, and the customer on the quotes made out to it; the ledger and the
 * documents stay, under the account's id. Refused while money still moves for the person (an order
 * being paid, a refund pending: whoever settles it must know whom it was for) and while one of their
 * quotes is open; orders not yet approved are cancelled, as on closing (an account closed by its
 * refund request may still have one). The audit entry names the account by its new name only, so the
 * log does not keep what was erased. Anonymising again changes nothing.
 */
export async function anonymiseAccount({ db, clock }: Deps, username: string, actor: AuditActor): Promise<ClosureOutcome> {
  const now = clock.now();
  const taken = () => new AccountClosureError('username_taken', 'the name an anonymised account takes is taken by another account');
  return db.transaction(async (trx): Promise<ClosureOutcome> => {
    const person = await lockUserByUsername(trx, normalizeUsername(username));
    if (!person) throw new AccountClosureError('user_not_found', 'no such person');
    if (person.anonymisedAt) return { outcome: 'unchanged', username: person.username };
    if (!person.closedAt) throw new AccountClosureError('not_closed', 'only a closed account may be anonymised');
    await settleOrdersOfClosingAccount(trx, person.id, now);
    if (await hasQuotePaymentInFlight(trx, person.id)) throw new AccountClosureError('payment_in_flight', 'a quote of this person is being paid');
    if (await hasRefundInFlight(trx, person.id)) throw new AccountClosureError('refund_in_flight', 'a refund to this person is not finished');
    if (await hasOpenQuote(trx, person.id)) throw new AccountClosureError('quote_open', 'a quote made out to this person is still a draft or sent');
    const newUsername = anonymisedUsername(person.id);
    // Reserved for anonymised accounts (domain/people/users.ts), but an account made before that rule may hold it.
    if (await findUserByUsername(trx, newUsername)) throw taken();
    await eraseQuoteCustomers(trx, person.id, now);
    await eraseUserIdentity(trx, { id: person.id, email: person.email }, now);
    await recordAudit(trx, { actor, action: 'person.anonymise', target: newUsername, before: { closedAt: person.closedAt.toISOString() }, after: { anonymised: true } }, now);
    return { outcome: 'changed', username: newUsername };
  }).catch((error: unknown) => {
    // The same name created between the look-up and the update.
    throw isUniqueViolation(error) ? taken() : error;
  });
}
