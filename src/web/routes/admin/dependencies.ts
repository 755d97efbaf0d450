import type { Config } from '../../../config.js';
import type { Database } from '../../../db/database.js';
import type { Ledger } from '../../../services/ledger/accounts.js';
import type { Checkout } from '../../../services/checkout/checkout.js';
import type { Clock } from '../../../domain/time/clock.js';
import type { UserManagement } from '../../../services/people/user-management.js';
import type { OutboxMails } from '../../../services/mail/outbox-mails.js';
import type { MailDelivery } from '../../../services/mail/mail-delivery.js';
import type { PaymentGateway } from '../../../payments/gateway.js';
import type { IdentityRegistry } from '../../../services/identity/registry.js';
import type { PrintSystem } from '../../../services/credit-transfers/print-system.js';
import type { CreditRefunds } from '../../../services/credit-refunds/credit-refunds.js';
import type { VoucherPurchases } from '../../../services/vouchers/voucher-purchases.js';
import type { SecondFactors } from '../../../services/second-factors/second-factors.js';

/** What the admin pages are built from: its own module, so that the pages and the router that mounts them do not import each other. */
export interface AdminDependencies {
  config: Config;
  db: Database;
  clock: Clock;
  ledger: Ledger;
  checkout: Checkout;
  gateway: PaymentGateway;
  users: UserManagement;
  mail: MailDelivery;
  outboxMails: OutboxMails;
  /** The configured identity providers (sign-in methods, their health, linking accounts). */
  identity: IdentityRegistry;
  /** The print system credits go to (transfers, its health, people's balances there); null: the ledger alone. */
  printSystem: PrintSystem | null;
  /** Refunds of unused credit on request. */
  creditRefunds: CreditRefunds;
  /** Batches of codes bought by departments (who may buy). */
  voucherPurchases: VoucherPurchases;
  /** Admin and IT people's second factors (what the person page shows of them, and their reset). */
  secondFactors: SecondFactors;
}
