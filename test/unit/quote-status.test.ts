import { expect } from 'chai';
import fc from 'fast-check';
import { assertQuoteMove, canMoveQuote, nextQuoteStatuses, PAID_STATUSES, QUOTE_STATUSES, QuoteStatusError, type QuoteStatus } from '../../src/domain/quotes/quote-status.js';

/** Every status some walk of one move or more reaches from `start`. */
const reachableFrom = (start: QuoteStatus): Set<QuoteStatus> => {
  const reached = new Set<QuoteStatus>();
  const queue = [...nextQuoteStatuses(start)];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (reached.has(next)) continue;
    reached.add(next);
    queue.push(...nextQuoteStatuses(next));
  }
  return reached;
};

describe('quote statuses', () => {
  it('follows draft → sent → paid → partially refunded → refunded, and lets a draft or a sent quote be cancelled, a sent one expire', () => {
    const path: QuoteStatus[] = ['draft', 'sent', 'paid', 'partially_refunded', 'refunded'];
    path.slice(1).forEach((status, index) => expect(canMoveQuote(path[index]!, status), `${path[index]} → ${status}`).to.equal(true));
    expect(canMoveQuote('paid', 'refunded')).to.equal(true);
    for (const from of ['draft', 'sent'] as const) expect(canMoveQuote(from, 'cancelled'), from).to.equal(true);
    expect(canMoveQuote('sent', 'expired')).to.equal(true);
    expect(canMoveQuote('draft', 'expired')).to.equal(false);
    expect(canMoveQuote('draft', 'paid')).to.equal(false);
  });

  it('never goes back: no walk through the graph comes back to a status it left', () => {
    fc.assert(
      fc.property(fc.constantFrom(...QUOTE_STATUSES), fc.array(fc.nat(), { maxLength: 20 }), (start, choices) => {
        const left = new Set<QuoteStatus>();
        let current = start;
        for (const choice of choices) {
          const options = nextQuoteStatuses(current).filter((next) => next !== current);
          if (options.length === 0) break;
          left.add(current);
          current = options[choice % options.length]!;
          expect(left.has(current), `came back to ${current}`).to.equal(false);
        }
      }),
    );
  });

  it('over every walk, a paid or refunded quote never becomes a draft, a sent quote or unpaid again; the only cycle is a partial refund following another', () => {
    for (const status of QUOTE_STATUSES) {
      const reached = reachableFrom(status);
      if (PAID_STATUSES.includes(status)) expect([...reached].filter((later) => !PAID_STATUSES.includes(later)), `after ${status}`).to.deep.equal([]);
      const cycle = [...reached].filter((other) => reachableFrom(other).has(status));
      expect(cycle, `cycle through ${status}`).to.deep.equal(status === 'partially_refunded' ? ['partially_refunded'] : []);
    }
  });

  it('ends at refunded; a cancelled or expired quote may only become paid (a customer charged at PayPal as it closed); any other move is refused with its reason', () => {
    expect(nextQuoteStatuses('refunded')).to.deep.equal([]);
    for (const closed of ['cancelled', 'expired'] as const) expect(nextQuoteStatuses(closed)).to.deep.equal(['paid']);
    expect(() => assertQuoteMove('paid', 'cancelled')).to.throw(QuoteStatusError, 'a quote cannot go from paid to cancelled');
    expect(() => assertQuoteMove('cancelled', 'draft')).to.throw(QuoteStatusError);
    expect(() => assertQuoteMove('draft', 'cancelled')).not.to.throw();
  });
});
