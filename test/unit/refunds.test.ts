import { expect } from 'chai';
import fc from 'fast-check';
import type { OrderStatus } from '../../src/domain/checkout/order-status.js';
import {
  checkRefundAmount,
  checkUnitsAvailable,
  isRefundPolicy,
  refundableCents,
  RefundError,
  refundShare,
  unitsTakenBack,
} from '../../src/domain/checkout/refunds.js';

/** 20,00 € for 20 units and 2 bonus units. */
const order = (status: OrderStatus = 'paid', refundedCents = 0, paypalCaptureId: string | null = 'CAPTURE-1') => ({
  number: 'R-2026-000001',
  status,
  paypalCaptureId,
  priceCents: 2000,
  refundedCents,
  units: 2000,
  bonusUnits: 200,
});

function refusal(action: () => unknown): RefundError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(RefundError);
    return error as RefundError;
  }
  throw new Error('expected a refusal');
}

/** A price and a way to split it into refunds that add up to it. */
const fullSplit = fc
  .record({ priceCents: fc.integer({ min: 1, max: 1_000_000 }), units: fc.integer({ min: 0, max: 10_000_000 }), bonusUnits: fc.integer({ min: 0, max: 1_000_000 }), cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }) })
  .map(({ priceCents, units, bonusUnits, cuts }) => {
    const points = [...new Set(cuts.map((cut) => Math.floor(cut * priceCents)))].filter((point) => point > 0 && point < priceCents).sort((a, b) => a - b);
    const bounds = [0, ...points, priceCents];
    return { order: { priceCents, units, bonusUnits }, refunds: bounds.slice(1).map((bound, index) => bound - bounds[index]!) };
  });

describe('refund rules', () => {
  it('knows its two policies', () => {
    expect(isRefundPolicy('refuse')).to.equal(true);
    expect(isRefundPolicy('allow_negative')).to.equal(true);
    for (const value of ['', 'Refuse', 'always', undefined, null, ['refuse']]) expect(isRefundPolicy(value), String(value)).to.equal(false);
  });

  it('refunds only credited orders with a capture, up to what remains', () => {
    expect(refundableCents(order())).to.equal(2000);
    expect(refundableCents(order('partially_refunded', 500))).to.equal(1500);
    for (const status of ['created', 'awaiting_payment', 'approved', 'capture_pending', 'refunded', 'reversed', 'cancelled', 'expired', 'failed'] as const) {
      expect(refundableCents(order(status)), status).to.equal(0);
      expect(refusal(() => checkRefundAmount(order(status), 100)).code, status).to.equal('not_refundable');
    }
    expect(refusal(() => checkRefundAmount(order('paid', 0, null), 100)).code).to.equal('not_refundable');
    expect(refusal(() => checkRefundAmount(order(), 0)).code).to.equal('amount_not_positive');
    expect(refusal(() => checkRefundAmount(order(), -1)).code).to.equal('amount_not_positive');
    expect(refusal(() => checkRefundAmount(order('partially_refunded', 500), 1501)).code).to.equal('amount_exceeds_remaining');
    expect(() => checkRefundAmount(order('partially_refunded', 500), 1500)).not.to.throw();
    expect(() => checkRefundAmount(order(), 1)).not.to.throw();
  });

  it('takes back each refund its share rounded down, and the remainder with the one that completes the price', () => {
    const units = order();
    expect(refundShare(units, 167)).to.equal(183); // 2200 × 167 / 2000 = 183.7
    expect(unitsTakenBack(units, [], 167)).to.equal(183);
    expect(unitsTakenBack(units, [167], 333)).to.equal(366);
    expect(unitsTakenBack(units, [167, 333], 1500)).to.equal(2200 - 183 - 366);
    expect(unitsTakenBack(units, [], 2000)).to.equal(2200);
  });

  it('takes back exactly every unit once the price is refunded, whatever the split and the order of the refunds', () => {
    fc.assert(
      fc.property(fullSplit, ({ order: units, refunds }) => {
        const forward = refunds.map((amount, index) => unitsTakenBack(units, refunds.slice(0, index), amount));
        const reversed = [...refunds].reverse();
        const backward = reversed.map((amount, index) => unitsTakenBack(units, reversed.slice(0, index), amount));
        const total = units.units + units.bonusUnits;
        expect(forward.reduce((sum, taken) => sum + taken, 0)).to.equal(total);
        expect(backward.reduce((sum, taken) => sum + taken, 0)).to.equal(total);
        for (const taken of [...forward, ...backward]) expect(taken).to.be.at.least(0);
      }),
      { numRuns: 500 },
    );
  });

  it('never takes back more than the refund is worth before the price is complete', () => {
    fc.assert(
      fc.property(fullSplit, ({ order: units, refunds }) => {
        for (const [index, amount] of refunds.slice(0, -1).entries()) {
          expect(unitsTakenBack(units, refunds.slice(0, index), amount) * units.priceCents).to.be.at.most((units.units + units.bonusUnits) * amount);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("under 'refuse', refuses a take-back larger than the balance, saying what is missing; under 'allow_negative', never", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (balance, units) => {
        expect(() => checkUnitsAvailable('allow_negative', balance, units)).not.to.throw();
        if (balance >= units) expect(() => checkUnitsAvailable('refuse', balance, units)).not.to.throw();
        else expect(refusal(() => checkUnitsAvailable('refuse', balance, units))).to.include({ code: 'units_spent', missingUnits: units - balance });
      }),
    );
  });
});
