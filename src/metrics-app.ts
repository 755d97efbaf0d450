import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { metricsRoutes } from './web/routes/metrics.js';

/**
 * What the listener of METRICS_PORT serves: /metrics and nothing else (every other path is an empty
 * 404), so that the address it is bound to shows no page of the portal.
 */
export function metricsOnlyApp({ registry, token, logger }: { registry: Registry; token: string | undefined; logger: Logger }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRoutes({ registry, token }));
  app.use((_request, response) => {
    response.status(404).end();
  });
  const answerFailure: ErrorRequestHandler = (error, _request, response, _next) => {
    logger.error({ err: error }, 'metrics: answering a scrape failed');
    response.status(500).end();
  };
  app.use(answerFailure);
  return app;
}
