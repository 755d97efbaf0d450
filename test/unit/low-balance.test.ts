import { expect } from 'chai';
import fc from 'fast-check';
import { TRANSACTION_KINDS, type TransactionKind } from '../../src/domain/ledger/ledger.js';
import { crossesThreshold, isBalanceLow, LowBalanceError, parseThreshold, THRESHOLD_MAX, THRESHOLD_MIN } from '../../src/domain/low-balance/low-balance.js';
import { formatHundredths } from '../../src/i18n/format.js';

const threshold = fc.integer({ min: THRESHOLD_MIN, max: THRESHOLD_MAX });

/** Applies postings one after the other as the ledger does, answering how many of them alerted. */
function alertsOf(start: number, limit: number, postings: Array<{ kind: TransactionKind; amount: number }>): number {
  let balance = start;
  let alerts = 0;
  for (const { kind, amount } of postings) {
    balance += amount;
    if (crossesThreshold({ kind, amount, balanceAfter: balance, threshold: limit })) alerts += 1;
  }
  return alerts;
}

describe('low-balance rules', () => {
  describe('crossesThreshold', () => {
    it('alerts once for debits that together take the balance below the threshold, in whatever order they are serialized', () => {
      fc.assert(
        fc.property(threshold, fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 30 }), fc.nat(10_000), (limit, debits, margin) => {
          const total = debits.reduce((sum, debit) => sum + debit, 0);
          // Starting at or above the threshold, ending below it.
          const start = limit + Math.min(margin, total - 1);
          const alerts = alertsOf(start, limit, debits.map((amount) => ({ kind: 'usage', amount: -amount })));
          expect(alerts).to.equal(1);
          expect(alertsOf(start, limit, [...debits].reverse().map((amount) => ({ kind: 'usage', amount: -amount })))).to.equal(1);
        }),
      );
    });

    it('alerts once per crossing: exactly as often as spending takes the balance from at least the threshold to below it', () => {
      const posting = fc.record({ kind: fc.constantFrom<TransactionKind>(...TRANSACTION_KINDS), amount: fc.integer({ min: -3_000, max: 3_000 }).filter((amount) => amount !== 0) });
      fc.assert(
        fc.property(threshold, fc.integer({ min: -10_000, max: 20_000 }), fc.array(posting, { maxLength: 40 }), (limit, start, postings) => {
          // The model: the alert is armed while the balance is at or above the threshold, and fires (disarming) on spending that goes below.
          let balance = start;
          let armed = balance >= limit;
          let expected = 0;
          for (const { kind, amount } of postings) {
            balance += amount;
            const spending = amount < 0 && ['usage', 'quote_payment', 'adjustment'].includes(kind);
            if (armed && balance < limit && spending) expected += 1;
            armed = balance >= limit;
          }
          expect(alertsOf(start, limit, postings)).to.equal(expected);
        }),
      );
    });

    it('never alerts without a threshold, on a credit, or on a take-back that is no spending', () => {
      expect(crossesThreshold({ kind: 'usage', amount: -100, balanceAfter: 450, threshold: null })).to.equal(false);
      expect(crossesThreshold({ kind: 'usage', amount: -100, balanceAfter: 450, threshold: 500 })).to.equal(true);
      expect(crossesThreshold({ kind: 'usage', amount: -100, balanceAfter: 500, threshold: 500 }), 'at the threshold').to.equal(false);
      expect(crossesThreshold({ kind: 'usage', amount: -100, balanceAfter: 399, threshold: 500 }), 'already below').to.equal(false);
      for (const kind of ['reversal', 'top_up', 'voucher'] as const) expect(crossesThreshold({ kind, amount: -100, balanceAfter: 450, threshold: 500 }), kind).to.equal(false);
      for (const kind of ['quote_payment', 'adjustment'] as const) expect(crossesThreshold({ kind, amount: -100, balanceAfter: 450, threshold: 500 }), kind).to.equal(true);
    });
  });

  describe('parseThreshold', () => {
    it('reads back every threshold as the portal shows it, in French and English', () => {
      fc.assert(
        fc.property(threshold, fc.constantFrom('fr' as const, 'en' as const), (value, locale) => {
          expect(parseThreshold(formatHundredths(value, locale))).to.equal(value);
        }),
      );
    });

    it('refuses what is not an amount of units, and amounts out of range, each with its reason', () => {
      for (const text of [undefined, 12, '', 'abc', '-1', '+1', '1e3', '2,505', '1,234', '5 €', '5 unités', '0x10']) {
        expect(() => parseThreshold(text), String(text)).to.throw(LowBalanceError).with.property('code', 'threshold_invalid');
      }
      for (const text of ['0', '0,00', '10000,01', '1 000 000']) {
        expect(() => parseThreshold(text), text).to.throw(LowBalanceError).with.property('code', 'threshold_out_of_range');
      }
    });
  });

  it('isBalanceLow: below the threshold only, never without one', () => {
    expect(isBalanceLow(-500, null)).to.equal(false);
    expect(isBalanceLow(499, 500)).to.equal(true);
    expect(isBalanceLow(500, 500)).to.equal(false);
  });
});
