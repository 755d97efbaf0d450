import type { Role } from '../people/users.js';

/** The roles that may enrol second factors, and that the policy makes check one: they change money or every page. */
export const SECOND_FACTOR_ROLES: readonly Role[] = ['admin', 'it'];

export const mayEnrolSecondFactor = (role: Role) => SECOND_FACTOR_ROLES.includes(role);

/** A factor's name, as its owner wrote it (a passkey's device, an app's phone). */
export const FACTOR_NAME_MAX_LENGTH = 60;

export interface SecondFactorPolicy {
  /** SECOND_FACTOR_REQUIRED: admin and IT check a second factor before any admin or IT page. */
  required: boolean;
  /** How recent the last check must be for a money action (step-up). */
  stepUpMs: number;
}

/**
 * What an admin or IT page needs of the session: nothing (policy off, or a factor checked in it),
 * the person to check their factor, or to enrol one first.
 */
export function pageAccess(
  policy: SecondFactorPolicy,
  person: { role: Role; factorCount: number },
  session: { secondFactorAt?: number },
): 'allowed' | 'check' | 'enrol' {
  if (!policy.required || !mayEnrolSecondFactor(person.role) || session.secondFactorAt !== undefined) return 'allowed';
  return person.factorCount > 0 ? 'check' : 'enrol';
}

/**
 * Whether a money action must ask for the factor again: the person has one (or the policy says they
 * must) and the last check in this session is older than the step-up window (or never was).
 */
export function stepUpDue(policy: SecondFactorPolicy, person: { role: Role; factorCount: number }, session: { secondFactorAt?: number }, now: number): boolean {
  const concerned = person.factorCount > 0 || (policy.required && mayEnrolSecondFactor(person.role));
  if (!concerned) return false;
  return session.secondFactorAt === undefined || now - session.secondFactorAt > policy.stepUpMs;
}
