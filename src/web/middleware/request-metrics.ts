import type { Request, RequestHandler } from 'express';
import type { TimedRequest } from '../../services/monitoring/metrics.js';

/** The label of requests no route or mounted handler answered (404s, probes): one series for all of them. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route's template as written in the code (`/orders/:number`), never the path asked for, so that
 * the number of series stays that of the routes however many orders, files or probes are asked for.
 * Files a mounted handler serves (/assets) are labelled by its mount (`/assets/*`), lower-case as
 * Express matches it. Mount paths are fixed text: a parameter in one would put its values here.
 */
export function routeLabel(request: Request): string {
  const template: unknown = request.route?.path;
  if (typeof template === 'string') return `${request.baseUrl.toLowerCase()}${template}`;
  if (request.baseUrl) return `${request.baseUrl.toLowerCase()}/*`;
  return UNMATCHED_ROUTE;
}

/**
 * Times every request from here until its answer is sent, labelled when it is (the route is known by
 * then). A request whose connection closes first (the client gave up, a proxy timed out) is observed
 * then, with the status `aborted`: left out, slow pages that people abandon would never show.
 */
export function requestMetrics(observe: (request: TimedRequest) => void): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    let observed = false;
    const done = (status: TimedRequest['status']) => {
      if (observed) return;
      observed = true;
      observe({ method: request.method, route: routeLabel(request), status, seconds: (performance.now() - started) / 1000 });
    };
    response.once('finish', () => done(response.statusCode));
    response.once('close', () => done('aborted'));
    next();
  };
}
