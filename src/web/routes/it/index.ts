import { Router } from 'express';
import { requireRole } from '../../middleware/authentication.js';
import { registerBrandingRoutes } from './branding.js';
import { BRANDING_ROLES } from './branding-upload.js';
import type { ItDependencies } from './dependencies.js';

/**
 * Every page under /it, for IT and admins only: the guard is mounted before any route, so a route
 * added later cannot forget it (test/integration/it-branding-access.test.ts enumerates them all).
 */
export function itRoutes(deps: ItDependencies): Router {
  const router = Router();
  router.use('/it', requireRole(...BRANDING_ROLES));
  registerBrandingRoutes(router, deps);
  return router;
}
