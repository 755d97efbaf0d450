import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { Translate } from '../../i18n/index.js';
import { FACTOR_NAME_MAX_LENGTH, stepUpDue, type SecondFactorPolicy } from '../../domain/second-factors/policy.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Passkeys, WaitingChallenge } from '../../services/second-factors/passkeys.js';
import type { CheckResult, SecondFactors } from '../../services/second-factors/second-factors.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { SECOND_FACTOR_PATH, SECURITY_PATH } from '../middleware/second-factor.js';
import { renderPage } from '../render.js';
import type { SecondFactorCheck } from '../sign-in/second-factor-check.js';
import { safeReturnPath } from './preferences.js';

/** The one page that shows a first passkey's recovery codes. */
export const PASSKEY_RECOVERY_CODES_PATH = `${SECURITY_PATH}/passkeys/recovery-codes`;

/** The browser half of @simplewebauthn/server, served from its package (no copy in the repository to keep in step). */
export const WEBAUTHN_BROWSER_PATH = '/assets/vendor/simplewebauthn-browser.js';

/** The recovery codes wait this long for their page (the script goes there at once). */
const RECOVERY_CODES_WAIT_MS = 10 * 60_000;

/** Enrolments a person may try in a window, as for TOTP apps (security.ts): each may write and audit. */
const ENROLMENTS = { limit: 20, windowMs: 15 * 60_000 };

/** The @simplewebauthn/browser bundle: its package exports only its modules, so it is found beside them. */
const browserBundle = () => {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  return path.join(entry, '..', '..', 'dist', 'bundle', 'index.umd.min.js');
};

export interface PasskeyRoutesOptions {
  passkeys: Passkeys;
  factors: SecondFactors;
  check: SecondFactorCheck;
  clock: Clock;
  policy: SecondFactorPolicy;
}

const bodyOf = (request: Request) => (request.body ?? {}) as Record<string, unknown>;

/** The browser's answer, sent as JSON text in the `credential` field of a urlencoded form (where the CSRF token is read). */
function credentialOf(request: Request): unknown {
  const sent = bodyOf(request).credential;
  if (typeof sent !== 'string') return null;
  try {
    return JSON.parse(sent) as unknown;
  } catch {
    return null;
  }
}

const saveSession = (request: Request) => new Promise<void>((resolve, reject) => request.session.save((error) => (error ? reject(error) : resolve())));

/**
 * The session's challenge, removed from it and the removal stored before the answer is checked: an
 * answer sent again, even while the first is being checked, finds no challenge.
 */
async function takeChallenge(request: Request): Promise<WaitingChallenge | undefined> {
  const waiting = request.session.webauthnChallenge;
  if (!waiting) return undefined;
  delete request.session.webauthnChallenge;
  await saveSession(request);
  return waiting;
}

/**
 * Passkeys, through themes/default/assets/passkeys.js: options given (with a challenge kept in the
 * session), then the browser's answer checked. Answers are JSON for the script: `{ options }`,
 * `{ location }` where to go next, or `{ error }` (localised) with a 4xx status.
 */
export function passkeyRoutes({ passkeys, factors, check, clock, policy }: PasskeyRoutesOptions): Router {
  const router = Router();
  const bundle = browserBundle();
  const limitEnrolments = perPersonLimit({ ...ENROLMENTS, clock });
  const fail = (response: Response, status: number, key: string, values: Record<string, unknown> = {}) => {
    const t = response.locals.t as Translate;
    response.status(status).json({ error: t(key, values) });
  };
  /** Nobody signed in and no sign-in waiting (or its ten minutes passed): the password is asked again. */
  const signInExpired = (response: Response) =>
    response.status(401).json({ error: (response.locals.t as Translate)('passkeys.errors.signInExpired'), location: '/login?notice=session-expired' });
  const challengeFor = (request: Request, challenge: string, purpose: WaitingChallenge['purpose']) => {
    request.session.webauthnChallenge = { challenge, purpose, startedAt: clock.now().getTime() };
  };

  router.get(WEBAUTHN_BROWSER_PATH, (_request, response) => {
    // Cached as the theme's other assets are (app.ts), not "no-store" as pages are: it holds nothing personal.
    response.removeHeader('Cache-Control');
    response.sendFile(bundle, { maxAge: '1h' });
  });

  // --- The check: the sign-in's second step, or a step-up ---

  router.post(`${SECOND_FACTOR_PATH}/passkey/options`, async (request, response) => {
    const checked = await check.personOf(request);
    if (!checked) return signInExpired(response);
    const options = await passkeys.authenticationOptions(checked.user);
    if (options.allowCredentials?.length === 0) return fail(response, 400, 'passkeys.errors.none');
    challengeFor(request, options.challenge, 'authenticate');
    response.json({ options });
  });

  router.post(`${SECOND_FACTOR_PATH}/passkey`, async (request, response) => {
    const checked = await check.personOf(request);
    if (!checked) return signInExpired(response);
    const challenge = passkeys.usable(await takeChallenge(request), 'authenticate');
    const result: CheckResult = await passkeys.check(checked.user, credentialOf(request), challenge, check.sourceOf(request, checked));
    if (result.outcome === 'accepted') return response.json({ location: await check.accepted(request, checked, safeReturnPath(bodyOf(request).returnTo)) });
    if (result.outcome === 'throttled') {
      response.setHeader('Retry-After', String(result.retryAfterSeconds));
      return fail(response, 429, 'passkeys.errors.throttled', { count: Math.ceil(result.retryAfterSeconds / 60) });
    }
    fail(response, 401, challenge === null ? 'passkeys.errors.expired' : 'passkeys.errors.wrong');
  });

  // --- Adding one, on Account security ---

  router.post(`${SECURITY_PATH}/passkeys/options`, requireUser, async (request, response) => {
    const person = request.user!;
    if (!factors.mayEnrol(person)) return fail(response, 403, 'passkeys.errors.forbidden');
    // The answer is step-up guarded (middleware/second-factor.ts); asked here first, so that the
    // authenticator does not make a credential the portal would then refuse to store.
    const factorCount = await factors.factorCount(person.id);
    if (factorCount > 0 && stepUpDue(policy, { role: person.role, factorCount }, request.session, clock.now().getTime())) {
      return response.json({ location: `${SECOND_FACTOR_PATH}?reason=step-up&returnTo=${encodeURIComponent(SECURITY_PATH)}` });
    }
    const problem = await passkeys.nameProblem(person, bodyOf(request).name);
    if (problem) return fail(response, problem === 'name_taken' ? 409 : 400, `passkeys.errors.${problem}`, { max: FACTOR_NAME_MAX_LENGTH });
    const options = await passkeys.registrationOptions(person);
    challengeFor(request, options.challenge, 'register');
    response.json({ options });
  });

  router.post(`${SECURITY_PATH}/passkeys`, requireUser, limitEnrolments, async (request, response) => {
    const person = request.user!;
    if (!factors.mayEnrol(person)) return fail(response, 403, 'passkeys.errors.forbidden');
    const challenge = passkeys.usable(await takeChallenge(request), 'register');
    const result = await passkeys.register(person, { credential: credentialOf(request), name: bodyOf(request).name, challenge });
    if (result.outcome !== 'enrolled') {
      const reason = result.outcome === 'invalid_name' || result.outcome === 'name_taken' ? result.outcome : challenge === null ? 'expired' : 'refused';
      return fail(response, reason === 'name_taken' ? 409 : 400, `passkeys.errors.${reason}`, { max: FACTOR_NAME_MAX_LENGTH });
    }
    // Adding a factor checks it (as for TOTP apps, security.ts).
    request.session.secondFactorAt = clock.now().getTime();
    if (!result.recoveryCodes) return response.json({ location: SECURITY_PATH });
    // Sealed, as the TOTP secrets are: the session row must not hold a way in until the page is opened.
    request.session.newRecoveryCodes = { sealedCodes: factors.sealText(result.recoveryCodes.join(' ')), issuedAt: clock.now().getTime() };
    response.json({ location: PASSKEY_RECOVERY_CODES_PATH });
  });

  /** A first passkey's recovery codes, shown once (pages are never stored by the browser: Cache-Control no-store, app.ts). */
  router.get(PASSKEY_RECOVERY_CODES_PATH, requireUser, async (request, response) => {
    const waiting = request.session.newRecoveryCodes;
    delete request.session.newRecoveryCodes;
    const codes = waiting && clock.now().getTime() - waiting.issuedAt < RECOVERY_CODES_WAIT_MS ? factors.openText(waiting.sealedCodes) : null;
    if (codes === null) return response.redirect(303, SECURITY_PATH);
    const t = response.locals.t as Translate;
    await renderPage(response, 'pages/recovery-codes', { title: t('secondFactor.recovery.title'), codes: codes.split(' '), first: true, path: SECURITY_PATH });
  });

  return router;
}
