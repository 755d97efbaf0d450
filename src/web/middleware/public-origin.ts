import type { RequestHandler } from 'express';

/**
 * Sends a page asked for on another host name of this server (http://127.0.0.1:3000 when PUBLIC_URL
 * says localhost, a bare address, an old name) to the same path on PUBLIC_URL's host, before any
 * cookie is set: sessions, CSRF tokens and PayPal's return links all live on that one origin, and a
 * person who began elsewhere would come back from PayPal signed out. Only GET and HEAD move (a
 * form posted elsewhere has no session to act on anyway); the host is compared without the scheme,
 * which a TLS-terminating proxy hides, and is read as Express reads it (X-Forwarded-Host only from a
 * trusted proxy). A temporary redirect: a PUBLIC_URL corrected later is not overruled by browsers'
 * memory of a permanent one.
 */
export function redirectToPublicUrl(publicUrl: string): RequestHandler {
  const target = new URL(publicUrl);
  const publicHost = target.host.toLowerCase();
  const base = publicUrl.replace(/\/+$/, '');
  return (request, response, next) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || hostWithoutDefaultPort(request.host, target.protocol) === publicHost) return next();
    response.redirect(307, `${base}${request.originalUrl}`);
  };
}

/** `Host` as the URL standard writes it: lower case, without the scheme's default port. */
function hostWithoutDefaultPort(host: string | undefined, protocol: string): string {
  const lower = (host ?? '').toLowerCase();
  const defaultPort = protocol === 'https:' ? ':443' : ':80';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}
