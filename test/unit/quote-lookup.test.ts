import { expect } from 'chai';
import fc from 'fast-check';
import { longestLookupWindowMs, lookupKeys, lookupWaitMs, QUOTE_LOOKUP_LIMITS, quoteLookupWaitMs, type LookupLimit } from '../../src/domain/quotes/quote-lookup.js';

const HOUR = 3_600_000;
const hourly: LookupLimit[] = [{ maxFailures: 5, windowMs: HOUR }];

describe('quote lookup limits', () => {
  it('lets failures in until a window holds the maximum, then waits until the oldest of them leaves it', () => {
    const failures = [0, 1000, 2000, 3000];
    expect(lookupWaitMs(failures, 4000, hourly)).to.equal(0);
    const full = [...failures, 4000];
    expect(lookupWaitMs(full, 5000, hourly)).to.equal(HOUR - 5000);
    expect(lookupWaitMs(full, HOUR - 1, hourly)).to.equal(1);
    expect(lookupWaitMs(full, HOUR, hourly)).to.equal(0);
    // The order they are read in does not matter.
    expect(lookupWaitMs([...full].reverse(), 5000, hourly)).to.equal(HOUR - 5000);
  });

  it('waits for the longest of several windows: five an hour, and ten a day', () => {
    const perNumber = QUOTE_LOOKUP_LIMITS.perNumber;
    const twoHours = [0, 1, 2, 3, 4, HOUR + 10, HOUR + 11, HOUR + 12, HOUR + 13, HOUR + 14];
    expect(lookupWaitMs(twoHours.slice(0, 5), 10, perNumber)).to.equal(HOUR - 10);
    expect(lookupWaitMs(twoHours.slice(0, 9), HOUR + 20, perNumber)).to.equal(0);
    expect(lookupWaitMs(twoHours, HOUR + 20, perNumber)).to.equal(24 * HOUR - (HOUR + 20));
    expect(longestLookupWindowMs(QUOTE_LOOKUP_LIMITS)).to.equal(24 * HOUR);
  });

  it('makes a look-up wait for its number or for its address, whichever is longer', () => {
    const numberFull = [0, 1, 2, 3, 4];
    expect(quoteLookupWaitMs({ number: numberFull, address: [] }, 10)).to.equal(HOUR - 10);
    const addressFull = Array.from({ length: 20 }, (_, index) => 100 + index);
    expect(quoteLookupWaitMs({ number: [], address: addressFull }, 200)).to.equal(HOUR - 100);
    expect(quoteLookupWaitMs({ number: numberFull, address: addressFull }, 200)).to.equal(HOUR - 100);
    expect(quoteLookupWaitMs({ number: numberFull.slice(1), address: addressFull.slice(1) }, 200)).to.equal(0);
  });

  it('never lets more than the maximum failures into any window, and lets the next one in as soon as it says', () => {
    const limits = fc.array(fc.record({ maxFailures: fc.integer({ min: 1, max: 6 }), windowMs: fc.integer({ min: 1, max: 500 }) }), { minLength: 1, maxLength: 3 });
    const gaps = fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 80 });
    fc.assert(
      fc.property(limits, gaps, (policy, steps) => {
        const counted: number[] = [];
        let now = 0;
        for (const step of steps) {
          now += step;
          const wait = lookupWaitMs(counted, now, policy);
          if (wait > 0) {
            // Refused now, let in once the wait is over (nothing else counted meanwhile), not a moment before.
            expect(lookupWaitMs(counted, now + wait, policy)).to.equal(0);
            expect(lookupWaitMs(counted, now + wait - 1, policy)).to.be.greaterThan(0);
          } else {
            counted.push(now);
          }
        }
        for (const { maxFailures, windowMs } of policy) {
          for (const start of counted) expect(counted.filter((at) => at >= start && at < start + windowMs).length).to.be.at.most(maxFailures);
        }
      }),
    );
  });

  it('counts a number and an address under keys of one length that hold neither in clear', () => {
    const keys = lookupKeys('D-2026-000123', '203.0.113.7');
    expect(keys.number).to.match(/^number:[0-9a-f]{64}$/);
    expect(keys.address).to.match(/^address:[0-9a-f]{64}$/);
    expect(JSON.stringify(keys)).not.to.include('000123').and.not.to.include('203.0.113');
    expect(lookupKeys('D-2026-000124', '203.0.113.7').number).not.to.equal(keys.number);
    expect(lookupKeys('D-2026-000123', '203.0.113.8').address).not.to.equal(keys.address);
  });
});
