import type { RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

export const CSRF_ERROR_CODE = 'EBADCSRFTOKEN';

/**
 * Synchronizer tokens (OWASP's first choice): one random token per session, put in every form as
 * `_csrf`, required on every POST/PUT/PATCH/DELETE. Views call `csrfToken()`.
 */
export function csrfProtection(): RequestHandler[] {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (request) => (request.body as { _csrf?: string } | undefined)?._csrf,
    errorConfig: { statusCode: 403, message: 'invalid CSRF token', code: CSRF_ERROR_CODE },
  });
  return [
    // Set before the check, so that the error page for a bad token still has working forms.
    (request, response, next) => {
      response.locals.csrfToken = () => generateToken(request);
      next();
    },
    csrfSynchronisedProtection,
  ];
}
