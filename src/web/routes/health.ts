import { Router } from 'express';
import { pingDatabase, type Database } from '../../db/database.js';

/** For load balancers and monitoring: 200 when the database answers, 503 when it does not. */
export function healthRoutes({ db }: { db: Database }): Router {
  const router = Router();
  router.get('/healthz', async (_request, response) => {
    const started = performance.now();
    try {
      await pingDatabase(db);
      response.json({ status: 'ok', checks: { database: { status: 'ok', latencyMs: Math.round(performance.now() - started) } } });
    } catch {
      response.status(503).json({ status: 'error', checks: { database: { status: 'unreachable' } } });
    }
  });
  return router;
}
