import type { Request, Response, Router } from 'express';
import { ApiKeyError, createApiKeyManagement, validateApiKeyName } from '../../../services/print-api/api-key-management.js';
import { printServerJobs, type PrintJob, type PrintJobPosition, type PrintJobSide } from '../../../services/print-api/print-server-jobs.js';
import { API_KEY_NAME_MAX } from '../../../domain/print-api/api-keys.js';
import type { Translate } from '../../../i18n/index.js';
import { API_BASE } from '../../api/openapi.js';
import { HttpError, notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';
import { printJobInWords } from '../account.js';
import type { AdminDependencies } from './dependencies.js';

const KEY_ID = /^[1-9]\d{0,8}$/;
const LIST_PATH = '/admin/api-keys';

/** The notices a redirect may ask the list to show, by name, about a key named by its id (never text from the URL). */
const NOTICES = ['revoked', 'alreadyRevoked'] as const;

/** A job's place in a print server's list, in a link: its time in milliseconds, d(ebit) or r(efusal), its id. */
const JOB_POSITION = /^(\d{1,15})([dr])([1-9]\d{0,14})$/;

const positionText = (job: PrintJobPosition) => `${job.createdAt.getTime()}${job.kind === 'debit' ? 'd' : 'r'}${job.id}`;

/** The page a link asks for: `before` (older jobs) or `after` (newer ones) a position, or the first; anything else is a 400. */
function requestedJobs(query: Request['query']): { side: PrintJobSide; position: PrintJobPosition } | undefined {
  const given = (['before', 'after'] as const).filter((name) => query[name] !== undefined);
  if (given.length === 0) return undefined;
  const text = query[given[0]!];
  const match = given.length === 1 && typeof text === 'string' ? JOB_POSITION.exec(text) : null;
  if (!match) throw new HttpError(400, 'badRequest', 'bad position in the list of jobs');
  return { side: given[0] === 'before' ? 'older' : 'newer', position: { createdAt: new Date(Number(match[1])), kind: match[2] === 'd' ? 'debit' : 'refusal', id: Number(match[3]) } };
}

interface ListState {
  /** The name as typed, shown back after a refusal. */
  name?: string;
  error?: string | null;
  status?: number;
}

/**
 * The print servers' keys. A new key's secret is in the answer to the form that created it and nowhere
 * else: not in a redirect, the session, the logs or the audit log (the domain stores only its hash).
 */
export function registerApiKeyRoutes(router: Router, { db, clock, config }: AdminDependencies): void {
  const apiKeys = createApiKeyManagement({ db, clock });

  async function showList(request: Request, response: Response, state: ListState = {}) {
    const t = response.locals.t as Translate;
    const formatDateTime = response.locals.formatDateTime as (date: Date) => string;
    const keys = await apiKeys.list();
    const { notice, key } = request.query;
    // Both notices are about a revoked key: a URL naming an active one shows nothing.
    const noticed = (NOTICES as readonly unknown[]).includes(notice) && typeof key === 'string' && KEY_ID.test(key) ? keys.find((candidate) => candidate.id === Number(key) && candidate.revokedAt) : undefined;
    await renderPage(response.status(state.status ?? 200), 'admin/api-keys/list', {
      title: t('admin.apiKeys.title'),
      adminSection: 'apiKeys',
      keys,
      notice: noticed?.revokedAt ? t(`admin.apiKeys.notices.${String(notice)}`, { name: noticed.name, prefix: noticed.prefix, date: formatDateTime(noticed.revokedAt) }) : null,
      name: state.name ?? '',
      error: state.error ?? null,
      nameMaxLength: API_KEY_NAME_MAX,
    });
  }

  router.get(LIST_PATH, (request, response) => showList(request, response));

  router.post(LIST_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const typed = ((request.body ?? {}) as Record<string, unknown>).name;
    try {
      const name = validateApiKeyName(typed);
      const { secret } = await apiKeys.create({ name, actor: request.user! });
      const example = `curl -H "Authorization: Bearer ${secret}" "${config.server.publicUrl}${API_BASE}/accounts/${encodeURIComponent(request.user!.username)}"`;
      // The only copy of the secret: neither stored nor cached by the browser or a proxy.
      response.set('Cache-Control', 'no-store');
      await renderPage(response.status(201), 'admin/api-keys/created', {
        title: t('admin.apiKeys.created.title', { name }),
        adminSection: 'apiKeys',
        name,
        secret,
        example,
        username: request.user!.username,
      });
    } catch (error) {
      if (!(error instanceof ApiKeyError) || error.code !== 'invalid_name') throw error;
      await showList(request, response, {
        name: typeof typed === 'string' ? typed.slice(0, API_KEY_NAME_MAX) : '',
        error: t('admin.apiKeys.errors.invalidName', { max: API_KEY_NAME_MAX }),
        status: 400,
      });
    }
  });

  /** One print server's jobs, debits and refusals together, newest first, a page at a time. */
  router.get(`${LIST_PATH}/:id/jobs`, async (request, response) => {
    const t = response.locals.t as Translate;
    const id = request.params.id ?? '';
    if (!KEY_ID.test(id)) throw notFound();
    const found = await printServerJobs(db, Number(id), requestedJobs(request.query));
    if (!found) throw notFound();
    const path = `${LIST_PATH}/${id}/jobs`;
    const statusText = (job: PrintJob) => (job.reason ? t(`account.refused.reasons.${job.reason}`) : t(`admin.apiKeys.jobs.status.${job.status}`));
    await renderPage(response, 'admin/api-keys/jobs', {
      title: t('admin.apiKeys.jobs.title', { name: found.key.name }),
      adminSection: 'apiKeys',
      key: found.key,
      total: found.total,
      jobs: found.jobs.map((job) => ({ ...job, text: printJobInWords(job, t).join(' · '), statusText: statusText(job) })),
      pager: {
        page: found.page,
        pageCount: found.pageCount,
        previous: found.newer ? `${path}?after=${positionText(found.newer)}` : null,
        next: found.older ? `${path}?before=${positionText(found.older)}` : null,
      },
    });
  });

  router.post(`${LIST_PATH}/:id/revoke`, async (request, response) => {
    const id = request.params.id ?? '';
    if (!KEY_ID.test(id)) throw notFound();
    try {
      const outcome = await apiKeys.revoke(Number(id), request.user!);
      response.redirect(303, `${LIST_PATH}?notice=${outcome === 'revoked' ? 'revoked' : 'alreadyRevoked'}&key=${id}`);
    } catch (error) {
      if (error instanceof ApiKeyError && error.code === 'api_key_not_found') throw notFound();
      throw error;
    }
  });
}
