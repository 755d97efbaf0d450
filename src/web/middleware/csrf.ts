import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { doubleCsrf } from 'csrf-csrf';

export const CSRF_ERROR_CODE = 'EBADCSRFTOKEN';

const errorConfig = { statusCode: 403, message: 'invalid CSRF token', code: CSRF_ERROR_CODE };
const tokenOf = (request: Request) => (request.body as { _csrf?: string } | undefined)?._csrf;
const signedIn = (request: Request) => request.session?.userId !== undefined;

/**
 * Every form carries `_csrf`, required on every POST/PUT/PATCH/DELETE. Views call `csrfToken()`.
 * - Signed in: synchronizer tokens (OWASP's first choice), one random token kept in the session.
 * - Visitors (the login form, the language switch): a signed double-submit token — an HMAC of a
 *   random value under the session secret, in an HttpOnly SameSite cookie and in the form — so that a
 *   visitor's page view stores no session (issue: a session row per anonymous visit to /login).
 * Which one a request needs is decided by whether it belongs to a signed-in session; a form shown
 * to a visitor and sent after signing in elsewhere gets the "form expired" page.
 */
export function csrfProtection({ secret, secureCookies }: { secret: string; secureCookies: boolean }): [offerTokens: RequestHandler, checkToken: RequestHandler] {
  const sessionTokens = csrfSync({ getTokenFromRequest: tokenOf, errorConfig });
  const visitorTokens = doubleCsrf({
    getSecret: () => secret,
    // Nothing identifies a visitor but the cookie itself, which a cross-site page can neither read nor set.
    getSessionIdentifier: () => 'visitor',
    cookieName: secureCookies ? '__Host-recharge.csrf' : 'recharge.csrf',
    cookieOptions: { sameSite: 'lax', secure: secureCookies, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: tokenOf,
    errorConfig,
  });
  return [
    // Set before the check, so that the error page for a bad token still has working forms.
    (request, response, next) => {
      let token: string | undefined;
      // One token per response: each visitor token sets its cookie, and only the last would match.
      response.locals.csrfToken = () => (token ??= signedIn(request) ? sessionTokens.generateToken(request) : visitorTokens.generateCsrfToken(request, response));
      next();
    },
    (request, response, next) => (signedIn(request) ? sessionTokens.csrfSynchronisedProtection : visitorTokens.doubleCsrfProtection)(request, response, next),
  ];
}
