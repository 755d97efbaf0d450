import { expect } from 'chai';
import fc from 'fast-check';
import {
  afterDeliveryFailure,
  isTransferredToDestination,
  type DeliveryFailure,
  type DeliveryFailureKind,
  type DeliveryFaultReason,
  type FailedDeliveryOutcome,
} from '../../src/domain/credit-transfers/transfers.js';
import { TRANSACTION_KINDS, type TransactionKind } from '../../src/domain/ledger/ledger.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const GIVE_UP = 72 * HOUR;

const triesSince = new Date('2026-11-23T10:00:00Z');
const at = (ms: number) => new Date(triesSince.getTime() + ms);
const failure = (kind: DeliveryFailureKind, reason: DeliveryFaultReason | undefined, attempts = 1): DeliveryFailure => ({
  kind,
  ...(reason ? { reason } : {}),
  error: `${kind} ${reason ?? ''}`.trim(),
  attempts,
  triesSince,
});
const traits = (deduplicates: boolean) => ({ deduplicates, giveUpAfterMs: GIVE_UP });

describe('credit transfers: which postings go to the print system', () => {
  const expected: Record<TransactionKind, boolean> = { top_up: true, usage: false, adjustment: true, reversal: true, quote_payment: true, voucher: true };

  for (const kind of TRANSACTION_KINDS) {
    it(`${kind} (not a reversal of anything): ${expected[kind] ? 'transferred' : 'the print system’s own'}`, () => {
      expect(isTransferredToDestination(kind, null)).to.equal(expected[kind]);
    });
  }

  for (const reversed of TRANSACTION_KINDS) {
    it(`the reversal of a ${reversed}: ${reversed === 'usage' ? 'not transferred (the print system charged the job)' : 'transferred'}`, () => {
      expect(isTransferredToDestination('reversal', reversed)).to.equal(reversed !== 'usage');
    });
  }
});

describe('credit transfers: what becomes of a failed delivery', () => {
  /** What each failure gives within the give-up period, for a destination that does / does not deduplicate. */
  const table: Array<[DeliveryFailureKind, DeliveryFaultReason | undefined, deduplicating: FailedDeliveryOutcome['state'], notDeduplicating: FailedDeliveryOutcome['state']]> = [
    ['unknown_outcome', undefined, 'pending', 'unknown'],
    ['not_sent', undefined, 'pending', 'pending'],
    ['definite_fault', 'access_denied', 'pending', 'pending'],
    ['definite_fault', 'unknown_user', 'parked', 'parked'],
    ['definite_fault', 'refused', 'parked', 'parked'],
    ['definite_fault', undefined, 'parked', 'parked'],
  ];

  for (const [kind, reason, deduplicating, notDeduplicating] of table) {
    for (const deduplicates of [true, false]) {
      const state = deduplicates ? deduplicating : notDeduplicating;
      const name = `${kind}${reason ? ` (${reason})` : ''}, ${deduplicates ? 'deduplicating' : 'not deduplicating'}`;

      it(`${name}: ${state} within the give-up period, keeping the error`, () => {
        const outcome = afterDeliveryFailure(failure(kind, reason, 3), at(10 * MINUTE), traits(deduplicates));
        const error = failure(kind, reason).error;
        expect(outcome).to.deep.equal(state === 'pending' ? { state, error, nextAttemptAt: at(14 * MINUTE) } : { state, error });
      });

      // What was retried is parked once too old; what waits for an admin stays as it is.
      const late = state === 'pending' ? 'parked' : state;
      it(`${name}: ${late} after the give-up period, ${state} at its very end`, () => {
        expect(afterDeliveryFailure(failure(kind, reason, 40), at(GIVE_UP), traits(deduplicates)).state).to.equal(state);
        expect(afterDeliveryFailure(failure(kind, reason, 40), at(GIVE_UP + 1), traits(deduplicates))).to.deep.equal({ state: late, error: failure(kind, reason).error });
      });
    }
  }

  it('waits a minute after the first attempt, doubling, at most an hour', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((attempts) => {
      const outcome = afterDeliveryFailure(failure('not_sent', undefined, attempts), triesSince, traits(false));
      return outcome.state === 'pending' ? (outcome.nextAttemptAt.getTime() - triesSince.getTime()) / MINUTE : null;
    });
    expect(delays).to.deep.equal([1, 2, 4, 8, 16, 32, 60, 60]);
  });

  const kinds = fc.constantFrom<DeliveryFailureKind>('definite_fault', 'not_sent', 'unknown_outcome');
  const reasons = fc.option(fc.constantFrom<DeliveryFaultReason>('unknown_user', 'access_denied', 'refused'), { nil: undefined });
  const failures = fc.record({
    kind: kinds,
    reason: reasons,
    attempts: fc.integer({ min: 1, max: 1000 }),
    // From the queueing to well past any give-up period, and a clock that went back a little.
    elapsed: fc.integer({ min: -HOUR, max: 30 * 24 * HOUR }),
    giveUpAfterMs: fc.integer({ min: HOUR, max: 14 * 24 * HOUR }),
    deduplicates: fc.boolean(),
  });
  type Input = typeof failures extends fc.Arbitrary<infer T> ? T : never;
  const outcomeOf = (input: Input) => afterDeliveryFailure(failure(input.kind, input.reason, input.attempts), at(input.elapsed), { deduplicates: input.deduplicates, giveUpAfterMs: input.giveUpAfterMs });

  it('never sends again a lost answer to a destination that does not deduplicate: unknown, whatever the time and attempts', () => {
    fc.assert(
      fc.property(failures, (input) => {
        const outcome = outcomeOf({ ...input, kind: 'unknown_outcome', deduplicates: false });
        expect(outcome.state).to.equal('unknown');
      }),
    );
  });

  it('schedules every retry after now, at most an hour later', () => {
    fc.assert(
      fc.property(failures, (input) => {
        const outcome = outcomeOf(input);
        if (outcome.state !== 'pending') return;
        const delay = outcome.nextAttemptAt.getTime() - at(input.elapsed).getTime();
        expect(delay).to.be.greaterThan(0);
        expect(delay).to.be.at.most(HOUR);
      }),
    );
  });

  it('never leaves a transfer pending after the give-up period', () => {
    fc.assert(
      fc.property(failures, (input) => {
        fc.pre(input.elapsed > input.giveUpAfterMs);
        expect(outcomeOf(input).state).not.to.equal('pending');
      }),
    );
  });

  it('retries only what was certainly not applied, or what the destination would recognise', () => {
    fc.assert(
      fc.property(failures, (input) => {
        if (outcomeOf(input).state !== 'pending') return;
        const notApplied = input.kind === 'not_sent' || (input.kind === 'definite_fault' && input.reason === 'access_denied');
        expect(notApplied || (input.kind === 'unknown_outcome' && input.deduplicates)).to.equal(true);
      }),
    );
  });
});
