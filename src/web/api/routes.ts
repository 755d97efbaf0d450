import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { findActiveApiKey, recordApiKeyUse } from '../../services/print-api/records.js';
import type { Database } from '../../db/database.js';
import { bearerSecret, hashApiKey } from '../../domain/print-api/api-keys.js';
import type { Clock } from '../../domain/time/clock.js';
import { createIdempotency, IdempotencyError, parseIdempotencyKey, requestFingerprint, type StoredResponse } from '../../services/print-api/idempotency.js';
import { LedgerError } from '../../domain/ledger/ledger.js';
import { PrintApiError, usageDebitInput, usageRefusalInput, type PrintApi } from '../../services/print-api/print-api.js';
import { ReferenceInUseError } from '../../services/print-api/usage-debits.js';
import { normalizeUsername } from '../../domain/people/users.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { negotiateLocale } from '../middleware/locale.js';
import { API_BASE, openApiDocument } from './openapi.js';
import { ApiProblem, invalidRequest, isProblemType, PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problemDocument, problemTypeUri, sendProblem } from './problem.js';
import { accountJson, debitJson, refusalJson } from './representations.js';
import { transactionRoutes } from './transactions.js';

export interface PrintApiRouteDependencies {
  db: Database;
  clock: Clock;
  printApi: PrintApi;
  publicUrl: string;
  defaultLocale: Locale;
  translations: (locale: Locale) => Translate;
  logger: Logger;
}

/** The key a request was authenticated with, set by `authenticateApiKey`. */
const apiKeyOf = (response: Response) => response.locals.apiKey as { id: number; name: string };

/** The failures the domain reports, as problems; null for anything unexpected. */
function problemOf(error: unknown, request: Request): ApiProblem | null {
  if (error instanceof ApiProblem) return error;
  if (error instanceof PrintApiError) {
    const type = ({ account_not_found: 'account-not-found', account_disabled: 'account-disabled', debit_not_found: 'debit-not-found' } as const)[error.code];
    return new ApiProblem(type, { reference: '', ...error.subject });
  }
  if (error instanceof LedgerError && error.code === 'insufficient_balance') {
    return new ApiProblem('insufficient-balance', { units: String((request.body as { units?: unknown }).units) });
  }
  if (error instanceof ReferenceInUseError) return new ApiProblem('reference-in-use', { reference: error.reference });
  if (error instanceof IdempotencyError) return new ApiProblem(error.code === 'key_reused' ? 'idempotency-key-reused' : 'request-in-progress');
  const { type, status } = error as { type?: string; status?: unknown };
  if (type === 'entity.parse.failed') return new ApiProblem('malformed-json');
  if (type === 'entity.too.large') return new ApiProblem('payload-too-large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new ApiProblem('unsupported-media-type');
  // A path that does not decode (`%E0%A4%A`) names nothing.
  if (error instanceof URIError) return new ApiProblem('not-found');
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiProblem('invalid-request');
  return null;
}

/**
 * /api/v1 for print servers: JSON, an API key instead of a session, no CSRF token (nothing here
 * rides on a browser's cookies), never cached. Mounted before the portal's sessions and forms.
 */
export function printApiRoutes(deps: PrintApiRouteDependencies): Router {
  const { db, clock, printApi, publicUrl } = deps;
  const idempotency = createIdempotency({ db, clock });
  const router = Router();
  const context = (request: Request, response: Response) => ({ t: response.locals.t as Translate, publicUrl, instance: request.originalUrl.split('?')[0] ?? '' });

  router.use(API_BASE, (request, response, next) => {
    // Express matches paths case-insensitively: whatever reached the API gets the API's answers.
    response.locals.inApi = true;
    const locale = negotiateLocale(request, deps.defaultLocale);
    response.locals.t = deps.translations(locale);
    response.setHeader('Content-Language', locale);
    response.setHeader('Cache-Control', 'no-store');
    next();
  });

  const contract = openApiDocument(publicUrl);
  router.get(`${API_BASE}/openapi.json`, (_request, response) => {
    response.json(contract);
  });

  router.get(`${API_BASE}/problems/:type`, (request, response) => {
    const type = request.params.type;
    if (!isProblemType(type)) throw new ApiProblem('not-found');
    const t = response.locals.t as Translate;
    response.json({ type: problemTypeUri(publicUrl, type), title: t(`api.problems.${type}.title`), status: PROBLEM_TYPES[type], description: t(`api.problemDescriptions.${type}`) });
  });

  const authenticateApiKey: RequestHandler = async (request, response, next) => {
    const secret = bearerSecret(request.headers.authorization);
    const key = secret ? await findActiveApiKey(db.knex, hashApiKey(secret)) : undefined;
    if (!key) throw new ApiProblem('unauthorized');
    await recordApiKeyUse(db.knex, key, clock.now());
    response.locals.apiKey = { id: key.id, name: key.name };
    next();
  };
  router.use(API_BASE, authenticateApiKey);

  const account = `${API_BASE}/accounts/:username`;
  router.get(account, async (request, response) => {
    response.json(accountJson(await printApi.account(request.params.username)));
  });

  const jsonBody = express.json({ limit: '8kb', strict: true, type: () => true });
  const readJsonBody: RequestHandler = async (request, response, next) => {
    if (!request.is('application/json')) throw new ApiProblem('unsupported-media-type');
    jsonBody(request, response, next);
  };
  router.post(`${account}/debits`, readJsonBody);
  router.post(`${account}/refusals`, readJsonBody);
  router.post(`${account}/debits`, async (request, response) => {
    const idempotencyKey = parseIdempotencyKey(request.get('Idempotency-Key'));
    if (!idempotencyKey) throw new ApiProblem('idempotency-key-required');
    const parsed = usageDebitInput.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error, response.locals.t as Translate);

    const apiKey = apiKeyOf(response);
    const username = normalizeUsername(request.params.username);
    const asStored = (status: number, body: unknown): StoredResponse => ({ status, body: JSON.stringify(body) });
    const { replayed, response: stored } = await idempotency.run(
      { apiKeyId: apiKey.id, key: idempotencyKey },
      requestFingerprint({ method: 'POST', path: `${API_BASE}/accounts/${username}/debits`, body: request.body }),
      async (trx) => asStored(201, debitJson(await printApi.debit(trx, { apiKeyId: apiKey.id, idempotencyKey, username, input: parsed.data }, clock.now()))),
      (error) => {
        const problem = problemOf(error, request);
        return problem ? asStored(problem.status, problemDocument(problem, context(request, response))) : null;
      },
    );
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    response.status(stored.status).type(stored.status >= 400 ? PROBLEM_MEDIA_TYPE : 'application/json').send(stored.body);
  });

  // No Idempotency-Key header: the API key and the job's reference name a refusal, unique in its table.
  router.post(`${account}/refusals`, async (request, response) => {
    const parsed = usageRefusalInput.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error, response.locals.t as Translate);
    const { refusal, created } = await printApi.refuse({ apiKeyId: apiKeyOf(response).id, username: request.params.username, input: parsed.data }, clock.now());
    response.status(created ? 201 : 200).json(refusalJson(refusal));
  });

  router.get(`${account}/debits/:reference`, async (request, response) => {
    response.json(debitJson(await printApi.findDebit(apiKeyOf(response).id, request.params.username, request.params.reference)));
  });

  router.post(`${account}/debits/:reference/cancel`, async (request, response) => {
    response.json(debitJson(await printApi.cancel(apiKeyOf(response).id, request.params.username, request.params.reference)));
  });

  router.use(transactionRoutes({ db, printApi }));

  router.use(API_BASE, () => {
    throw new ApiProblem('not-found');
  });

  const apiErrors: ErrorRequestHandler = (error, request, response, next) => {
    if (response.locals.inApi !== true) return next(error);
    const problem = problemOf(error, request);
    if (!problem) {
      (response as unknown as { err: unknown }).err = error;
      if (!request.log) deps.logger.error({ err: error }, 'API request failed');
    }
    if (response.headersSent) return void request.socket.destroy();
    sendProblem(response, problem ?? new ApiProblem('internal-error'), context(request, response));
  };
  router.use(apiErrors);
  return router;
}
