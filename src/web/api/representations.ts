import { z } from 'zod';
import type { AccountHolder, UsageDebit, UsageRefusal } from '../../services/print-api/records.js';
import { API_REFUSAL_REASONS, apiRefusalReason } from '../../services/print-api/usage-refusals.js';
import { TRANSACTION_KINDS, USAGE_CATEGORIES, type Hundredths } from '../../domain/ledger/ledger.js';
import { isBalanceLow } from '../../domain/low-balance/low-balance.js';

/** Units as the API writes them: a number with at most two decimals (4960 hundredths → 49.6). */
export const unitsOf = (hundredths: Hundredths) => hundredths / 100;
const timestamp = z.iso.datetime().describe('ISO 8601, UTC.');
const unitsAmount = z.number().multipleOf(0.01);
const balanceLow = z.boolean().describe('Whether the balance is below the threshold the person chose for their low-balance alert (always false without one): a print server may tell them to top up.');

export const accountSchema = z
  .object({
    username: z.string(),
    displayName: z.string(),
    status: z.enum(['active', 'disabled']).describe('A disabled account can be read and credited back, not debited.'),
    balance: unitsAmount.describe('Units left, with at most two decimals.'),
    allowNegative: z.boolean().describe('Whether debits may take the balance below zero.'),
    balanceLow,
  })
  .strict();

/** What the print server said of a job's printing; null when it did not say (and for jobs recorded before it could). */
const jobDetails = {
  printer: z.string().nullable(),
  colour: z.boolean().nullable(),
  duplex: z.boolean().nullable(),
};

export const debitSchema = z
  .object({
    reference: z.string(),
    category: z.enum(USAGE_CATEGORIES),
    units: unitsAmount,
    pages: z.number().int().nullable(),
    ...jobDetails,
    status: z.enum(['debited', 'cancelled']),
    createdAt: timestamp,
    cancelledAt: timestamp.nullable(),
    account: z.object({ username: z.string(), balance: unitsAmount.describe('The balance right after this debit or its cancellation.'), balanceLow }).strict(),
  })
  .strict();

export const refusalSchema = z
  .object({
    reference: z.string(),
    category: z.enum(USAGE_CATEGORIES),
    units: unitsAmount.describe('What the job would have cost.'),
    reason: z.enum(API_REFUSAL_REASONS),
    pages: z.number().int().nullable(),
    ...jobDetails,
    balance: unitsAmount.nullable().describe('The balance the print server saw, if it said.'),
    createdAt: timestamp,
    account: z.object({ username: z.string() }).strict(),
  })
  .strict();

export const transactionSchema = z
  .object({
    id: z.number().int().describe('The ledger transaction.'),
    kind: z.enum(TRANSACTION_KINDS),
    category: z.enum(USAGE_CATEGORIES).nullable().describe('For usage and its cancellation: what it was spent on.'),
    units: unitsAmount.describe('Positive when credited, negative when debited.'),
    balanceAfter: unitsAmount,
    reference: z.string().nullable(),
    pages: z.number().int().nullable(),
    createdAt: timestamp,
  })
  .strict();

export const transactionPageSchema = z
  .object({
    items: z.array(transactionSchema).describe('Newest first.'),
    next: z.string().nullable().describe('The next (older) page, or null on the last one.'),
  })
  .strict();

export const problemSchema = z
  .object({
    type: z.string().describe('A URI naming the problem; GET it for a description.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() }).strict()).optional().describe('Each refused field, for invalid-request.'),
  })
  .strict();

export const problemTypeSchema = z.object({ type: z.string(), title: z.string(), status: z.number().int(), description: z.string() }).strict();

export function accountJson(holder: AccountHolder): z.infer<typeof accountSchema> {
  return {
    username: holder.username,
    displayName: holder.displayName,
    status: holder.disabled ? 'disabled' : 'active',
    balance: unitsOf(holder.balance),
    allowNegative: holder.allowNegative,
    balanceLow: isBalanceLow(holder.balance, holder.lowBalanceThreshold),
  };
}

export function debitJson({ holder, debit }: { holder: AccountHolder; debit: UsageDebit }): z.infer<typeof debitSchema> {
  return {
    reference: debit.reference,
    category: debit.category,
    units: unitsOf(debit.amount),
    pages: debit.pages,
    printer: debit.printer,
    colour: debit.colour,
    duplex: debit.duplex,
    status: debit.cancellationId === null ? 'debited' : 'cancelled',
    createdAt: debit.createdAt.toISOString(),
    cancelledAt: debit.cancelledAt?.toISOString() ?? null,
    account: { username: holder.username, balance: unitsOf(holder.balance), balanceLow: isBalanceLow(holder.balance, holder.lowBalanceThreshold) },
  };
}

export function refusalJson(refusal: UsageRefusal): z.infer<typeof refusalSchema> {
  return {
    reference: refusal.reference,
    category: refusal.category,
    units: unitsOf(refusal.amount),
    reason: apiRefusalReason(refusal.reason),
    pages: refusal.pages,
    printer: refusal.printer,
    colour: refusal.colour,
    duplex: refusal.duplex,
    balance: refusal.balanceSeen === null ? null : unitsOf(refusal.balanceSeen),
    createdAt: refusal.createdAt.toISOString(),
    account: { username: refusal.username },
  };
}
