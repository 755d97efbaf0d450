import { Router, type Request, type Response } from 'express';
import type { Database } from '../../db/database.js';
import type { DeviceDescription } from '../../domain/people/device-description.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, UserError, validatePassword, type User } from '../../domain/people/users.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { listIdentityLinks } from '../../services/identity/records.js';
import type { IdentityRegistry } from '../../services/identity/registry.js';
import { createLoginSessions } from '../../services/people/login-sessions.js';
import { findUserById } from '../../services/people/records.js';
import { mayEnrolSecondFactor } from '../../domain/second-factors/policy.js';
import { isVoucherBuyer } from '../../services/vouchers/records.js';
import type { UserManagement } from '../../services/people/user-management.js';
import { forbidden, HttpError, notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { renderPage } from '../render.js';

export const MY_ACCOUNT_PATH = '/account/settings';

/** The notices a redirect may ask the page to show, by name (never text from the URL). */
const NOTICES = ['profileSaved', 'profileUnchanged', 'passwordChanged', 'sessionEnded', 'sessionAlreadyEnded', 'othersEnded', 'noOthers'] as const;
type Notice = (typeof NOTICES)[number];

/** Password changes a person may try in a window: each costs two argon2 computations, and a guesser at a browser left signed in gets no more. */
const PASSWORD_CHANGES = { limit: 5, windowMs: 15 * 60_000 };

/** Other changes (profile, ending sessions) a person may make in a window: each is a write and an audit entry. */
const ACCOUNT_CHANGES = { limit: 30, windowMs: 15 * 60_000 };

/** The forms as sent, when one is shown again with what is wrong with it. */
interface SentForms {
  profile?: { values: { displayName: string; email: string }; errors: Partial<Record<'displayName' | 'email', string>> };
  password?: { errors: Partial<Record<'current' | 'next' | 'confirmation', string>> };
}

export interface MyAccountRoutesOptions {
  db: Database;
  clock: Clock;
  users: UserManagement;
  identity: IdentityRegistry;
  /** The session timeouts (config.session): a session past one is not listed as open. */
  session: { idleMinutes: number; absoluteHours: number };
  /** `staff`: a `user`'s portal password signs nothing in, so it is not offered for change. */
  localPasswords: 'everyone' | 'staff';
}

/** A form field as text; `maxLength` cuts what is shown back in a re-rendered form, never what is validated. */
const text = (value: unknown, maxLength = Infinity) => (typeof value === 'string' ? value.slice(0, maxLength) : '');
const bodyOf = (request: Request) => (request.body ?? {}) as Record<string, unknown>;
const SESSION_ID = /^[1-9]\d{0,14}$/;

function deviceText({ browser, system }: DeviceDescription, t: Translate): string {
  if (browser && system) return t('myAccount.device.both', { browser, system });
  if (browser) return t('myAccount.device.browserOnly', { browser });
  if (system) return t('myAccount.device.systemOnly', { system });
  return t('myAccount.device.unknown');
}

/**
 * "Mon compte", for every signed-in person: how they signed in, the name and e-mail on their receipts
 * (unless their institution provides them), their language, their password (local accounts), and
 * their open sessions, which they can close.
 */
export function myAccountRoutes({ db, clock, users, identity, session, localPasswords }: MyAccountRoutesOptions): Router {
  const router = Router();
  const loginSessions = createLoginSessions({ db, clock, timeouts: { idleMs: session.idleMinutes * 60_000, absoluteMs: session.absoluteHours * 3_600_000 } });
  const limitPasswordChanges = perPersonLimit({ ...PASSWORD_CHANGES, clock });
  const limitAccountChanges = perPersonLimit({ ...ACCOUNT_CHANGES, clock });

  const methodLabel = (method: string, t: Translate, locale: Locale) => (method === 'password' ? t('myAccount.method.password') : (identity.byId(method)?.label(locale) ?? method));

  /** Whether the person has a portal password, their provider links, and the linked providers that provide their name and e-mail (none: the person edits them). */
  async function accountOf(user: User) {
    const [stored, links, buysCodes] = await Promise.all([findUserById(db.knex, user.id), listIdentityLinks(db.knex, [user.id]), isVoucherBuyer(db.knex, user.id)]);
    const providers = links.map((link) => ({ link, provider: identity.byId(link.providerId) }));
    return {
      hasPassword: stored?.passwordHash != null && (localPasswords === 'everyone' || user.role !== 'user'),
      providers,
      profileOwners: providers.flatMap(({ provider }) => (provider?.config.ownsProfile ? [provider] : [])),
      buysCodes,
    };
  }

  async function showPage(request: Request, response: Response, forms: SentForms = {}, status = 200) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const user = request.user!;
    const [account, sessions] = await Promise.all([accountOf(user), loginSessions.list(user, request.sessionID)]);
    const current = sessions.find((listed) => listed.current);
    const notice = status === 200 && (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`myAccount.notices.${String(request.query.notice)}`) : null;
    await renderPage(response.status(status), 'pages/my-account', {
      title: t('myAccount.title'),
      notice,
      hasErrors: Object.values(forms).some((form) => Object.keys(form.errors).length > 0),
      signInMethod: current ? methodLabel(current.method, t, locale) : null,
      links: account.providers.map(({ link, provider }) => ({ label: provider?.label(locale) ?? link.providerId, since: link.createdAt })),
      profileOwners: account.profileOwners.map((provider) => provider.label(locale)),
      profile: forms.profile ?? { values: { displayName: user.displayName, email: user.email }, errors: {} },
      hasPassword: account.hasPassword,
      buysCodes: account.buysCodes,
      mayEnrolSecondFactor: mayEnrolSecondFactor(user.role),
      passwordErrors: forms.password?.errors ?? {},
      passwordMinLength: PASSWORD_MIN_LENGTH,
      passwordMaxLength: PASSWORD_MAX_LENGTH,
      sessions: sessions.map((listed) => ({ ...listed, deviceText: deviceText(listed.device, t), methodLabel: methodLabel(listed.method, t, locale) })),
      myAccountPath: MY_ACCOUNT_PATH,
    });
  }

  const done = (response: Response, notice: Notice) => response.redirect(303, `${MY_ACCOUNT_PATH}?notice=${notice}`);

  router.get(MY_ACCOUNT_PATH, requireUser, (request, response) => showPage(request, response));

  router.post(`${MY_ACCOUNT_PATH}/profile`, requireUser, limitAccountChanges, async (request, response) => {
    const t = response.locals.t as Translate;
    const user = request.user!;
    // Refused here too, not only hidden: the provider would overwrite the change at the next sign-in anyway.
    if ((await accountOf(user)).profileOwners.length > 0) throw forbidden();
    const body = bodyOf(request);
    try {
      const outcome = await users.updateOwnProfile(user, { displayName: body.displayName, email: body.email });
      done(response, outcome === 'changed' ? 'profileSaved' : 'profileUnchanged');
    } catch (error) {
      if (!(error instanceof UserError) || error.code !== 'invalid_user') throw error;
      const errors = Object.fromEntries(error.fields.filter((field) => field === 'displayName' || field === 'email').map((field) => [field, t(`myAccount.profile.errors.${field}`)]));
      await showPage(request, response, { profile: { values: { displayName: text(body.displayName, 300), email: text(body.email, 300) }, errors } }, 400);
    }
  });

  router.post(`${MY_ACCOUNT_PATH}/password`, requireUser, limitPasswordChanges, async (request, response) => {
    const t = response.locals.t as Translate;
    // The form is only offered to people with a portal password: anyone else has no current one to give.
    if (!(await accountOf(request.user!)).hasPassword) throw forbidden();
    const body = bodyOf(request);
    const [current, next, confirmation] = [text(body.currentPassword), text(body.newPassword), text(body.newPasswordAgain)];
    const errors: NonNullable<SentForms['password']>['errors'] = {};
    const limits = { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH };
    if (current === '') errors.current = t('myAccount.password.errors.current');
    try {
      validatePassword(next);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      errors.next = t('myAccount.password.errors.next', limits);
    }
    if (!errors.next && confirmation !== next) errors.confirmation = t('myAccount.password.errors.confirmation');
    const showErrors = () => showPage(request, response, { password: { errors } }, 400);
    if (Object.keys(errors).length > 0) return showErrors();

    const result = await users.changeOwnPassword(request.user!, { current, next }, request.sessionID);
    if (result.outcome === 'no_password') throw forbidden();
    // The page sends a person whose session ended to the login page.
    if (result.outcome === 'session_ended') return response.redirect(303, MY_ACCOUNT_PATH);
    if (result.outcome === 'wrong_password') {
      errors.current = t('myAccount.password.errors.wrongCurrent');
      return showErrors();
    }
    // Every session opened under the old version has ended; this one takes the new version and goes on.
    request.session.sessionVersion = result.sessionVersion;
    done(response, 'passwordChanged');
  });

  router.post(`${MY_ACCOUNT_PATH}/sessions/end-others`, requireUser, limitAccountChanges, async (request, response) => {
    const ended = await loginSessions.endOthers(request.user!, request.sessionID);
    done(response, ended > 0 ? 'othersEnded' : 'noOthers');
  });

  router.post(`${MY_ACCOUNT_PATH}/sessions/:id/end`, requireUser, limitAccountChanges, async (request, response) => {
    const id = String(request.params.id);
    if (!SESSION_ID.test(id)) throw notFound();
    const outcome = await loginSessions.end(request.user!, Number(id), request.sessionID);
    if (outcome === 'not_found') throw notFound();
    // The page offers no button for it: logging out ends the session in use.
    if (outcome === 'current') throw new HttpError(400, 'badRequest', 'the session in use ends by logging out');
    done(response, outcome === 'ended' ? 'sessionEnded' : 'sessionAlreadyEnded');
  });

  return router;
}
