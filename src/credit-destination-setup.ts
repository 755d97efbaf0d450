import type { Config } from './config.js';
import type { CreditDestination } from './print-systems/credit-destination.js';
import { createPaperCutDestination } from './print-systems/papercut/papercut-destination.js';
import { createWebhookDestination } from './print-systems/webhook/webhook-destination.js';

/**
 * The destination CREDIT_DESTINATION names, or null for the ledger alone. `papercut-sim` needs the
 * built-in simulator's address and token, which the process entry gives once it has started it.
 */
export function createCreditDestinationFromConfig(credits: Config['credits'], simulator?: { url: string; authToken: string }): CreditDestination | null {
  switch (credits.destination) {
    case 'ledger':
      return null;
    case 'papercut':
      return createPaperCutDestination({ url: required(credits.papercut.url, 'PAPERCUT_URL'), authToken: required(credits.papercut.authToken, 'PAPERCUT_AUTH_TOKEN'), timeoutMs: credits.timeoutMs, accountName: credits.papercut.accountName });
    case 'papercut-sim':
      if (!simulator) throw new Error('CREDIT_DESTINATION=papercut-sim needs the PaperCut simulator started');
      // Named without its port, which changes at every start: the recorded destination stays the same.
      return createPaperCutDestination({ url: simulator.url, authToken: simulator.authToken, timeoutMs: credits.timeoutMs, accountName: credits.papercut.accountName, label: 'PaperCut (built-in simulator)' });
    case 'webhook':
      return createWebhookDestination({ url: required(credits.webhook.url, 'CREDIT_WEBHOOK_URL'), secret: required(credits.webhook.secret, 'CREDIT_WEBHOOK_SECRET'), timeoutMs: credits.timeoutMs });
  }
}

// The config's validation already requires these with their destination.
function required(value: string | undefined, variable: string): string {
  if (!value) throw new Error(`${variable} is required`);
  return value;
}

