import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { findAccountHolder, findDebitAccounts, findUsageDebitByReference, type AccountHolder, type UsageDebit } from '../../db/print-api/usage-repository.js';
import type { Ledger } from '../ledger/accounts.js';
import { DomainError } from '../../domain/shared/errors.js';
import { LedgerError, SystemAccount, USAGE_CATEGORIES } from '../../domain/ledger/ledger.js';
import { recordUsageTo } from './usage-debits.js';
import type { UsageRefusal } from '../../db/print-api/refusal-repository.js';
import { API_REFUSAL_REASONS, recordUsageRefusal, storedRefusalReason } from './usage-refusals.js';
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

/** A balance a print server saw: far beyond any account's, either side of zero. */
const MAX_BALANCE_UNITS = 1_000_000_000;

/**
 * A number with at most two decimals, as a person would write it. The number's shortest text is
 * checked, not `x * 100`: 0.1 + 0.2 is 0.30000000000000004 and must be refused, 0.29 accepted.
 */
const hasAtMostTwoDecimals = (value: number) => /^-?\d+(\.\d{1,2})?$/.test(String(value));

/** A job's reference: 1 to 100 visible ASCII characters. */
const REFERENCE_PATTERN = /^[\x21-\x7e]{1,100}$/;
/** A printer's name: 1 to 100 printable ASCII characters, no space at either end. */
const PRINTER_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$/;

/** Units with at most two decimals, within `bounds` (above `min` when `exclusive`). */
const unitsField = (bounds: { min: number; exclusive: boolean; max: number }) =>
  (bounds.exclusive ? z.number().gt(bounds.min) : z.number().min(bounds.min))
    .max(bounds.max)
    .multipleOf(0.01)
    .refine(hasAtMostTwoDecimals, { message: 'units have at most two decimals' });

/** What a print server says of a job, in a debit and in a refusal alike. */
const jobFields = {
  category: z.enum(USAGE_CATEGORIES).describe('What the units were spent on.'),
  units: unitsField({ min: 0, exclusive: true, max: MAX_USAGE_UNITS }).describe('Units to take, with at most two decimals (1.25 is one unit and a quarter).'),
  pages: z.number().int().min(0).max(MAX_PAGES).optional().describe('Pages or sheets of the job, shown in the person\'s history.'),
  printer: z
    .string()
    .regex(PRINTER_PATTERN, 'a printer is 1 to 100 printable ASCII characters')
    .optional()
    .describe('The printer (the print server\'s queue), shown in the person\'s history: 1 to 100 printable ASCII characters, no space at either end.'),
  colour: z.boolean().optional().describe('Whether the job was printed in colour.'),
  duplex: z.boolean().optional().describe('Whether the job was printed on both sides of the sheets.'),
  reference: z
    .string()
    .regex(REFERENCE_PATTERN, 'a reference is 1 to 100 visible ASCII characters')
    .describe('The job\'s identifier on the print server, unique per API key: the debit is cancelled by it.'),
};

/** What a print server sends to debit a job. Unknown fields are refused: a typo must not go unnoticed. */
export const usageDebitInput = z
  .object({
    ...jobFields,
    afterPrinting: z
      .boolean()
      .optional()
      .describe(
        'True when the job is already printed: the units are taken even if the balance goes below zero or the account is disabled (the paper is gone). ' +
          'False by default: such a debit is refused (402, 403).',
      ),
  })
  .strict();

export type UsageDebitInput = z.infer<typeof usageDebitInput>;

/** What a print server sends when it refused a job before printing it. Unknown fields are refused. */
export const usageRefusalInput = z
  .object({
    ...jobFields,
    units: jobFields.units.describe('What the job would have cost, in units with at most two decimals.'),
    reference: jobFields.reference.describe('The job\'s identifier on the print server, unique per API key: its refusal is recorded once.'),
    reason: z.enum(API_REFUSAL_REASONS).describe('Why the job was refused.'),
    balance: unitsField({ min: -MAX_BALANCE_UNITS, exclusive: false, max: MAX_BALANCE_UNITS })
      .optional()
      .describe('The balance the print server saw when it refused, in units with at most two decimals (below zero for an account that may go negative).'),
  })
  .strict();

export type UsageRefusalInput = z.infer<typeof usageRefusalInput>;

/** Hundredths from units already checked to have at most two decimals. */
const unitsToHundredths = (units: number) => Math.round(units * 100);

export interface DebitOutcome {
  holder: AccountHolder;
  debit: UsageDebit;
}

export interface RefusalOutcome {
  refusal: UsageRefusal;
  /** False when the reference was already reported: the refusal is the one recorded then. */
  created: boolean;
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
      const { afterPrinting = false, printer = null, colour = null, duplex = null } = request.input;
      // A job already printed is debited whatever the account allows: the paper is gone.
      if (holder.disabled && !afterPrinting) throw new PrintApiError('account_disabled', { username: holder.username });
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
          printer,
          colour,
          duplex,
          reference: request.input.reference,
          ledgerKey: `api-usage:${request.apiKeyId}:${keyHash}`,
          allowOverdraft: afterPrinting,
        },
        now,
      );
      return { holder: { ...holder, balance: accountBalance }, debit };
    },

    /** Records a job the print server refused (nothing is debited), once per reference of the key. */
    async refuse(request: { apiKeyId: number; username: string; input: UsageRefusalInput }, now: Date): Promise<RefusalOutcome> {
      const holder = await holderOf(db.knex, request.username);
      const { input } = request;
      return recordUsageRefusal(
        db.knex,
        holder,
        {
          apiKeyId: request.apiKeyId,
          category: input.category,
          reason: storedRefusalReason(input.reason),
          amount: unitsToHundredths(input.units),
          balanceSeen: input.balance === undefined ? null : unitsToHundredths(input.balance),
          pages: input.pages ?? null,
          printer: input.printer ?? null,
          colour: input.colour ?? null,
          duplex: input.duplex ?? null,
          reference: input.reference,
        },
        now,
      );
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
