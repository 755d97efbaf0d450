import { expect } from 'chai';
import fc from 'fast-check';
import { forgiveAttempt, recordFailure, remainingLockMs, type ThrottleState } from '../../src/domain/login-throttle.js';

const policy = { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 };

describe('login throttling rules', () => {
  it('locks a key once it reaches the maximum failures within the window', () => {
    let state: ThrottleState | undefined;
    for (const at of [0, 1000, 2000]) {
      expect(remainingLockMs(state, at)).to.equal(0);
      state = recordFailure(state, at, policy);
    }
    expect(state).to.deep.equal({ failures: 3, windowStartedAt: 0, lockedUntil: 302_000 });
    expect(remainingLockMs(state, 2000)).to.equal(300_000);
    expect(remainingLockMs(state, 302_000)).to.equal(0);
  });

  it('starts counting again when the window has passed', () => {
    const state = recordFailure(recordFailure(undefined, 0, policy), 1000, policy);
    expect(recordFailure(state, 61_000, policy)).to.deep.equal({ failures: 1, windowStartedAt: 61_000, lockedUntil: null });
  });

  it('starts counting again after a lock has ended', () => {
    const locked: ThrottleState = { failures: 3, windowStartedAt: 0, lockedUntil: 10_000 };
    expect(recordFailure(locked, 10_000, policy)).to.deep.equal({ failures: 1, windowStartedAt: 10_000, lockedUntil: null });
  });

  it('forgives an attempt that had the right password, lifting the lock it alone caused', () => {
    const reachedLimit = recordFailure(recordFailure(recordFailure(undefined, 0, policy), 1, policy), 2, policy);
    expect(forgiveAttempt(reachedLimit, policy)).to.deep.equal({ failures: 2, windowStartedAt: 0, lockedUntil: null });
    const overLimit: ThrottleState = { failures: 5, windowStartedAt: 0, lockedUntil: 9_000 };
    expect(forgiveAttempt(overLimit, policy)).to.deep.equal({ failures: 4, windowStartedAt: 0, lockedUntil: 9_000 });
    expect(forgiveAttempt({ failures: 0, windowStartedAt: 0, lockedUntil: null }, policy)?.failures).to.equal(0);
    expect(forgiveAttempt(undefined, policy)).to.equal(undefined);
  });

  it('never locks for longer than the lock time, and only after the maximum failures', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 30 }), (gaps) => {
        let now = 0;
        let state: ThrottleState | undefined;
        for (const gap of gaps) {
          now += gap;
          state = recordFailure(state, now, policy);
          expect(remainingLockMs(state, now)).to.be.at.most(policy.lockMs);
          if (state.lockedUntil !== null) expect(state.failures).to.be.at.least(policy.maxFailures);
        }
      }),
    );
  });
});
