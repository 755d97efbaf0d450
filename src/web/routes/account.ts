import { Router } from 'express';
import type { Ledger } from '../../domain/accounts.js';
import type { HistoryRow } from '../../db/ledger-repository.js';
import type { Translate } from '../../i18n/index.js';
import { requireUser } from '../middleware/authentication.js';
import { pageLinks, parsePage } from '../paging.js';
import { renderPage } from '../render.js';

const USAGE_ACCOUNT = /^system:usage:(print|copy|scan|fax)$/;

/** The translation key naming an operation: usage is named by its category (print, copy…). */
export function operationKey(row: Pick<HistoryRow, 'kind' | 'counterpart'>): string {
  const usage = row.kind === 'usage' ? USAGE_ACCOUNT.exec(row.counterpart ?? '') : null;
  return usage ? `operation.usage_${usage[1]}` : `operation.${row.kind}`;
}

export function accountRoutes({ ledger }: { ledger: Ledger }): Router {
  const router = Router();

  router.get('/', (request, response) => response.redirect(303, request.user ? '/account' : '/login'));

  router.get('/account', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const user = request.user!;
    const view = await ledger.accountPage(user.id, parsePage(request.query.page));
    await renderPage(response, 'pages/account', {
      title: t('account.title'),
      ...view,
      pager: pageLinks('/account', {}, view.page, view.pageCount),
      rows: view.history.map((row) => ({ ...row, label: t(operationKey(row)) })),
    });
  });

  return router;
}
