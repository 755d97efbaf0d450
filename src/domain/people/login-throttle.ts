import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';

export interface ThrottleState {
  failures: number;
  windowStartedAt: number;
  lockedUntil: number | null;
}

interface ThrottlePolicy {
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

/**
 * One source of attempts: an IPv4 address, or an IPv6 /64. A /64 is one household's or one
 * machine's network, whose privacy addresses change every day; counting each of its 2^64 addresses
 * apart would give whoever holds one as many fresh counters as they like.
 */
export function loginSource(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIPv6(address)) return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
  return ip;
}

/** The eight groups of a valid IPv6 address, without leading zeros ("::" expanded, an IPv4 tail as two groups). */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.map((group) => Number.parseInt(group, 16).toString(16));
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * An account's throttle rows: its own, the wait of unfamiliar sources, and the prefix of its rows at
 * each source (the pair's count, and its next try while it is slowed). Usernames and sources are
 * hashed: keys have a fixed length whatever the form or a proxy header carried, so an odd request is
 * counted like any other.
 */
export function accountThrottleKeys(username: string) {
  const account = sha256(username);
  return { account: `account:${account}`, unfamiliar: `unfamiliar:${account}`, pairPrefix: `pair:${account}:` };
}

/** The throttle rows one attempt reads and counts in. */
export function throttleKeys(username: string, source: string) {
  const { account, unfamiliar, pairPrefix } = accountThrottleKeys(username);
  const pair = `${pairPrefix}${sha256(source)}`;
  return { account, unfamiliar, pair, pairNext: `${pair}:next`, address: `ip:${sha256(source)}` };
}

/** The counter of a browser's device token (device-token.ts): its id, hashed like the other keys. */
export const deviceThrottleKey = (deviceId: string) => `device:${sha256(deviceId)}`;

/** A source as the list of familiar sources keeps it. */
export const sourceDigest = sha256;

/** A source where the person signed in within this many days is familiar; at most this many are kept per person. */
export const FAMILIAR_SOURCE_DAYS = 90;
export const FAMILIAR_SOURCES_KEPT = 10;

export interface LoginPolicy {
  /** Every username from one source: the source is locked (slowed for the accounts it is familiar to). */
  perAddress: ThrottlePolicy;
  /** One username from one source: that pair is locked (slowed at a familiar source). A device token's failures count alike. */
  perAccountAndAddress: ThrottlePolicy;
  /**
   * One username from every source: past `maxFailures`, the account is slowed for `lockMs` —
   * sources it was not signed in from lately get one attempt per `slowedIntervalMs` between them.
   * The same interval paces a slowed pair at a familiar source.
   */
  perAccount: ThrottlePolicy & { slowedIntervalMs: number };
  /** Admin and IT: the same count, but reaching it locks the account everywhere. */
  privilegedAccount: ThrottlePolicy;
}

export interface AttemptStates {
  account?: ThrottleState;
  /** While the account is slowed: locked for `slowedIntervalMs` by each attempt from an unfamiliar source. */
  unfamiliar?: ThrottleState;
  pair?: ThrottleState;
  /** While the source or the pair is locked, at a source familiar to the account: locked for `slowedIntervalMs` by each try of the pair. */
  pairNext?: ThrottleState;
  address?: ThrottleState;
  /** Attempts carrying a device token for the username: that browser's failures. */
  device?: ThrottleState;
}

export type AttemptChanges = { [K in keyof AttemptStates]?: ThrottleState | null };

/** Why an attempt is answered 429: its source or pair (or, at a familiar source, the slowed pair's wait), the slowed account, or a privileged lock (said only at a familiar source). */
export type Refusal = 'address' | 'slowed' | 'locked';

/** What a checked attempt was counted in: the right password takes back what it counted. */
interface Counted {
  /** Against the account: the right password resets the account's count. */
  accountCounted: boolean;
  /** Against the pair and the source: false for the try of a slowed pair, which its wait paces instead. */
  sourceCounted: boolean;
  /** Against the device only: an attempt from a trusted device. */
  deviceCounted: boolean;
}

export type AttemptDecision =
  | { verdict: 'refuse'; refusal: Refusal; retryAfterMs: number }
  | (Counted & {
      verdict: 'check';
      /** Written before the password is checked, so that parallel attempts cannot outrun the count. */
      changes: AttemptChanges;
      /** A wrong password is answered as `slowed` (429), not 401. */
      slowed: boolean;
      /** The right password is answered as a wrong one is: a locked admin or IT account, tried from an unfamiliar source. */
      locked: boolean;
    });

/**
 * Decides an attempt before its password is checked. Unknown usernames are ordinary accounts with no
 * familiar source. Seen from a source the account was not signed in from lately — where an attacker
 * stands — admin and IT accounts behave exactly as ordinary ones while their counts agree (the
 * defaults): slowed, one attempt per interval, and that attempt answered 429 whatever the password.
 * At a familiar source (a campus NAT shared with others), a locked source or pair does not shut the
 * account's owner out: the pair is slowed instead, one try per interval, which others trying other
 * usernames there cannot take. An ordinary account tried with a device token for it (`device`: the
 * browser signed in to it before) is judged by that device's count alone, counted like a pair: no
 * wait at a busy address or for a slowed account, however others take its tries. Its failures reaching
 * the maximum make the device untrusted until their lock ends: it is then judged like any other
 * browser, so a stolen token gives a bounded number of guesses. Admin and IT accounts keep their lock:
 * a device token changes nothing for them (PCI DSS 8.3.4).
 */
export function decideAttempt(
  states: AttemptStates,
  attempt: { privileged: boolean; familiar: boolean; device: boolean },
  now: number,
  policy: LoginPolicy,
): AttemptDecision {
  if (attempt.device && !attempt.privileged && remainingLockMs(states.device, now) === 0) {
    const device = recordFailure(states.device, now, policy.perAccountAndAddress);
    return { verdict: 'check', changes: { device }, accountCounted: false, sourceCounted: false, deviceCounted: true, slowed: false, locked: false };
  }
  const sourceWait = Math.max(remainingLockMs(states.address, now), remainingLockMs(states.pair, now));
  if (sourceWait > 0 && !attempt.familiar) return { verdict: 'refuse', refusal: 'address', retryAfterMs: sourceWait };
  const accountWait = remainingLockMs(states.account, now);
  if (accountWait > 0 && attempt.familiar && attempt.privileged) return { verdict: 'refuse', refusal: 'locked', retryAfterMs: accountWait };
  const slot = (): ThrottleState => ({ failures: 0, windowStartedAt: now, lockedUntil: now + policy.perAccount.slowedIntervalMs });
  const pairSlowed = sourceWait > 0;
  if (pairSlowed) {
    const nextWait = remainingLockMs(states.pairNext, now);
    if (nextWait > 0) return { verdict: 'refuse', refusal: 'address', retryAfterMs: nextWait };
  }
  const perSource: AttemptChanges = pairSlowed
    ? { pairNext: slot() }
    : { pair: recordFailure(states.pair, now, policy.perAccountAndAddress), address: recordFailure(states.address, now, policy.perAddress) };
  const sourceCounted = !pairSlowed;
  if (accountWait === 0) {
    const account = recordFailure(states.account, now, attempt.privileged ? policy.privilegedAccount : policy.perAccount);
    // The failure that slows the account starts the wait of unfamiliar sources.
    const changes = { ...perSource, account, ...(account.lockedUntil === null ? {} : { unfamiliar: slot() }) };
    return { verdict: 'check', changes, accountCounted: true, sourceCounted, deviceCounted: false, slowed: false, locked: false };
  }
  if (attempt.familiar) return { verdict: 'check', changes: perSource, accountCounted: false, sourceCounted, deviceCounted: false, slowed: false, locked: false };
  const slotWait = remainingLockMs(states.unfamiliar, now);
  if (slotWait > 0) return { verdict: 'refuse', refusal: 'slowed', retryAfterMs: slotWait };
  return { verdict: 'check', changes: { ...perSource, unfamiliar: slot() }, accountCounted: false, sourceCounted, deviceCounted: false, slowed: true, locked: attempt.privileged };
}

/**
 * The right password was given: the pair's failures are forgotten, the source's attempt forgiven,
 * the account's count reset and the device's failures forgotten, each if this attempt was counted in
 * it. A slowed or locked account, pair or source stays so until its time is up (or `login unlock`):
 * the attempts that caused it were someone else's — at a shared address, perhaps of someone guessing
 * this very account.
 */
export function forgiveRightPassword(states: AttemptStates, counted: Counted, policy: LoginPolicy): AttemptChanges {
  return {
    ...(counted.sourceCounted ? { pair: null, address: forgiveAttempt(states.address, policy.perAddress) ?? null } : {}),
    ...(counted.accountCounted ? { account: null, unfamiliar: null } : {}),
    ...(counted.deviceCounted ? { device: null } : {}),
  };
}
