export interface ThrottleState {
  failures: number;
  windowStartedAt: number;
  lockedUntil: number | null;
}

export interface ThrottlePolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

/** Milliseconds until the key may try again; 0 when it is not locked. */
export function remainingLockMs(state: ThrottleState | undefined, now: number): number {
  return state?.lockedUntil != null && state.lockedUntil > now ? state.lockedUntil - now : 0;
}

/**
 * Counts one more failure: failures are counted in a fixed window; reaching the maximum locks the key
 * for `lockMs`. After a window or a lock ends, counting starts again from one.
 */
export function recordFailure(state: ThrottleState | undefined, now: number, policy: ThrottlePolicy): ThrottleState {
  const lockEnded = state?.lockedUntil != null && state.lockedUntil <= now;
  const windowEnded = state !== undefined && now - state.windowStartedAt >= policy.windowMs;
  const fresh = state === undefined || lockEnded || windowEnded;
  const failures = fresh ? 1 : state.failures + 1;
  const windowStartedAt = fresh ? now : state.windowStartedAt;
  return { failures, windowStartedAt, lockedUntil: failures >= policy.maxFailures ? now + policy.lockMs : null };
}

/**
 * Takes back one counted attempt that turned out to be the right password. Attempts are counted
 * before the password is checked (so parallel attempts cannot outrun the count); a lock that only
 * this in-flight count caused is lifted with it.
 */
export function forgiveAttempt(state: ThrottleState | undefined, policy: ThrottlePolicy): ThrottleState | undefined {
  if (!state) return undefined;
  const failures = Math.max(0, state.failures - 1);
  return { ...state, failures, lockedUntil: failures >= policy.maxFailures ? state.lockedUntil : null };
}
