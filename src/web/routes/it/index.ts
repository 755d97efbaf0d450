import { Router } from 'express';
import type { Database } from '../../../db/database.js';
import type { UploadStore } from '../../../db/upload-store.js';
import type { Clock } from '../../../domain/clock.js';
import { requireRole } from '../../middleware/authentication.js';
import type { ThemeService } from '../../themes/theme-service.js';
import { registerBrandingRoutes } from './branding.js';
import { BRANDING_ROLES } from './branding-upload.js';

export interface ItDependencies {
  db: Database;
  clock: Clock;
  themes: ThemeService;
  uploads: UploadStore;
}

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
