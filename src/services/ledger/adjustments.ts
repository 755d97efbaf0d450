import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { getAccountByCode, isTransactionRecorded, postTransaction } from '../../db/ledger/ledger-repository.js';
import { lockPersonAccount } from '../../db/people/people-repository.js';
import { findUserByUsername } from '../../db/people/user-repository.js';
import type { AuditRecord } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';
import { isFormNonce } from '../../domain/shared/form-nonce.js';
import { LedgerError, SystemAccount, type Hundredths } from '../../domain/ledger/ledger.js';
import { parseAmount, PricingError } from '../../domain/pricing/pricing.js';
import { normalizeUsername, UserError } from '../../domain/people/users.js';

export const ADJUSTMENT_DIRECTIONS = ['credit', 'debit'] as const;
export type AdjustmentDirection = (typeof ADJUSTMENT_DIRECTIONS)[number];

/** The reason becomes the ledger transaction's description, which holds at most 500 characters. */
export const REASON_MAX_LENGTH = 500;

/** What an admin typed: nothing is trusted yet. */
export interface AdjustmentForm {
  direction: unknown;
  amount: unknown;
  reason: unknown;
  nonce: unknown;
}

export interface Adjustment {
  direction: AdjustmentDirection;
  /** Always positive; the direction says which way it goes. */
  amount: Hundredths;
  reason: string;
  /** Random, put in the form when it was shown: one form submitted twice posts once. */
  nonce: string;
}

export type AdjustmentProblem = 'direction' | 'amount' | 'amount_zero' | 'insufficient_balance' | 'reason' | 'reason_too_long';
export type AdjustmentProblems = Partial<Record<'direction' | 'amount' | 'reason', AdjustmentProblem>>;

export type AdjustmentErrorCode = 'invalid_adjustment' | 'invalid_nonce' | 'insufficient_balance';

export class AdjustmentError extends DomainError<AdjustmentErrorCode> {
  constructor(
    code: AdjustmentErrorCode,
    message: string,
    /** What is wrong with each field. */
    readonly problems: AdjustmentProblems = {},
    /** For insufficient_balance: the balance the debit would overdraw. */
    readonly balance: Hundredths | null = null,
  ) {
    super(code, message);
  }
}

export interface AdjustmentResult {
  /** True when this form had already been posted: nothing new was written. */
  replayed: boolean;
  direction: AdjustmentDirection;
}


/** The ledger key of one submitted form: the nonce, scoped to the person. */
export function adjustmentKey(userId: number, nonce: string): string {
  return `admin-adjustment:${userId}:${nonce}`;
}

/** Checks every field of the form and names each bad one; amounts are typed in units ("12,50"). */
export function validateAdjustment(form: AdjustmentForm): Adjustment {
  if (!isFormNonce(form.nonce)) throw new AdjustmentError('invalid_nonce', 'the form has no valid nonce');
  const problems: AdjustmentProblems = {};
  const direction = (ADJUSTMENT_DIRECTIONS as readonly unknown[]).includes(form.direction) ? (form.direction as AdjustmentDirection) : null;
  if (!direction) problems.direction = 'direction';
  let amount = 0;
  try {
    amount = parseAmount(form.amount);
    if (amount === 0) problems.amount = 'amount_zero';
  } catch (error) {
    if (!(error instanceof PricingError)) throw error;
    problems.amount = 'amount';
  }
  const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
  if (reason === '') problems.reason = 'reason';
  else if (reason.length > REASON_MAX_LENGTH) problems.reason = 'reason_too_long';
  if (!direction || Object.keys(problems).length > 0) {
    throw new AdjustmentError('invalid_adjustment', `bad ${Object.keys(problems).join(', ')}`, problems);
  }
  return { direction, amount, reason, nonce: form.nonce };
}

/**
 * Manual credits and debits by an admin: a ledger transaction of kind `adjustment` between the
 * person's account and `system:adjustments`, naming the admin, with the reason as its description,
 * audited in the same database transaction. A debit never takes an account below zero.
 */
export function createAdjustments({ db, clock }: { db: Database; clock: Clock }) {
  return {
    async adjust(actor: AuditRecord['actor'], username: string, form: AdjustmentForm): Promise<AdjustmentResult> {
      const adjustment = validateAdjustment(form);
      const now = clock.now();
      return db.transaction(async (trx) => {
        const person = await findUserByUsername(trx, normalizeUsername(username));
        if (!person) throw new UserError('user_not_found', `no user named ${username}`);
        // Locked first, so that a double submit waits here and then finds its key recorded.
        const account = await lockPersonAccount(trx, person.id);
        if (!account) throw new LedgerError('account_not_found', `user ${person.id} has no account`);
        const idempotencyKey = adjustmentKey(person.id, adjustment.nonce);
        if (await isTransactionRecorded(trx, idempotencyKey)) return { replayed: true, direction: adjustment.direction };
        const signed = adjustment.direction === 'credit' ? adjustment.amount : -adjustment.amount;
        // Checked here rather than left to the ledger's guard, which an account allowed below zero would pass.
        if (account.balance + signed < 0) {
          throw new AdjustmentError('insufficient_balance', `balance ${account.balance} is below ${adjustment.amount}`, { amount: 'insufficient_balance' }, account.balance);
        }
        const system = await getAccountByCode(trx, SystemAccount.adjustments);
        const { transactionId } = await postTransaction(
          trx,
          {
            idempotencyKey,
            kind: 'adjustment',
            lines: [
              { accountId: account.id, amount: signed },
              { accountId: system.id, amount: -signed },
            ],
            description: adjustment.reason,
            createdBy: actor.id,
          },
          now,
        );
        await recordAudit(
          trx,
          {
            actor,
            action: `person.${adjustment.direction}`,
            target: person.username,
            before: { balance: account.balance },
            after: { balance: account.balance + signed, amount: adjustment.amount, reason: adjustment.reason, transactionId },
          },
          now,
        );
        return { replayed: false, direction: adjustment.direction };
      });
    },
  };
}

export type Adjustments = ReturnType<typeof createAdjustments>;
