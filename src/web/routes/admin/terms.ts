import type { Request, Response, Router } from 'express';
import { currentTerms, findTermsVersion, listTermsVersions } from '../../../services/pricing/records.js';
import { createTermsPublishing, normalizeTermsBody, termsProblems, TermsError, MAX_TERMS_LENGTH, type TermsBody, type TermsProblem } from '../../../services/pricing/terms.js';
import { SUPPORTED_LOCALES, type Translate } from '../../../i18n/index.js';
import { HttpError, notFound } from '../../http-error.js';
import { renderMarkdown } from '../../markdown.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';

const PAGE_SIZE = 20;
const VERSION = /^(0|[1-9]\d{0,8})$/;

interface EditorState {
  body: TermsBody;
  /** The version the admin started from; 0 before the first. */
  baseVersion: number;
  problems?: TermsProblem[];
  conflict?: string | null;
  notice?: string | null;
  status?: number;
}

export function registerTermsRoutes(router: Router, { db, clock }: AdminDependencies): void {
  const publishing = createTermsPublishing({ db, clock });

  async function showEditor(request: Request, response: Response, state: EditorState) {
    const t = response.locals.t as Translate;
    const page = parsePage(request.query.page);
    const [current, { versions, total }] = await Promise.all([currentTerms(db.knex), listTermsVersions(db.knex, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE })]);
    const errors: Record<string, string> = {};
    for (const problem of state.problems ?? []) errors[problem.locale ?? 'version'] ??= String(t(`admin.terms.errors.${problem.code}`, problem.params ?? {}));
    await renderPage(response.status(state.status ?? 200), 'admin/terms/edit', {
      title: t('admin.terms.title'),
      adminSection: 'terms',
      current: current ?? null,
      body: state.body,
      baseVersion: state.baseVersion,
      errors,
      conflict: state.conflict ?? null,
      notice: state.notice ?? null,
      maxLength: MAX_TERMS_LENGTH,
      termsLocales: SUPPORTED_LOCALES,
      versions,
      pager: pageLinks('/admin/terms', {}, page, Math.max(1, Math.ceil(total / PAGE_SIZE))),
      pagerLabel: t('admin.terms.pagerLabel'),
    });
  }

  router.get('/admin/terms', async (request, response) => {
    const t = response.locals.t as Translate;
    const current = await currentTerms(db.knex);
    const published = typeof request.query.published === 'string' && VERSION.test(request.query.published) ? request.query.published : null;
    await showEditor(request, response, {
      body: current?.body ?? { fr: '', en: '' },
      baseVersion: current?.version ?? 0,
      notice: published ? t('admin.terms.published', { version: published }) : null,
    });
  });

  router.post('/admin/terms', async (request, response) => {
    const t = response.locals.t as Translate;
    const fields = (request.body ?? {}) as Record<string, unknown>;
    const body = normalizeTermsBody({ fr: fields.fr, en: fields.en });
    // The base version is not typed by anyone: a form without it did not come from the editor.
    if (typeof fields.base !== 'string' || !VERSION.test(fields.base)) throw new HttpError(400, 'badRequest', 'terms form without its base version');
    const baseVersion = Number(fields.base);

    if (fields.action === 'edit') return showEditor(request, response, { body, baseVersion });
    if (fields.action === 'publish') {
      try {
        const published = await publishing.publish(request.user!, body, baseVersion);
        return response.redirect(303, `/admin/terms?published=${published.version}`);
      } catch (error) {
        if (!(error instanceof TermsError)) throw error;
        if (error.code === 'invalid_terms') return showEditor(request, response, { body, baseVersion, problems: error.problems, status: 400 });
        const current = await currentTerms(db.knex);
        const version = current?.version ?? 0;
        return showEditor(request, response, { body, baseVersion: version, conflict: t('admin.terms.errors.stale', { version }), status: 409 });
      }
    }
    const current = await currentTerms(db.knex);
    const problems = termsProblems(body, current);
    if (problems.length > 0) return showEditor(request, response, { body, baseVersion, problems, status: 400 });
    await renderPage(response, 'admin/terms/preview', {
      title: t('admin.terms.previewTitle', { version: (current?.version ?? 0) + 1 }),
      adminSection: 'terms',
      version: (current?.version ?? 0) + 1,
      body,
      baseVersion,
      html: Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, renderMarkdown(body[locale])])),
      termsLocales: SUPPORTED_LOCALES,
    });
  });

  router.get('/admin/terms/versions/:version', async (request, response) => {
    const t = response.locals.t as Translate;
    const number = request.params.version;
    const terms = VERSION.test(number) ? await findTermsVersion(db.knex, Number(number)) : undefined;
    if (!terms) throw notFound();
    const current = await currentTerms(db.knex);
    await renderPage(response, 'admin/terms/version', {
      title: t('admin.terms.versionTitle', { version: terms.version }),
      adminSection: 'terms',
      terms,
      isCurrent: current?.id === terms.id,
      html: Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, renderMarkdown(terms.body[locale])])),
      termsLocales: SUPPORTED_LOCALES,
    });
  });
}
