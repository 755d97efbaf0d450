import type { Logger } from 'pino';
import type { Config } from '../../../config.js';
import type { Database } from '../../../db/database.js';
import type { Clock } from '../../../domain/time/clock.js';
import type { DocumentFiles } from '../../../services/documents/document-files.js';
import type { Ledger } from '../../../services/ledger/accounts.js';
import type { QuotePayment } from '../../../services/quotes/quote-payment.js';
import type { QuoteAccess } from '../../quote-access.js';

/** What the customers' quote pages (/quotes/...) are built from. */
export interface QuoteRoutesDependencies {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  /** A signed-in person's balance, for paying a quote in units. */
  ledger: Ledger;
  payment: QuotePayment;
  /** Which quotes this browser may see (their number and postcode were given here). */
  access: QuoteAccess;
  documentFiles: DocumentFiles;
}
