import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { findAccountHolder, findDebitAccounts, findUsageDebitByReference, type AccountHolder, type UsageDebit } from '../../db/print-api/usage-repository.js';
import type { Ledger } from '../ledger/accounts.js';
import { DomainError } from '../../domain/shared/errors.js';
import { LedgerError, SystemAccount, USAGE_CATEGORIES } from '../../domain/ledger/ledger.js';
import { recordUsageTo } from './usage-debits.js';
import { normalizeUsername, USERNAME_PATTERN } from '../../domain/people/users.js';

export type PrintApiErrorCode = 'account_not_found' | 'account_disabled' | 'debit_not_found';
export class PrintApiError extends DomainError<PrintApiErrorCode> {
  constructor(
    code: PrintApiErrorCode,
    /** Who or what was not found or refused, for the message the API answers with. */
    readonly subject: { username: string; reference?: string },
  ) {
    super(code, `${code}: ${subject.username}${subject.reference === undefined ? '' : ` ${subject.reference}`}`);
  }
}

/** The most one job may take: 10,000 units, far above any real print, copy, scan or fax job. */
const MAX_USAGE_UNITS = 10_000;
const MAX_PAGES = 100_000;

/**
 * A number with at most two decimals, as a person would write it. The number's shortest text is
 * checked, not `x * 100`: 0.1 + 0.2 is 0.30000000000000004 and must be refused, 0.29 accepted.
 */
const hasAtMostTwoDecimals = (value: number) => /^\d+(\.\d{1,2})?$/.test(String(value));

/** A job's reference: 1 to 100 visible ASCII characters. */
const REFERENCE_PATTERN = /^[\x21-\x7e]{1,100}$/;

/** What a print server sends to debit a job. Unknown fields are refused: a typo must not go unnoticed. */
export const usageDebitInput = z
  .object({
    category: z.enum(USAGE_CATEGORIES).describe('What the units were spent on.'),
    units: z
      .number()
      .positive()
      .max(MAX_USAGE_UNITS)
      .multipleOf(0.01)
      .refine(hasAtMostTwoDecimals, { message: 'units have at most two decimals' })
      .describe('Units to take, with at most two decimals (1.25 is one unit and a quarter).'),
    pages: z.number().int().min(0).max(MAX_PAGES).optional().describe('Pages or sheets of the job, shown in the person\'s history.'),
    reference: z
      .string()
      .regex(REFERENCE_PATTERN, 'a reference is 1 to 100 visible ASCII characters')
      .describe('The job\'s identifier on the print server, unique per API key: the debit is cancelled by it.'),
  })
  .strict();

export type UsageDebitInput = z.infer<typeof usageDebitInput>;

/** Hundredths from units already checked to have at most two decimals. */
const unitsToHundredths = (units: number) => Math.round(units * 100);

export interface DebitOutcome {
  holder: AccountHolder;
  debit: UsageDebit;
}

/** What the print servers may do, each scoped to the API key that asks. */
export function createPrintApi({ db, ledger }: { db: Database; ledger: Ledger }) {
  // Names nobody can have are not looked up: some (a NUL byte) would make PostgreSQL fail.
  async function byUsername<T>(username: string, find: (normalized: string) => Promise<T | undefined>): Promise<T> {
    const normalized = normalizeUsername(username);
    const result = USERNAME_PATTERN.test(normalized) ? await find(normalized) : undefined;
    if (!result) throw new PrintApiError('account_not_found', { username });
    return result;
  }

  const holderOf = (db: Knex | Knex.Transaction, username: string) => byUsername(username, (normalized) => findAccountHolder(db, normalized));

  async function debitOf(db: Knex | Knex.Transaction, apiKeyId: number, username: string, reference: string): Promise<DebitOutcome> {
    const holder = await holderOf(db, username);
    const debit = REFERENCE_PATTERN.test(reference) ? await findUsageDebitByReference(db, apiKeyId, reference) : undefined;
    if (!debit || debit.accountId !== holder.accountId) throw new PrintApiError('debit_not_found', { username, reference });
    return { holder, debit };
  }

  return {
    account: (username: string) => holderOf(db.knex, username),

    findDebit: (apiKeyId: number, username: string, reference: string) => debitOf(db.knex, apiKeyId, username, reference),

    /**
     * Debits a job inside the caller's transaction (the idempotency layer saves its answer in it).
     * The ledger key is derived from the API key and the request's Idempotency-Key: even two
     * executions of one request (a lease taken over) post one transaction. The answer's balance is the
     * one the debit left, as written, not read again.
     */
    async debit(trx: Knex.Transaction, request: { apiKeyId: number; idempotencyKey: string; username: string; input: UsageDebitInput }, now: Date): Promise<DebitOutcome> {
      const { holder, usageAccountId } = await byUsername(request.username, (normalized) => findDebitAccounts(trx, normalized, SystemAccount.usage(request.input.category)));
      if (holder.disabled) throw new PrintApiError('account_disabled', { username: holder.username });
      const keyHash = createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 40);
      const { accountBalance, ...debit } = await recordUsageTo(
        trx,
        usageAccountId,
        {
          apiKeyId: request.apiKeyId,
          accountId: holder.accountId,
          category: request.input.category,
          amount: unitsToHundredths(request.input.units),
          pages: request.input.pages ?? null,
          reference: request.input.reference,
          ledgerKey: `api-usage:${request.apiKeyId}:${keyHash}`,
        },
        now,
      );
      return { holder: { ...holder, balance: accountBalance }, debit };
    },

    /** Gives a job's units back with a reversing transaction; cancelling again answers the same. */
    async cancel(apiKeyId: number, username: string, reference: string): Promise<DebitOutcome> {
      const { debit } = await debitOf(db.knex, apiKeyId, username, reference);
      if (!debit.cancellationId) {
        try {
          await ledger.reverse({ transactionId: debit.transactionId, idempotencyKey: `api-usage-cancel:${debit.transactionId}`, description: null });
        } catch (error) {
          // Reversed a moment ago by someone else (an admin): cancelled all the same.
          if (!(error instanceof LedgerError && error.code === 'already_reversed')) throw error;
        }
      }
      return debitOf(db.knex, apiKeyId, username, reference);
    },
  };
}

export type PrintApi = ReturnType<typeof createPrintApi>;
