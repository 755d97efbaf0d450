import type { Request, RequestHandler } from 'express';
import type { AnsweredRequest } from '../../services/monitoring/metrics.js';

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

/** Times every request from here until its answer is sent, labelled when it is (the route is known by then). */
export function requestMetrics(observe: (request: AnsweredRequest) => void): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      observe({ method: request.method, route: routeLabel(request), status: response.statusCode, seconds: (performance.now() - started) / 1000 });
    });
    next();
  };
}
