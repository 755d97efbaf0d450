import { expect } from 'chai';
import fc from 'fast-check';
import { assertMove, canMove, CREDITED_STATUSES, nextStatuses, ORDER_STATUSES, OrderStatusError, WAYS_BACK, type OrderStatus } from '../../src/domain/checkout/order-status.js';

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

  /** Every status some walk (of one move or more, ways back included) reaches from `start`. */
  const reachableFrom = (start: OrderStatus): Set<OrderStatus> => {
    const reached = new Set<OrderStatus>();
    const queue = [...nextStatuses(start)];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (reached.has(next)) continue;
      reached.add(next);
      queue.push(...nextStatuses(next));
    }
    return reached;
  };

  it('with its way back, over every walk: a cycle stays within awaiting payment and approved (or is a partial refund following another), and a credited order stays credited', () => {
    const unpaidCycle = new Set<OrderStatus>(['awaiting_payment', 'approved']);
    for (const status of ORDER_STATUSES) {
      const reached = reachableFrom(status);
      // The statuses on a cycle through `status`: reached from it, and reaching it.
      const cycle = [...reached].filter((other) => reachableFrom(other).has(status));
      if (status === 'partially_refunded') expect(cycle, status).to.deep.equal(['partially_refunded']);
      else if (cycle.length > 0) expect(cycle.filter((other) => !unpaidCycle.has(other)), `cycle through ${status}`).to.deep.equal([]);
      if (CREDITED_STATUSES.includes(status)) expect([...reached].filter((later) => !CREDITED_STATUSES.includes(later)), `after ${status}`).to.deep.equal([]);
    }
  });

  it('never leaves a final status except to honour money PayPal took, and never un-pays an order except by refund or reversal', () => {
    for (const final of ['refunded', 'reversed', 'failed'] as const) expect(nextStatuses(final)).to.deep.equal([]);
    for (const closed of ['cancelled', 'expired'] as const) expect(nextStatuses(closed)).to.deep.equal(['paid']);
    expect(nextStatuses('paid')).to.have.members(['partially_refunded', 'refunded', 'reversed']);
    expect(() => assertMove('paid', 'failed')).to.throw(OrderStatusError, 'an order cannot go from paid to failed');
    expect(() => assertMove('capture_pending', 'cancelled')).to.throw(OrderStatusError);
  });
});
