import express, { Router, type CookieOptions, type Request, type Response } from 'express';
import type { ProviderFailure } from '../../domain/identity/identity.js';
import { sealedBox } from '../../domain/shared/sealed-box.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Locale } from '../../domain/shared/locale.js';
import { loginSource } from '../../domain/people/login-throttle.js';
import type { Translate } from '../../i18n/index.js';
import type { RedirectIdentityProvider } from '../../identity/provider.js';
import type { ExternalSignIn } from '../../services/identity/external-sign-in.js';
import type { ConfiguredProvider, IdentityRegistry } from '../../services/identity/registry.js';
import { purgeExpiredSignInKeys } from '../../services/identity/records.js';
import { recordProviderMfa } from '../../services/identity/provider-mfa.js';
import { provesMfa } from '../../domain/identity/provider-mfa.js';
import { mayEnrolSecondFactor } from '../../domain/second-factors/policy.js';
import type { Database } from '../../db/database.js';
import type { Logger } from 'pino';
import { HttpError } from '../http-error.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import type { BeginSession } from '../sign-in/begin-session.js';
import { REFUSED_MESSAGES, type ShowLoginPage } from './auth.js';
import { safeReturnPath } from './preferences.js';

/** A sign-in must come back from the provider within this time. */
const PENDING_MINUTES = 10;
/**
 * Each step one address (an IPv6 /64 counting as one) may take in a minute, per instance: starting
 * a sign-in (a SAML request id written), coming back (a ticket claimed, the provider asked), and
 * posting a SAML answer (an XML signature checked, the costliest).
 */
const STEPS_PER_MINUTE = 30;

/** Limits one step per address (loginSource, as login throttling counts addresses). */
export const perAddressLimit = (clock: Clock, step: string) =>
  perPersonLimit({ limit: STEPS_PER_MINUTE, windowMs: 60_000, clock, keyOf: (request) => `${step}:${loginSource(request.ip ?? 'unknown')}` });

/** What the browser carries between leaving for the provider and coming back, sealed. */
interface PendingSignIn {
  providerId: string;
  pending: Record<string, string>;
  returnTo: string;
  remember: boolean;
}

export interface SignInRoutesOptions {
  db: Database;
  identity: IdentityRegistry;
  signIn: ExternalSignIn;
  beginSession: BeginSession;
  clock: Clock;
  logger: Logger;
  secret: string;
  publicUrl: string;
  cookie: { name: string; options: CookieOptions };
  showLoginPage: ShowLoginPage;
}

const FAILURE_MESSAGES: Record<ProviderFailure['reason'], { status: number; key: string }> = {
  refused: { status: 401, key: 'signIn.refused' },
  unavailable: { status: 503, key: 'signIn.unavailable' },
  cancelled: { status: 200, key: 'signIn.cancelled' },
};

/**
 * Sign-in through an institution's provider (OIDC, SAML, CAS): `/auth/<id>` sends the browser there
 * with a sealed cookie holding what the answer must match (state, nonce, PKCE verifier, SAML request
 * id) and where to go after; `/auth/<id>/callback` checks the answer against it, makes or finds the
 * account, and opens the session. Every failure shows the login page with a message in the person's
 * language and creates nothing; the details go to the log.
 */
export function signInRoutes({ db, identity, signIn, beginSession, clock, logger, secret, publicUrl, cookie, showLoginPage }: SignInRoutesOptions): Router {
  const box = sealedBox(secret, 'pending-sign-in');
  const startLimit = perAddressLimit(clock, 'start');
  const callbackLimit = perAddressLimit(clock, 'callback');

  const redirectProvider = (request: Request): ConfiguredProvider<RedirectIdentityProvider> => {
    const provider = identity.byId(String(request.params.id));
    if (!provider || provider.gateway.kind === 'ldap') throw new HttpError(404, 'notFound');
    return provider as ConfiguredProvider<RedirectIdentityProvider>;
  };

  const failed = (response: Response, provider: ConfiguredProvider, failure: ProviderFailure) => {
    const { status, key } = FAILURE_MESSAGES[failure.reason];
    logger.warn({ provider: provider.config.id, reason: failure.reason, detail: failure.detail }, 'sign-in through a provider failed');
    return showLogin(response, status, key, provider);
  };

  const showLogin = (response: Response, status: number, key: string, provider: ConfiguredProvider) => {
    const t = response.locals.t as Translate;
    response.clearCookie(cookie.name, cookie.options);
    const message = t(key, { provider: provider.label(response.locals.locale as Locale) });
    return showLoginPage(response, status, status === 200 ? { notice: message } : { error: message });
  };

  // Used tickets and assertion ids, and unanswered request ids, once their time is up: at most once a
  // minute per instance, at a start or a return, so the table holds a few minutes of sign-ins.
  // Failing it fails no sign-in.
  let purgeDueAt = 0;
  const purgeKeysNowAndThen = async () => {
    const now = clock.now();
    if (now.getTime() < purgeDueAt) return;
    purgeDueAt = now.getTime() + 60_000;
    await purgeExpiredSignInKeys(db.knex, now).catch((error: unknown) => logger.warn({ err: error }, 'removing expired sign-in keys failed'));
  };

  const router = Router();

  router.get('/auth/:id', startLimit, async (request, response) => {
    const provider = redirectProvider(request);
    await purgeKeysNowAndThen();
    let started: Awaited<ReturnType<RedirectIdentityProvider['start']>>;
    try {
      started = await provider.gateway.start();
    } catch (error) {
      // A provider whose discovery or metadata cannot be read: the person learns it is unavailable.
      return failed(response, provider, { ok: false, reason: 'unavailable', detail: (error as Error).message });
    }
    const pending: PendingSignIn = {
      providerId: provider.config.id,
      pending: { ...started.pending },
      returnTo: safeReturnPath(request.query.returnTo),
      remember: request.query.remember === '1',
    };
    response.cookie(cookie.name, box.seal(pending, clock.now().getTime() + PENDING_MINUTES * 60_000), { ...cookie.options, maxAge: PENDING_MINUTES * 60_000 });
    response.redirect(303, started.location);
  });

  router.get('/auth/:id/callback', callbackLimit, async (request, response) => {
    const provider = redirectProvider(request);
    await purgeKeysNowAndThen();
    const sealed = (request.cookies as Record<string, unknown> | undefined)?.[cookie.name];
    const opened = box.open(sealed, clock.now().getTime());
    const pending = opened.ok ? (opened.value as PendingSignIn) : null;
    if (!pending || pending.providerId !== provider.config.id) {
      // Not started in this browser (login CSRF), started for another provider, or too long ago.
      logger.warn({ provider: provider.config.id }, 'sign-in answer without a matching sign-in in progress');
      return showLogin(response, 400, 'signIn.expired', provider);
    }
    response.clearCookie(cookie.name, cookie.options);
    const answer = await provider.gateway.finish({ url: new URL(request.originalUrl, publicUrl), pending: pending.pending });
    if (!answer.ok) return failed(response, provider, answer);
    const result = await signIn(provider.config, answer);
    if (result.outcome !== 'success') {
      logger.warn({ provider: provider.config.id, outcome: result.outcome, problem: 'problem' in result ? result.problem : undefined }, 'sign-in through a provider refused by the portal');
      return showLogin(response, 403, result.outcome === 'disabled' ? 'login.disabled' : REFUSED_MESSAGES[result.problem], provider);
    }
    // The provider's own MFA, when it says so and its configuration trusts it, stands for the portal's second step.
    const providerMfa = provesMfa(provider.config, answer.authnContext);
    const started = await beginSession(request, {
      user: result.user,
      method: provider.config.id,
      remember: pending.remember,
      idToken: answer.logout?.idToken,
      returnTo: pending.returnTo,
      secondFactorChecked: providerMfa,
    });
    if (providerMfa && answer.authnContext && mayEnrolSecondFactor(result.user.role)) {
      await recordProviderMfa(db, result.user, provider.config.id, answer.authnContext, clock.now());
    }
    response.redirect(303, started.location);
  });

  router.get('/auth/:id/metadata', (request, response) => {
    const provider = redirectProvider(request);
    if (!provider.gateway.metadata) throw new HttpError(404, 'notFound');
    response.setHeader('Cache-Control', 'public, max-age=3600');
    response.type('application/samlmetadata+xml').send(provider.gateway.metadata());
  });

  return router;
}

/** SAML responses are larger than the portal's small forms (signed XML, base64: about 30 KB with many groups), and no larger: each is parsed whole. */
const samlForm = express.urlencoded({ extended: false, limit: '160kb', parameterLimit: 10 });

/**
 * The SAML IdP's answer: a cross-site POST that carries neither our cookies nor a CSRF token (its
 * signature is what proves it), so it is mounted before the CSRF check. It opens no session: checked,
 * it sends the browser on to the callback, whose top-level GET brings the pending sign-in cookie.
 */
export function providerPostRoutes({ identity, logger, showLoginPage, clock }: Pick<SignInRoutesOptions, 'identity' | 'logger' | 'showLoginPage' | 'clock'>): Router {
  const router = Router();
  router.post('/auth/:id/acs', perAddressLimit(clock, 'acs'), samlForm, async (request, response) => {
    const provider = identity.byId(String(request.params.id));
    if (!provider || provider.gateway.kind !== 'saml' || !provider.gateway.acceptPost) throw new HttpError(404, 'notFound');
    const answer = await provider.gateway.acceptPost((request.body ?? {}) as Record<string, unknown>);
    if ('location' in answer) return response.redirect(303, answer.location);
    logger.warn({ provider: provider.config.id, reason: answer.reason, detail: answer.detail }, 'sign-in through a provider failed');
    const { status, key } = FAILURE_MESSAGES[answer.reason];
    const message = (response.locals.t as Translate)(key, { provider: provider.label(response.locals.locale as Locale) });
    return showLoginPage(response, status, status === 200 ? { notice: message } : { error: message });
  });
  return router;
}

export const isProviderPostPath = (path: string) => /^\/auth\/[^/]+\/acs$/.test(path);
