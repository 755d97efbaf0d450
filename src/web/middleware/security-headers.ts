import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

const nonceOf = (_request: IncomingMessage, response: ServerResponse) => `'nonce-${(response as ServerResponse & { locals: { nonce: string } }).locals.nonce}'`;

/**
 * A fresh nonce per response, then helmet's headers with a strict CSP built around it. The payment
 * provider's origin is allowed in form-action: browsers check it against the redirect that follows
 * the "Pay" form.
 */
export function securityHeaders({ https, formActionOrigins }: { https: boolean; formActionOrigins: readonly string[] }): RequestHandler[] {
  return [
    (_request, response, next) => {
      response.locals.nonce = randomBytes(16).toString('base64');
      next();
    },
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", nonceOf],
          styleSrc: ["'self'", nonceOf],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'", ...formActionOrigins],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
          ...(https ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'same-origin' },
      // Old browsers' counterpart of frame-ancestors 'none' (SAMEORIGIN would contradict it).
      xFrameOptions: { action: 'deny' },
    }),
  ];
}
