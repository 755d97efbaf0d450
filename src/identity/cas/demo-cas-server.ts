import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { SUPPORTED_LOCALES, type Locale, type Translate } from '../../i18n/index.js';
import { errorPage, loginPage, logoutPage, noServicePage, type PageContext } from './demo-pages.js';
import type { DemoCasPerson } from './demo-people.js';
import { ATTRIBUTE_NAME, failureResponse, successResponse } from './demo-service-response.js';
import { DemoTicketBook } from './demo-tickets.js';

export { DEMO_CAS_PEOPLE, type DemoCasPerson } from './demo-people.js';

export interface DemoCasServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  people: readonly DemoCasPerson[];
  /** The origins (`http://localhost:3000`) a ticket may be sent to: any other service is refused, never redirected to. */
  allowedOrigins: readonly string[];
  translations: (locale: Locale) => Translate;
  /** The pages' language when the browser states no preference the portal speaks. */
  defaultLocale: Locale;
  /** The tickets' clock (tests move it past their lifetime). */
  now?: () => Date;
}

export interface DemoCasServer {
  /** The CAS server URL to configure (`serverUrl`), e.g. http://127.0.0.1:41234. */
  url: string;
  close(): Promise<void>;
}

/** Ties the picker page to the browser that asked for it (SameSite=Strict): a form posted from another site signs nobody in. */
const FORM_COOKIE = 'demo_cas_form';
const FORM_LIFETIME_MS = 10 * 60_000;

/**
 * The portal's built-in demo identity provider, and the CAS server its tests run against: the server
 * side of CAS 2.0/3.0 (`/login`, `/serviceValidate`, `/p3/serviceValidate`, `/logout`) for a fixed
 * list of people, chosen on a page clearly marked as a demo. There is no password and no single
 * sign-on session: every `/login` shows the choice.
 */
export function createDemoCasApp(options: Omit<DemoCasServerOptions, 'port' | 'host'>): Express {
  const { people, translations, defaultLocale } = options;
  for (const person of people) {
    const badName = Object.keys(person.attributes).find((name) => !ATTRIBUTE_NAME.test(name));
    if (badName !== undefined) throw new Error(`demo CAS person ${person.user}: attribute name ${JSON.stringify(badName)} is not a plain XML name`);
  }
  const allowedOrigins = new Set(options.allowedOrigins.map((origin) => new URL(origin).origin));
  /** A service URL the demo may send a ticket or a person to: http(s), on an allowed origin. */
  const allowedService = (value: unknown): string | null => {
    if (typeof value !== 'string' || !URL.canParse(value)) return null;
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && allowedOrigins.has(url.origin) ? value : null;
  };
  const tickets = new DemoTicketBook(options.now ?? (() => new Date()));

  const localeOf = (request: Request): Locale =>
    request.headers['accept-language'] ? (request.acceptsLanguages(...SUPPORTED_LOCALES) as Locale | false) || defaultLocale : defaultLocale;

  const contextFor = (request: Request, response: Response, formOrigins: readonly string[] = []): PageContext => {
    const nonce = randomBytes(16).toString('base64');
    response.set({
      // Browsers check form-action against the redirect that follows the POST: the service's origin is allowed too.
      'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'${formOrigins.map((origin) => ` ${origin}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    const locale = localeOf(request);
    return { locale, t: translations(locale), nonce };
  };

  const refuseService = (request: Request, response: Response) => {
    const context = contextFor(request, response);
    response.status(400).type('html').send(errorPage(context, context.t('demoCas.error.serviceRefused')));
  };

  const showLogin = (request: Request, response: Response, service: string, error?: string) => {
    const context = contextFor(request, response, [new URL(service).origin]);
    const token = randomBytes(32).toString('base64url');
    response.cookie(FORM_COOKIE, token, { httpOnly: true, sameSite: 'strict', maxAge: FORM_LIFETIME_MS });
    response.status(error ? 400 : 200).type('html').send(loginPage(context, { service, token, people, error }));
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(cookieParser());

  app.get('/login', (request, response) => {
    if (request.query.service === undefined) return void response.type('html').send(noServicePage(contextFor(request, response)));
    const service = allowedService(request.query.service);
    if (service === null) return refuseService(request, response);
    showLogin(request, response, service);
  });

  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (request, response) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const service = allowedService(form.service);
    if (service === null) return refuseService(request, response);
    if (!sameToken(form.token, request.cookies?.[FORM_COOKIE])) {
      const context = contextFor(request, response);
      return void response.status(403).type('html').send(errorPage(context, context.t('demoCas.error.expired')));
    }
    const person = people.find((candidate) => candidate.user === form.user);
    const t = translations(localeOf(request));
    if (!person) return showLogin(request, response, service, t('demoCas.login.choose'));
    const destination = new URL(service);
    destination.searchParams.set('ticket', tickets.issue(person, service));
    response.clearCookie(FORM_COOKIE, { httpOnly: true, sameSite: 'strict' }).set('Cache-Control', 'no-store').redirect(303, destination.toString());
  });

  const validate: RequestHandler = (request, response) => {
    const ticket = typeof request.query.ticket === 'string' ? request.query.ticket : undefined;
    const service = typeof request.query.service === 'string' ? request.query.service : undefined;
    const issued = ticket === undefined ? undefined : tickets.take(ticket);
    response.set('Cache-Control', 'no-store').type('text/xml; charset=UTF-8');
    if (ticket === undefined || service === undefined) return void response.send(failureResponse('INVALID_REQUEST', "Both 'service' and 'ticket' parameters are required"));
    if (!issued) return void response.send(failureResponse('INVALID_TICKET', `Ticket ${ticket} not recognized`));
    if (issued.service !== service) return void response.send(failureResponse('INVALID_SERVICE', `Ticket ${ticket} was not issued for this service`));
    response.send(successResponse(issued.person));
  };
  app.get('/serviceValidate', validate);
  app.get('/p3/serviceValidate', validate);

  app.get('/logout', (request, response) => {
    response.type('html').send(logoutPage(contextFor(request, response), allowedService(request.query.service)));
  });

  /** An unreadable or oversized form: the person starts again from the application. */
  const badRequest: ErrorRequestHandler = (error: { status?: number }, request, response, next) => {
    if (response.headersSent || typeof error.status !== 'number' || error.status >= 500) return next(error);
    const context = contextFor(request, response);
    response.status(error.status).type('html').send(errorPage(context, context.t('demoCas.error.expired')));
  };
  app.use(badRequest);
  return app;
}

/** Starts the demo CAS server (as the portal's demo mode and the tests do) and says where it listens. */
export async function startDemoCasServer(options: DemoCasServerOptions): Promise<DemoCasServer> {
  const { port = 0, host = '127.0.0.1', ...appOptions } = options;
  const server = createServer(createDemoCasApp(appOptions));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sameToken(posted: unknown, kept: unknown): boolean {
  if (typeof posted !== 'string' || typeof kept !== 'string' || posted.length !== kept.length) return false;
  return timingSafeEqual(Buffer.from(posted), Buffer.from(kept));
}
