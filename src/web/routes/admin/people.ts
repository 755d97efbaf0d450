import type { Request, Response, Router } from 'express';
import { findPersonAccount, findUserByUsername, listPersonOrders, searchPeople } from '../../../services/people/records.js';
import { AdjustmentError, createAdjustments, REASON_MAX_LENGTH } from '../../../services/ledger/adjustments.js';
import { newFormNonce } from '../../../domain/shared/form-nonce.js';
import { IdentityLinkError, SUBJECT_MAX_LENGTH } from '../../../domain/identity/identity-link.js';
import type { Locale } from '../../../domain/shared/locale.js';
import { linkIdentity } from '../../../services/identity/identity-links.js';
import { listIdentityLinks, type IdentityLink } from '../../../services/identity/records.js';
import type { IdentityRegistry } from '../../../services/identity/registry.js';
import type { ChangeOutcome } from '../../../services/people/user-management.js';
import { normalizeUsername, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, ROLES, UserError } from '../../../domain/people/users.js';
import type { Translate } from '../../../i18n/index.js';
import { HttpError, notFound } from '../../http-error.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import { operationKey } from '../account.js';
import type { AdminDependencies } from './dependencies.js';
import { registerPeopleImportRoutes } from './people-import.js';
import { registerAccountClosureRoutes } from './account-closure.js';
import { registerSecondFactorResetRoutes, secondFactorCard } from './second-factor-reset.js';

const PEOPLE_PAGE_SIZE = 25;
const MAX_QUERY_LENGTH = 100;
const ORDERS_SHOWN = 20;

/** The notices a redirect may ask the person page to show, by name (never text from the URL). */
const NOTICES = ['credited', 'debited', 'alreadyRecorded', 'disabled', 'enabled', 'negativeAllowed', 'negativeRefused', 'quoteDesk', 'password', 'role', 'unchanged', 'identityLinked', 'closed', 'anonymised', 'secondFactorsReset'] as const;

/** What the forms of the person page were sent with, and what is wrong with them. */
interface PersonForms {
  values?: Partial<Record<'direction' | 'amount' | 'reason' | 'nonce' | 'role' | 'linkProvider' | 'linkSubject', string>>;
  errors?: Partial<Record<'direction' | 'amount' | 'reason' | 'access' | 'password' | 'role' | 'linkProvider' | 'linkSubject' | 'closure' | 'secondFactors', string>>;
}

/** A refused link: which field the message goes under, and 409 when it conflicts with a link already made. */
const LINK_REFUSALS: Record<Exclude<IdentityLinkError['code'], 'user_not_found'>, { field: 'linkProvider' | 'linkSubject'; status: number }> = {
  unknown_provider: { field: 'linkProvider', status: 400 },
  invalid_subject: { field: 'linkSubject', status: 400 },
  subject_taken: { field: 'linkSubject', status: 409 },
  provider_linked: { field: 'linkProvider', status: 409 },
  linked_meanwhile: { field: 'linkSubject', status: 409 },
};

/** Identity links as the pages show them: the provider's name in the reader's language, or its id once it is no longer configured. */
const presentLinks = (links: readonly IdentityLink[], identity: IdentityRegistry, locale: Locale) =>
  links.map((link) => {
    const provider = identity.byId(link.providerId);
    return { ...link, label: provider?.label(locale) ?? link.providerId, configured: provider !== undefined };
  });

/** A form field as text; `maxLength` cuts what is shown back in a re-rendered form, never what is validated. */
const text = (value: unknown, maxLength = Infinity) => (typeof value === 'string' ? value.slice(0, maxLength) : '');
const bodyOf = (request: Request) => (request.body ?? {}) as Record<string, unknown>;
const personPath = (username: string) => `/admin/people/${encodeURIComponent(username)}`;

export function registerPeopleRoutes(router: Router, deps: AdminDependencies): void {
  const { db, clock, ledger, users, identity, config, secondFactors } = deps;
  const adjustments = createAdjustments({ db, clock });

  router.get('/admin/people', async (request, response) => {
    const t = response.locals.t as Translate;
    const { q } = request.query;
    if (q !== undefined && typeof q !== 'string') throw new HttpError(400, 'badRequest', 'one search at a time');
    const query = (q ?? '').trim();
    const tooLong = query.length > MAX_QUERY_LENGTH;
    const requestedPage = parsePage(request.query.page);
    const found = tooLong ? { people: [], total: 0 } : await searchPeople(db.knex, { text: query, limit: PEOPLE_PAGE_SIZE, offset: (requestedPage - 1) * PEOPLE_PAGE_SIZE });
    const links = await listIdentityLinks(db.knex, found.people.map((person) => person.id));
    const locale = response.locals.locale as Locale;
    const pageCount = Math.max(1, Math.ceil(found.total / PEOPLE_PAGE_SIZE));
    await renderPage(response.status(tooLong ? 400 : 200), 'admin/people/list', {
      title: t('admin.people.list.title'),
      adminSection: 'people',
      query: query.slice(0, MAX_QUERY_LENGTH),
      maxQueryLength: MAX_QUERY_LENGTH,
      queryError: tooLong ? t('admin.people.list.searchTooLong', { max: MAX_QUERY_LENGTH }) : null,
      total: found.total,
      people: found.people.map((person) => ({ ...person, links: presentLinks(links.filter((link) => link.userId === person.id), identity, locale) })),
      pager: pageLinks('/admin/people', query ? { q: query } : {}, Math.min(requestedPage, pageCount), pageCount),
    });
  });

  /** The person page, with its forms as sent (`status` 400) or fresh. Unknown people are a 404. */
  async function showPerson(request: Request, response: Response, forms: PersonForms = {}, status = 200) {
    const t = response.locals.t as Translate;
    const found = await findUserByUsername(db.knex, normalizeUsername(String(request.params.username)));
    if (!found) throw notFound();
    const { passwordHash, ...person } = found;
    const [view, account, orders, links, factors] = await Promise.all([
      ledger.accountPage(person.id, parsePage(request.query.page)),
      findPersonAccount(db.knex, person.id),
      listPersonOrders(db.knex, person.id, ORDERS_SHOWN),
      listIdentityLinks(db.knex, [person.id]),
      secondFactorCard(secondFactors, person, request.user!),
    ]);
    const locale = response.locals.locale as Locale;
    const notice = (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`admin.people.notices.${String(request.query.notice)}`) : null;
    await renderPage(response.status(status), 'admin/people/person', {
      // An anonymised account has no name left: its page is titled by its username.
      title: person.displayName || person.username,
      adminSection: 'people',
      person,
      hasPassword: passwordHash !== null,
      // config.identity.localPasswords 'staff': a user's portal password is refused at the login form.
      passwordRefused: person.role === 'user' && config.identity.localPasswords === 'staff',
      links: presentLinks(links, identity, locale),
      linkableProviders: identity.all
        .filter((provider) => !links.some((link) => link.providerId === provider.config.id))
        .map((provider) => ({ id: provider.config.id, label: provider.label(locale), demo: provider.demo })),
      subjectMaxLength: SUBJECT_MAX_LENGTH,
      account,
      rows: view.history.map((row) => ({ ...row, label: t(operationKey(row)) })),
      pager: pageLinks(personPath(person.username), {}, view.page, view.pageCount),
      orders: orders.orders,
      ordersTotal: orders.total,
      secondFactors: factors,
      notice: status === 200 ? notice : null,
      values: { direction: '', amount: '', reason: '', nonce: newFormNonce(), role: person.role, linkProvider: '', linkSubject: '', ...forms.values },
      errors: forms.errors ?? {},
      roles: ROLES,
      reasonMaxLength: REASON_MAX_LENGTH,
      passwordMinLength: PASSWORD_MIN_LENGTH,
    });
  }

  router.get('/admin/people/:username', (request, response) => showPerson(request, response));

  router.post('/admin/people/:username/adjustments', async (request, response) => {
    const t = response.locals.t as Translate;
    const body = bodyOf(request);
    const username = String(request.params.username);
    try {
      const result = await adjustments.adjust(request.user!, username, { direction: body.direction, amount: body.amount, reason: body.reason, nonce: body.nonce });
      const notice = result.replayed ? 'alreadyRecorded' : result.direction === 'credit' ? 'credited' : 'debited';
      return response.redirect(303, `${personPath(username)}?notice=${notice}`);
    } catch (error) {
      if (error instanceof UserError && error.code === 'user_not_found') throw notFound();
      if (!(error instanceof AdjustmentError)) throw error;
      if (error.code === 'invalid_nonce') throw new HttpError(400, 'badRequest', error.message);
      const formatUnits = response.locals.formatUnits as (amount: number) => string;
      const errors = Object.fromEntries(
        Object.entries(error.problems).map(([field, problem]) => [field, t(`admin.people.adjust.errors.${problem}`, { max: REASON_MAX_LENGTH, balance: formatUnits(error.balance ?? 0) })]),
      );
      const values = { direction: text(body.direction, 10), amount: text(body.amount, 20), reason: text(body.reason, REASON_MAX_LENGTH), nonce: text(body.nonce, 64) };
      await showPerson(request, response, { values, errors }, 400);
    }
  });

  /** Runs an access, password or role change; a refusal re-renders the page with the message by `field`. */
  async function changePerson(request: Request, response: Response, field: 'access' | 'password' | 'role', change: () => Promise<ChangeOutcome>, changedNotice: (typeof NOTICES)[number]) {
    const t = response.locals.t as Translate;
    try {
      const outcome = await change();
      response.redirect(303, `${personPath(String(request.params.username))}?notice=${outcome === 'changed' ? changedNotice : 'unchanged'}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (error.code === 'user_not_found') throw notFound();
      const message = t(`admin.people.${field}.errors.${error.code}`, { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH });
      await showPerson(request, response, { values: field === 'role' ? { role: text(bodyOf(request).role, 10) } : {}, errors: { [field]: message } }, 400);
    }
  }

  for (const disabled of [true, false]) {
    router.post(`/admin/people/:username/${disabled ? 'disable' : 'enable'}`, (request, response) =>
      changePerson(request, response, 'access', () => users.setDisabled(String(request.params.username), disabled, request.user!), disabled ? 'disabled' : 'enabled'),
    );
  }

  for (const allowed of [true, false]) {
    router.post(`/admin/people/:username/negative-balance/${allowed ? 'allow' : 'refuse'}`, (request, response) =>
      changePerson(request, response, 'access', () => users.setAllowNegative(String(request.params.username), allowed, request.user!), allowed ? 'negativeAllowed' : 'negativeRefused'),
    );
  }

  // A checkbox: sent as `on` when ticked, absent otherwise.
  router.post('/admin/people/:username/quote-desk', (request, response) =>
    changePerson(request, response, 'access', () => users.setQuoteDesk(String(request.params.username), bodyOf(request).quoteDesk === 'on', request.user!), 'quoteDesk'),
  );

  router.post('/admin/people/:username/password', (request, response) =>
    changePerson(request, response, 'password', () => users.setPassword(String(request.params.username), text(bodyOf(request).password), request.user!), 'password'),
  );

  router.post('/admin/people/:username/role', (request, response) =>
    changePerson(request, response, 'role', () => users.setRole(String(request.params.username), text(bodyOf(request).role), request.user!), 'role'),
  );

  /** Links the person's account to their identifier at a provider, once (no unlinking here: see the page's hint). */
  router.post('/admin/people/:username/identities', async (request, response) => {
    const t = response.locals.t as Translate;
    const body = bodyOf(request);
    const person = await findUserByUsername(db.knex, normalizeUsername(String(request.params.username)));
    if (!person) throw notFound();
    const providerId = text(body.provider);
    try {
      if (!identity.byId(providerId)) throw new IdentityLinkError('unknown_provider', `no provider ${providerId.slice(0, 40)} is configured`);
      await linkIdentity({ db, clock }, { userId: person.id, providerId, subject: body.subject, admin: request.user! });
      response.redirect(303, `${personPath(person.username)}?notice=identityLinked`);
    } catch (error) {
      if (!(error instanceof IdentityLinkError)) throw error;
      if (error.code === 'user_not_found') throw notFound();
      const { field, status } = LINK_REFUSALS[error.code];
      const message = t(`admin.people.identities.errors.${error.code}`, { username: error.linkedTo, max: SUBJECT_MAX_LENGTH });
      await showPerson(request, response, { values: { linkProvider: providerId.slice(0, 40), linkSubject: text(body.subject, SUBJECT_MAX_LENGTH) }, errors: { [field]: message } }, status);
    }
  });

  registerPeopleImportRoutes(router, deps);
  registerAccountClosureRoutes(router, deps, (request, response, problem, status) => showPerson(request, response, { errors: { closure: problem } }, status));
  registerSecondFactorResetRoutes(router, deps, (request, response, problem, status) => showPerson(request, response, { errors: { secondFactors: problem } }, status));
}
