import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Locale, Translate } from '../../i18n/index.js';
import { negotiateLocale } from './locale.js';
import { HttpError, notFound, type ErrorPage } from '../http-error.js';
import { renderPage } from '../render.js';
import { CSRF_ERROR_CODE } from './csrf.js';
import { isDatabaseUnavailable } from '../../db/database.js';

/** What a 503 asks browsers and clients to wait: about what a database restart takes. */
const RETRY_AFTER_SECONDS = 5;

export const notFoundHandler: RequestHandler = (_request, _response, next) => next(notFound());

function classify(error: unknown): { status: number; page: ErrorPage } {
  if (error instanceof HttpError) return { status: error.status, page: error.page };
  const { code, type, status } = error as { code?: string; type?: string; status?: number };
  if (code === CSRF_ERROR_CODE) return { status: 403, page: 'csrf' };
  if (type === 'entity.too.large') return { status: 413, page: 'tooLarge' };
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, page: 'badRequest' };
  if (isDatabaseUnavailable(error)) return { status: 503, page: 'unavailable' };
  return { status: 500, page: 'server' };
}

/**
 * The one error handler: a friendly page in the person's language with the request id to quote to
 * support, never a stack trace. Unexpected errors are logged in full.
 */
export function errorHandler({ logger, defaultLocale, translations }: { logger: Logger; defaultLocale: Locale; translations: (locale: Locale) => Translate }): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const { status, page } = classify(error);
    if (status >= 500) {
      // pino-http attaches `res.err` to the request's log line.
      (response as unknown as { err: unknown }).err = error;
      if (!request.log) logger.error({ err: error }, 'request failed');
    }
    if (response.headersSent) {
      request.socket.destroy();
      return;
    }
    // An error before the locale middleware ran (session store down, bad body) still speaks the reader's language.
    response.locals.locale ??= negotiateLocale(request, defaultLocale);
    response.locals.t ??= translations(response.locals.locale as Locale);
    response.locals.user ??= undefined;
    response.status(status);
    if (status === 503) response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    const t = response.locals.t as Translate;
    renderPage(response, 'pages/error', { title: t(`errors.${page}.title`), page, requestId: request.id }).catch((renderError: unknown) => {
      logger.error({ err: renderError }, 'error page failed to render');
      if (!response.headersSent) response.type('text').send(`${t(`errors.${page}.title`)} (${String(request.id ?? '')})`);
    });
  };
}
