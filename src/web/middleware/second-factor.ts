import type { Request, RequestHandler } from 'express';
import { parseAmount } from '../../domain/pricing/pricing.js';
import { pageAccess, stepUpDue, type SecondFactorPolicy } from '../../domain/second-factors/policy.js';
import type { Clock } from '../../domain/time/clock.js';

/** The sign-in's second step, and the step-up's check (web/routes/second-factor.ts). */
export const SECOND_FACTOR_PATH = '/login/second-factor';

/** Where a person goes to add a factor (web/routes/security.ts). */
export const SECURITY_PATH = '/account/security';

/** An action that asks for the second factor again, unless checked within the step-up window. */
interface StepUpAction {
  path: RegExp;
  /** Only when the form asks for this much (adjustments above the threshold); always otherwise. */
  when?: (body: Record<string, unknown>, thresholdCents: number) => boolean;
  /** Adding a factor: asked of people who already have one (a stolen session must not add its own), never of those adding their first. */
  addsFactor?: boolean;
}

const aboveThreshold = (body: Record<string, unknown>, thresholdCents: number) => {
  try {
    return parseAmount(body.amount) > thresholdCents;
  } catch {
    // Not an amount: the route refuses the form and nothing moves.
    return false;
  }
};

/**
 * The money and power actions: refunds (and their settings, retries and transfers), adjustments above
 * the threshold, decisions on credits sent to the print system, people imported (roles and opening
 * balances), prices published, API keys created, people's roles, passwords, sign-in links, desk
 * permission, access, closure and credit limit changed, quotes refunded at the desk, a look published
 * or restored by IT, codes made, factors reset; and a person's own factors removed
 * or recovery codes replaced (a stolen session must not strip the account of its factors), or a
 * passkey or app added beside existing factors (nor give it one of its own).
 */
export const STEP_UP_ACTIONS: readonly StepUpAction[] = [
  { path: /^\/admin\/orders\/[^/]+\/refund$/ },
  { path: /^\/admin\/credit-refunds\/[^/]+\/(approve|retry|parts\/.+)$/ },
  { path: /^\/admin\/(credit-refunds|orders)\/settings$/ },
  { path: /^\/admin\/transfers\/[^/]+\/decision$/ },
  { path: /^\/admin\/people-import\/[^/]+$/ },
  { path: /^\/admin\/people\/[^/]+\/adjustments$/, when: aboveThreshold },
  { path: /^\/admin\/prices\/drafts\/[^/]+\/publish$/ },
  { path: /^\/admin\/api-keys$/ },
  { path: /^\/admin\/people\/[^/]+\/(role|password|identities|quote-desk|disable|enable|close|anonymise|negative-balance\/allow|second-factors\/reset)$/ },
  { path: /^\/desk\/quotes\/[^/]+\/(payments\/[^/]+\/refund|units-refund)$/ },
  { path: /^\/it\/branding\/versions\/[^/]+\/[^/]+$/ },
  { path: /^\/admin\/vouchers$/ },
  { path: /^\/account\/security\/(factors\/[^/]+\/remove|recovery-codes)$/ },
  { path: /^\/account\/security\/(passkeys|totp)$/, addsFactor: true },
];

/** The page a form was sent from, when it is the portal's (Referrer-Policy: same-origin), to come back to after the check. */
export function formPage(request: Request, fallback: string): string {
  const referer = request.get('referer');
  if (!referer) return fallback;
  try {
    const url = new URL(referer);
    return url.host === request.get('host') ? `${url.pathname}${url.search}` : fallback;
  } catch {
    return fallback;
  }
}

const checkLocation = (returnTo: string, reason: 'required' | 'step-up') => `${SECOND_FACTOR_PATH}?reason=${reason}&returnTo=${encodeURIComponent(returnTo)}`;

export interface SecondFactorGuardOptions {
  policy: SecondFactorPolicy;
  clock: Clock;
  factorCount: (userId: number) => Promise<number>;
  stepUpAdjustmentCents: number;
}

/** What the policy's gate stands before: the admin and IT pages, the quote desk, and documents (an admin reads everyone's). */
export const GATED_PATHS = ['/admin', '/it', '/desk', '/documents'];

/**
 * The policy's gate before GATED_PATHS: an admin or IT person whose session has no checked factor is
 * sent to check one, or to enrol one first. Nothing there is reached with a password alone.
 */
export function secondFactorGate({ policy, factorCount }: Pick<SecondFactorGuardOptions, 'policy' | 'factorCount'>): RequestHandler {
  return async (request, response, next) => {
    const user = request.user;
    if (!user) return next();
    const person = { role: user.role, factorCount: 0 };
    if (pageAccess(policy, person, request.session) === 'allowed') return next();
    person.factorCount = await factorCount(user.id);
    const access = pageAccess(policy, person, request.session);
    if (access === 'enrol') return response.redirect(303, `${SECURITY_PATH}?notice=required`);
    const returnTo = request.method === 'GET' ? request.originalUrl : formPage(request, '/admin');
    response.redirect(303, checkLocation(returnTo, 'required'));
  };
}

/** Step-up: a listed action whose session checked no factor within the window goes to the check first, then back to its form. */
export function stepUpGuard({ policy, clock, factorCount, stepUpAdjustmentCents }: SecondFactorGuardOptions): RequestHandler {
  return async (request, response, next) => {
    const user = request.user;
    if (!user || request.method !== 'POST') return next();
    const body = (request.body ?? {}) as Record<string, unknown>;
    // As Express routes it: any case, a trailing slash or not.
    const path = request.path.toLowerCase().replace(/\/+$/, '');
    const action = STEP_UP_ACTIONS.find((listed) => listed.path.test(path) && (!listed.when || listed.when(body, stepUpAdjustmentCents)));
    if (!action) return next();
    const person = { role: user.role, factorCount: await factorCount(user.id) };
    if (action.addsFactor && person.factorCount === 0) return next();
    if (!stepUpDue(policy, person, request.session, clock.now().getTime())) return next();
    // Nothing to check yet (policy on, no factor): enrolling is the way on.
    if (person.factorCount === 0) return response.redirect(303, `${SECURITY_PATH}?notice=required`);
    response.redirect(303, checkLocation(formPage(request, '/account'), 'step-up'));
  };
}
