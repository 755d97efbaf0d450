import type { Request, Response, Router } from 'express';
import { certificateExpiry, EXPIRY_WARNING_DAYS } from '../../../domain/identity/certificate-expiry.js';
import { providerEndpoint, providerUrls } from '../../../domain/identity/provider-urls.js';
import type { Locale } from '../../../domain/shared/locale.js';
import type { Translate } from '../../../i18n/index.js';
import type { ProviderHealthChecks } from '../../../services/identity/provider-health.js';
import type { ConfiguredProvider } from '../../../services/identity/registry.js';
import { notFound } from '../../http-error.js';
import { perPersonLimit } from '../../middleware/per-person-limit.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';

const PAGE_PATH = '/admin/sign-in';
/** Each test reaches a provider over the network: a few a minute per admin is plenty, and keeps a stuck button from hammering it. */
const TESTS_PER_MINUTE = 5;

/**
 * The sign-in status page: each configured provider, what to give its administrators, and its health
 * at the last test. The test buttons answer with the page itself rather than a redirect, so that the
 * result shows even when the next request would reach another instance (results live in each process).
 */
export function registerSignInRoutes(router: Router, { identity, config, clock }: AdminDependencies, health: ProviderHealthChecks): void {
  const testLimit = perPersonLimit({ limit: TESTS_PER_MINUTE, windowMs: 60_000, clock });

  function present(provider: ConfiguredProvider, locale: Locale, now: Date) {
    const last = health.last(provider.config.id);
    return {
      id: provider.config.id,
      kind: provider.config.kind,
      label: provider.label(locale),
      demo: provider.demo,
      endpoint: providerEndpoint(provider.config),
      urls: providerUrls(provider.config, config.server.publicUrl),
      health: last && {
        reachable: last.reachable,
        detail: last.detail,
        checkedAt: new Date(last.checkedAt),
        certificates: (last.certificates ?? []).map((certificate) => ({
          subject: certificate.subject,
          notAfter: certificate.notAfter,
          expiresAt: Number.isNaN(Date.parse(certificate.notAfter)) ? null : new Date(certificate.notAfter),
          expiry: certificateExpiry(certificate.notAfter, now),
        })),
      },
    };
  }

  async function showPage(request: Request, response: Response, tested: 'all' | string | null = null) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const now = clock.now();
    await renderPage(response, 'admin/sign-in/index', {
      title: t('admin.signIn.title'),
      adminSection: 'signIn',
      localPasswords: config.identity.localPasswords,
      providers: identity.all.map((provider) => present(provider, locale, now)),
      warningDays: EXPIRY_WARNING_DAYS,
      tested: tested === 'all' ? t('admin.signIn.testedAll') : tested === null ? null : t('admin.signIn.tested', { label: identity.byId(tested)?.label(locale) }),
    });
  }

  router.get(PAGE_PATH, (request, response) => showPage(request, response));

  router.post(`${PAGE_PATH}/test`, testLimit, async (request, response) => {
    await health.checkAll();
    await showPage(request, response, 'all');
  });

  router.post(`${PAGE_PATH}/:id/test`, testLimit, async (request, response) => {
    const provider = identity.byId(String(request.params.id));
    if (!provider) throw notFound();
    await health.check(provider);
    await showPage(request, response, provider.config.id);
  });
}
