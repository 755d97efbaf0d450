import { expect } from 'chai';
import fc from 'fast-check';
import {
  accountThrottleKeys,
  decideAttempt,
  deviceThrottleKey,
  forgiveAttempt,
  forgiveRightPassword,
  loginSource,
  recordFailure,
  remainingLockMs,
  throttleKeys,
  type AttemptChanges,
  type AttemptDecision,
  type AttemptStates,
  type LoginPolicy,
  type ThrottleState,
} from '../../src/domain/people/login-throttle.js';

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

describe('login attempt rules', () => {
  const MINUTE = 60_000;
  const account = { maxFailures: 3, windowMs: 15 * MINUTE, lockMs: 30 * MINUTE };
  const rules: LoginPolicy = {
    perAddress: { ...account, maxFailures: 6 },
    perAccountAndAddress: account,
    perAccount: { ...account, slowedIntervalMs: 3 * MINUTE },
    privilegedAccount: account,
  };

  const OWNER = 'owner';

  /**
   * Plays attempts against the rules as the authenticator does, on rows by key: changes before the
   * check, forgiveness after a right password. Attempts are the owner's account's unless they name
   * another username (an ordinary account); `device` is the id of a device token for that username.
   */
  function play(privileged: boolean) {
    const rows = new Map<string, ThrottleState>();
    return (now: number, source: string, { familiar, right, username = OWNER, device }: { familiar: boolean; right: boolean; username?: string; device?: string }) => {
      const keys: Record<string, string> = { ...throttleKeys(username, source), ...(device ? { device: deviceThrottleKey(device) } : {}) };
      const states = (): AttemptStates => Object.fromEntries(Object.entries(keys).map(([name, key]) => [name, rows.get(key)]));
      const apply = (changes: AttemptChanges) => {
        for (const [name, state] of Object.entries(changes)) {
          const key = keys[name] as string;
          if (state) rows.set(key, state);
          else rows.delete(key);
        }
      };
      const decision = decideAttempt(states(), { privileged: privileged && username === OWNER, familiar, device: device !== undefined }, now, rules);
      if (decision.verdict === 'check') {
        apply(decision.changes);
        if (right) apply(forgiveRightPassword(states(), decision, rules));
      }
      return decision;
    };
  }

  const gap = fc.integer({ min: 0, max: 5 * MINUTE });
  /** Gaps that keep trying as soon as a try is due, and sometimes wait for a window, a lock or a try to end. */
  const eagerGap = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: MINUTE }), weight: 9 },
    { arbitrary: fc.constantFrom(rules.perAccount.slowedIntervalMs, account.windowMs, account.lockMs), weight: 1 },
  );
  /** Attempts with wrong passwords from sources the account does not know, at increasing times. */
  const attackerAttempts = fc.array(fc.record({ gap, source: fc.integer({ min: 1, max: 30 }) }), { maxLength: 60, size: 'max' });

  /**
   * Wrong passwords at a campus NAT the owner signs in from: for other usernames (familiar there or
   * not), for the owner's from elsewhere, and, if `owner.atCampus`, for the owner's there.
   */
  const campusAttempts = (owner: { atCampus: boolean }, between = gap) =>
    fc.array(
      fc.oneof(
        { arbitrary: fc.record({ gap: between, source: fc.constant('campus'), username: fc.constantFrom('student-1', 'student-2', 'student-3', 'nobody'), familiar: fc.boolean() }), weight: 2 },
        { arbitrary: fc.record({ gap: between, source: fc.integer({ min: 1, max: 30 }).map((host) => `attacker-${host}`), username: fc.constant(OWNER), familiar: fc.constant(false) }), weight: 1 },
        ...(owner.atCampus ? [{ arbitrary: fc.record({ gap: between, source: fc.constant('campus'), username: fc.constant(OWNER), familiar: fc.constant(true) }), weight: 4 }] : []),
      ),
      { maxLength: 150, size: 'max' },
    );

  type CampusAttempt = { gap: number; source: string; username: string; familiar: boolean };

  /** Plays `attempts` (wrong passwords) at increasing times, telling `decided` each decision; returns the time of the last one. */
  function playAll(attempt: ReturnType<typeof play>, attempts: CampusAttempt[], decided?: (now: number, tried: CampusAttempt, decision: AttemptDecision) => void) {
    let now = 0;
    for (const tried of attempts) {
      const decision = attempt((now += tried.gap), tried.source, { familiar: tried.familiar, right: false, username: tried.username });
      decided?.(now, tried, decision);
    }
    return now;
  }

  it('lets the owner of an ordinary account in at a familiar source at once, whatever is tried there for other usernames and from anywhere else for theirs', () => {
    fc.assert(
      fc.property(campusAttempts({ atCampus: false }), fc.integer({ min: 0, max: 60 * MINUTE }), (attempts, wait) => {
        const attempt = play(false);
        const now = playAll(attempt, attempts);
        expect(attempt(now + wait, 'campus', { familiar: true, right: true })).to.include({ verdict: 'check', slowed: false, locked: false });
      }),
    );
  });

  it('makes the owner of an ordinary account wait at most one interval at a familiar source, whatever anyone tries there', () => {
    fc.assert(
      fc.property(campusAttempts({ atCampus: true }), fc.integer({ min: 0, max: 60 * MINUTE }), (attempts, wait) => {
        const attempt = play(false);
        const now = playAll(attempt, attempts) + wait;
        const first = attempt(now, 'campus', { familiar: true, right: true });
        const owner = first.verdict === 'refuse' ? attempt(now + first.retryAfterMs, 'campus', { familiar: true, right: true }) : first;
        if (first.verdict === 'refuse') expect(first.retryAfterMs).to.be.at.most(rules.perAccount.slowedIntervalMs);
        expect(owner).to.include({ verdict: 'check', slowed: false, locked: false });
      }),
    );
  });

  it('keeps the guesses on one account at a familiar source within budget: fewer than 3 × the failures allowed, plus one per interval, in any lock time', () => {
    const budget = 3 * rules.perAccountAndAddress.maxFailures - 2 + rules.perAccountAndAddress.lockMs / rules.perAccount.slowedIntervalMs;
    fc.assert(
      fc.property(campusAttempts({ atCampus: true }, eagerGap), (attempts) => {
        const checks: number[] = [];
        let lastPacedCheck = -Infinity;
        playAll(play(false), attempts, (now, { source, username }, decision) => {
          if (decision.verdict !== 'check' || source !== 'campus' || username !== OWNER) return;
          checks.push(now);
          if (decision.sourceCounted) return;
          expect(now - lastPacedCheck).to.be.at.least(rules.perAccount.slowedIntervalMs);
          lastPacedCheck = now;
        });
        for (const start of checks) expect(checks.filter((at) => at >= start && at < start + rules.perAccountAndAddress.lockMs)).to.have.length.at.most(budget);
      }),
    );
  });

  it("lets the owner of an ordinary account in at once from their device, at a familiar source or not, whoever takes every try there and elsewhere", () => {
    fc.assert(
      fc.property(campusAttempts({ atCampus: true }, eagerGap), fc.array(fc.boolean(), { maxLength: 150 }), fc.boolean(), (attempts, ownerTurns, familiar) => {
        const attempt = play(false);
        playAll(attempt, attempts, (now) => {
          if (!ownerTurns.shift()) return;
          expect(attempt(now, 'campus', { familiar, right: true, device: 'owner-laptop' })).to.include({ verdict: 'check', slowed: false, locked: false });
        });
      }),
    );
  });

  it('gives a device token at most 2 × the failures allowed, minus one, in any lock time; past them it is judged like any browser', () => {
    const budget = 2 * rules.perAccountAndAddress.maxFailures - 1;
    fc.assert(
      fc.property(fc.array(fc.record({ gap: eagerGap, source: fc.integer({ min: 1, max: 30 }) }), { maxLength: 60, size: 'max' }), (attempts) => {
        const [withDevice, without] = [play(false), play(false)];
        const deviceGuesses: number[] = [];
        let now = 0;
        for (const { gap, source } of attempts) {
          const decision = withDevice((now += gap), `attacker-${source}`, { familiar: false, right: false, device: 'stolen' });
          if (decision.verdict === 'check' && decision.deviceCounted) deviceGuesses.push(now);
          // Untrusted, the device is counted where any other browser is.
          else expect(decision).to.deep.equal(without(now, `attacker-${source}`, { familiar: false, right: false }));
        }
        for (const start of deviceGuesses) expect(deviceGuesses.filter((at) => at >= start && at < start + rules.perAccountAndAddress.lockMs)).to.have.length.at.most(budget);
      }),
    );
  });

  it('changes nothing for admin and IT accounts with a device token', () => {
    fc.assert(
      fc.property(campusAttempts({ atCampus: true }, eagerGap), (attempts) => {
        const [withDevice, without] = [play(true), play(true)];
        let now = 0;
        for (const { gap, source, username, familiar } of attempts) {
          now += gap;
          const device = username === OWNER ? { device: 'admin-desk' } : {};
          expect(withDevice(now, source, { familiar, right: false, username, ...device })).to.deep.equal(without(now, source, { familiar, right: false, username }));
        }
      }),
    );
  });

  it('lets unfamiliar sources try a slowed account at most once per interval', () => {
    fc.assert(
      fc.property(attackerAttempts, (attempts) => {
        const attempt = play(false);
        let now = 0;
        let lastSlowedCheck = -Infinity;
        for (const { gap, source } of attempts) {
          const decision = attempt((now += gap), `attacker-${source}`, { familiar: false, right: false });
          if (decision.verdict === 'check' && decision.slowed) {
            expect(now - lastSlowedCheck).to.be.at.least(rules.perAccount.slowedIntervalMs);
            lastSlowedCheck = now;
          }
        }
      }),
    );
  });

  it('answers unfamiliar sources alike for admin and IT accounts and ordinary ones when the counts agree', () => {
    fc.assert(
      fc.property(attackerAttempts, (attempts) => {
        const [ordinary, privileged] = [play(false), play(true)];
        let now = 0;
        for (const { gap, source } of attempts) {
          now += gap;
          const seen = (decision: AttemptDecision) =>
            decision.verdict === 'refuse' ? decision : { verdict: decision.verdict, slowed: decision.slowed };
          const options = { familiar: false, right: false };
          expect(seen(privileged(now, `attacker-${source}`, options))).to.deep.equal(seen(ordinary(now, `attacker-${source}`, options)));
        }
      }),
    );
  });

  it('never lets the right password into a locked admin or IT account, from anywhere', () => {
    fc.assert(
      fc.property(attackerAttempts, fc.integer({ min: 0, max: 60 * MINUTE }), fc.boolean(), (attempts, wait, familiar) => {
        const attempt = play(true);
        let now = 0;
        let lockedUntil = 0;
        for (const { gap, source } of attempts) {
          const decision = attempt((now += gap), `attacker-${source}`, { familiar: false, right: false });
          const lock = decision.verdict === 'check' ? decision.changes.account?.lockedUntil : null;
          if (lock) lockedUntil = lock;
        }
        const owner = attempt(now + wait, 'home', { familiar, right: true });
        if (now + wait < lockedUntil) expect(owner.verdict === 'refuse' || owner.locked).to.equal(true);
      }),
    );
  });

  it('locks the admin at a familiar source with the time left, and says so', () => {
    const attempt = play(true);
    for (let source = 1; source <= 3; source += 1) attempt(source, `attacker-${source}`, { familiar: false, right: false });
    expect(attempt(10 * MINUTE, 'desk', { familiar: true, right: true })).to.deep.equal({ verdict: 'refuse', refusal: 'locked', retryAfterMs: 20 * MINUTE + 3 });
  });
});

describe('login sources', () => {
  it('counts an IPv4 address, an IPv4-mapped IPv6 address as its IPv4 one, and an IPv6 address by its /64', () => {
    expect(loginSource('192.0.2.7')).to.equal('192.0.2.7');
    expect(loginSource('::ffff:192.0.2.7')).to.equal('192.0.2.7');
    expect(loginSource('2001:db8:1:2::10')).to.equal('2001:db8:1:2::/64');
    expect(loginSource('2001:0db8:0001:0002:abcd:ef01:2345:6789')).to.equal('2001:db8:1:2::/64');
    expect(loginSource('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(loginSource('::1')).to.equal('0:0:0:0::/64');
    expect(loginSource('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(loginSource('64:ff9b::192.0.2.7')).to.equal('64:ff9b:0:0::/64');
    expect(loginSource('unknown')).to.equal('unknown');
  });

  it('gives every username and source keys of a fixed length, whatever they hold', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 2000 }), (username, source) => {
        for (const key of Object.values(throttleKeys(username, source))) expect(key.length).to.be.at.most(140);
        expect(throttleKeys(username, source).pair.startsWith(accountThrottleKeys(username).pairPrefix)).to.equal(true);
      }),
    );
  });
});
