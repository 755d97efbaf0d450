import { expect } from 'chai';
import fc from 'fast-check';
import { assertMove, canMove, nextStatuses, ORDER_STATUSES, OrderStatusError, WAYS_BACK, type OrderStatus } from '../../src/domain/order-status.js';

describe('order statuses', () => {
  it('follows the happy path created → awaiting payment → approved → capture pending → paid', () => {
    const path: OrderStatus[] = ['created', 'awaiting_payment', 'approved', 'capture_pending', 'paid', 'partially_refunded', 'refunded'];
    path.slice(1).forEach((status, index) => expect(canMove(path[index] as OrderStatus, status), `${path[index]} → ${status}`).to.equal(true));
  });

  it('goes back only where PayPal refused the capture for the buyer: from approved to awaiting payment, with its reason', () => {
    expect(WAYS_BACK.map(({ from, to }) => `${from} → ${to}`)).to.deep.equal(['approved → awaiting_payment']);
    expect(WAYS_BACK[0]?.reason).to.match(/refused the capture/);
    expect(canMove('approved', 'awaiting_payment')).to.equal(true);
    expect(canMove('capture_pending', 'approved')).to.equal(false);
  });

  it('otherwise only moves forward: no walk through the graph ever comes back to a status it left', () => {
    const status = fc.constantFrom(...ORDER_STATUSES);
    const isWayBack = (from: OrderStatus, to: OrderStatus) => WAYS_BACK.some((way) => way.from === from && way.to === to);
    fc.assert(
      fc.property(status, fc.array(fc.nat(), { maxLength: 20 }), (start, choices) => {
        const left = new Set<OrderStatus>();
        let current = start;
        for (const choice of choices) {
          const options = nextStatuses(current).filter((next) => next !== current && !isWayBack(current, next));
          if (options.length === 0) break;
          left.add(current);
          current = options[choice % options.length] as OrderStatus;
          expect(left.has(current), `came back to ${current}`).to.equal(false);
        }
      }),
    );
  });

  it('never leaves a final status except to honour money PayPal took, and never un-pays an order except by refund or reversal', () => {
    for (const final of ['refunded', 'reversed', 'failed'] as const) expect(nextStatuses(final)).to.deep.equal([]);
    for (const closed of ['cancelled', 'expired'] as const) expect(nextStatuses(closed)).to.deep.equal(['paid']);
    expect(nextStatuses('paid')).to.have.members(['partially_refunded', 'refunded', 'reversed']);
    expect(() => assertMove('paid', 'failed')).to.throw(OrderStatusError, 'an order cannot go from paid to failed');
    expect(() => assertMove('capture_pending', 'cancelled')).to.throw(OrderStatusError);
  });
});
