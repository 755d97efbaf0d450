import { Router } from 'express';
import type { Config } from '../../../config.js';
import type { Database } from '../../../db/database.js';
import type { Ledger } from '../../../domain/accounts.js';
import type { Checkout } from '../../../domain/checkout.js';
import type { Clock } from '../../../domain/clock.js';
import type { UserManagement } from '../../../domain/user-management.js';
import type { DocumentMails } from '../../../mail/document-mail.js';
import type { MailDelivery } from '../../../mail/mail-delivery.js';
import type { PaymentGateway } from '../../../payments/gateway.js';
import { requireRole } from '../../middleware/authentication.js';
import { registerApiKeyRoutes } from './api-keys.js';
import { registerDashboardRoutes } from './dashboard.js';
import { registerMailRoutes } from './mails.js';
import { registerOrderRoutes } from './orders.js';
import { registerPeopleRoutes } from './people.js';
import { registerPriceRoutes } from './prices.js';
import { registerReportRoutes } from './reports.js';
import { registerTermsRoutes } from './terms.js';

export interface AdminDependencies {
  config: Config;
  db: Database;
  clock: Clock;
  ledger: Ledger;
  checkout: Checkout;
  gateway: PaymentGateway;
  users: UserManagement;
  mail: MailDelivery;
  documentMails: DocumentMails;
}

/**
 * Every page under /admin, for admins only: the guard is mounted before any admin route, so a route
 * added later cannot forget it (test/integration/admin-access.test.ts enumerates them all).
 */
export function adminRoutes(deps: AdminDependencies): Router {
  const router = Router();
  router.use('/admin', requireRole('admin'));
  registerDashboardRoutes(router, deps);
  registerPriceRoutes(router, deps);
  registerTermsRoutes(router, deps);
  registerPeopleRoutes(router, deps);
  registerOrderRoutes(router, deps);
  registerReportRoutes(router, deps);
  registerApiKeyRoutes(router, deps);
  registerMailRoutes(router, deps);
  return router;
}
