import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Whether `Authorization: Bearer …` carries the token: compared in constant time, both hashed so that their lengths never differ. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const given = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  return given !== undefined && timingSafeEqual(sha256(given), expected);
}

/**
 * GET /metrics in Prometheus's text format, for a scraper rather than a browser: mounted before
 * sessions, cookies and CSRF, never cached. With a token, a request without it, or with another,
 * gets 401 and nothing else. What a scrape costs the database is bounded in database-figures.ts.
 */
export function metricsRoutes({ registry, token }: { registry: Registry; token: string | undefined }): Router {
  const router = Router();
  const expected = token === undefined ? null : sha256(token);
  router.get('/metrics', async (request, response) => {
    response.setHeader('Cache-Control', 'no-store');
    if (expected && !bearerMatches(request.headers.authorization, expected)) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      response.status(401).end();
      return;
    }
    const text = await registry.metrics();
    // As prom-client writes it: Express's send would reorder its parameters and add an ETag.
    response.setHeader('Content-Type', registry.contentType);
    response.end(text);
  });
  return router;
}
