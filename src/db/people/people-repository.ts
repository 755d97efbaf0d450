import type { Knex } from 'knex';
import type { Hundredths } from '../../domain/ledger/ledger.js';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import { formatOrderNumber } from '../../domain/checkout/orders.js';
import type { Cents, Currency } from '../../domain/pricing/pricing.js';
import type { Role } from '../../domain/people/users.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/** One line of the people list. */
export interface PersonSummary {
  id: number;
  username: string;
  displayName: string;
  email: string;
  role: Role;
  disabled: boolean;
  balance: Hundredths;
  flagged: boolean;
  /** Whether the person has a portal password (the hash itself stays in the database). */
  hasPassword: boolean;
}

/** A person's units account as the admin pages see it: `flagged` once a refund or dispute took it below zero. */
export interface PersonAccount {
  id: number;
  balance: Hundredths;
  flagged: boolean;
  /** Whether debits (print servers, refunds) may take it below zero: staff billed afterwards, say. */
  allowNegative: boolean;
}

export interface PersonOrder {
  number: string;
  status: OrderStatus;
  currency: Currency;
  priceCents: Cents;
  refundedCents: Cents;
  /** Units bought plus the bonus. */
  units: Hundredths;
  createdAt: Date;
}

/** `text` as a LIKE pattern matching it anywhere, with LIKE's own wildcards taken literally. */
const containing = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/**
 * People whose username, name or e-mail contains `text`, whatever the case (ASCII case on SQLite,
 * whose lower() knows no other letters), by username.
 */
export async function searchPeople(db: Queryable, search: { text: string; limit: number; offset: number }): Promise<{ people: PersonSummary[]; total: number }> {
  const matching = () => {
    const query = db('users').join('accounts', 'accounts.user_id', 'users.id');
    if (search.text !== '') {
      const pattern = containing(search.text);
      void query.where((where) =>
        where
          .whereRaw("users.username like ? escape '\\'", [pattern])
          .orWhereRaw("lower(users.display_name) like ? escape '\\'", [pattern])
          .orWhereRaw("lower(users.email) like ? escape '\\'", [pattern]),
      );
    }
    return query;
  };
  const [rows, count] = await Promise.all([
    matching()
      .orderBy('users.username')
      .limit(search.limit)
      .offset(search.offset)
      .select('users.id', 'users.username', 'users.display_name', 'users.email', 'users.role', 'users.disabled', 'accounts.balance', 'accounts.flagged')
      .select(db.raw('(users.password_hash is not null) as has_password')),
    matching().count({ total: '*' }).first(),
  ]);
  return {
    total: toSafeInteger(count?.total ?? 0),
    people: (rows as Array<Record<string, unknown>>).map((row) => ({
      id: toSafeInteger(row.id),
      username: String(row.username),
      displayName: String(row.display_name),
      email: String(row.email),
      role: row.role as Role,
      disabled: Boolean(row.disabled),
      balance: toSafeInteger(row.balance),
      flagged: Boolean(row.flagged),
      hasPassword: Boolean(row.has_password),
    })),
  };
}

export async function findPersonAccount(db: Queryable, userId: number): Promise<PersonAccount | undefined> {
  return toPersonAccount(await db('accounts').where('user_id', userId).first('id', 'balance', 'flagged', 'allow_negative'));
}

/** The person's account, locked until the end of the transaction (PostgreSQL; SQLite has one writer anyway). */
export async function lockPersonAccount(trx: Knex.Transaction, userId: number): Promise<PersonAccount | undefined> {
  return toPersonAccount(await trx('accounts').where('user_id', userId).forUpdate().first('id', 'balance', 'flagged', 'allow_negative'));
}

function toPersonAccount(row: Record<string, unknown> | undefined): PersonAccount | undefined {
  return row && { id: toSafeInteger(row.id), balance: toSafeInteger(row.balance), flagged: Boolean(row.flagged), allowNegative: Boolean(row.allow_negative) };
}

/** The id of the person's account, and whether the person's account was closed: one read for a payment's credit. */
export async function findCreditedAccount(db: Queryable, userId: number): Promise<{ id: number; closed: boolean } | undefined> {
  const row = (await db('accounts as a').join('users as u', 'u.id', 'a.user_id').where('a.user_id', userId).first('a.id', 'u.closed_at')) as Record<string, unknown> | undefined;
  return row && { id: toSafeInteger(row.id), closed: row.closed_at != null };
}

export async function setAccountAllowNegative(db: Queryable, accountId: number, allowNegative: boolean): Promise<void> {
  await db('accounts').where('id', accountId).update({ allow_negative: allowNegative });
}

/** The person's latest orders, newest first, and how many they have in all. */
export async function listPersonOrders(db: Queryable, userId: number, limit: number): Promise<{ orders: PersonOrder[]; total: number }> {
  const [rows, count] = await Promise.all([
    db('orders')
      .where('user_id', userId)
      .orderBy('id', 'desc')
      .limit(limit)
      .select('id', 'status', 'currency', 'price_cents', 'refunded_cents', 'units', 'bonus_units', 'created_at'),
    db('orders').where('user_id', userId).count({ total: '*' }).first(),
  ]);
  return {
    total: toSafeInteger(count?.total ?? 0),
    orders: (rows as Array<Record<string, unknown>>).map((row) => {
      const createdAt = toDate(row.created_at);
      return {
        number: formatOrderNumber(toSafeInteger(row.id), createdAt),
        status: row.status as OrderStatus,
        currency: row.currency as Currency,
        priceCents: toSafeInteger(row.price_cents),
        refundedCents: toSafeInteger(row.refunded_cents),
        units: toSafeInteger(row.units) + toSafeInteger(row.bonus_units),
        createdAt,
      };
    }),
  };
}
