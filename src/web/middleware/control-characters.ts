import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http-error.js';

/** C0 controls and DEL in free text, except tab and line breaks, which multi-line fields hold. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** In a path or a query parameter, no control character at all. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_IN_URL = /[\u0000-\u001F\u007F]/;

function containsControl(value: unknown, pattern: RegExp): boolean {
  if (typeof value === 'string') return pattern.test(value);
  if (Array.isArray(value)) return value.some((item) => containsControl(item, pattern));
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([key, item]) => pattern.test(key) || containsControl(item, pattern));
  return false;
}

function decodedPath(request: Request): string | null {
  try {
    return decodeURIComponent(request.path);
  } catch {
    return null;
  }
}

/**
 * Refuses control characters with one 400 at the edge, for every route at once: PostgreSQL refuses
 * NUL in text (the query failed with a 500), and no name, reference, token or search term a person
 * types holds one. Mounted once, after every body is parsed (urlencoded and multipart forms) and
 * before any page route; the print-server API and the webhook, mounted earlier, validate their own
 * input with strict schemas.
 */
export const refuseControlCharacters: RequestHandler = (request, _response, next) => {
  const path = decodedPath(request);
  const refused =
    path === null ||
    CONTROL_IN_URL.test(path) ||
    containsControl(request.query, CONTROL_IN_URL) ||
    containsControl(request.body, CONTROL_IN_TEXT);
  next(refused ? new HttpError(400, 'badRequest', 'control character in the request') : undefined);
};
