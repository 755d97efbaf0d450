import type { RequestHandler } from 'express';

/**
 * Sends a page asked for on another host name of this server (http://127.0.0.1:3000 when PUBLIC_URL
 * says localhost, a bare address, an old name) to the same path on PUBLIC_URL, before any cookie is
 * set: sessions, CSRF tokens and PayPal's return links all live on that one origin, and a person who
 * began elsewhere would come back from PayPal signed out. Only GET and HEAD move (a form posted
 * elsewhere has no session to act on anyway). The host name alone is compared, as Express reads it
 * (X-Forwarded-Host only from a trusted proxy): a TLS-terminating proxy hides the scheme, and nginx's
 * `$host` drops the port, so comparing either would send every page round in a loop. The target keeps
 * only the request's path and query, so a request line in absolute form ("GET http://other/x") cannot
 * choose where it goes. A temporary redirect: a PUBLIC_URL corrected later is not overruled by
 * browsers' memory of a permanent one.
 */
export function redirectToPublicUrl(publicUrl: string): RequestHandler {
  const publicHostname = new URL(publicUrl).hostname.toLowerCase();
  const base = publicUrl.replace(/\/+$/, '');
  return (request, response, next) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.hostname?.toLowerCase() === publicHostname) return next();
    const { pathname, search } = new URL(request.originalUrl, 'http://path.invalid');
    response.redirect(307, `${base}${pathname}${search}`);
  };
}
