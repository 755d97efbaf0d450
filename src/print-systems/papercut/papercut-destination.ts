import type { CreditDestination, DestinationHealth } from '../credit-destination.js';
import { PrintSystemError } from '../print-system-error.js';
import { createPaperCutClient, type PaperCutClientOptions } from './client.js';

/** A name no PaperCut account has: asking whether it exists proves the server answers and takes our token. */
const HEALTH_PROBE_USERNAME = 'recharge-health-probe';

/** PaperCut NG/MF as the destination of credits: each transfer is one `api.adjustUserAccountBalance`. */
export function createPaperCutDestination(options: PaperCutClientOptions & { label?: string }): CreditDestination {
  const client = createPaperCutClient(options);
  return {
    kind: 'papercut',
    label: options.label ?? `PaperCut at ${new URL(options.url).host}`,
    // PaperCut's adjustments carry no key it would recognise: a lost answer is never sent again blindly.
    deduplicates: false,
    send: (transfer) => client.adjust(transfer.username, transfer.amount, transfer.comment),
    readBalance: (username) => client.balance(username),
    personExists: (username) => client.userExists(username),
    async checkHealth(): Promise<DestinationHealth> {
      try {
        await client.userExists(HEALTH_PROBE_USERNAME);
        return { reachable: true, credentialsAccepted: true, detail: null };
      } catch (error) {
        if (!(error instanceof PrintSystemError)) throw error;
        const refused = error.kind === 'definite_fault' && error.details.reason === 'access_denied';
        return { reachable: error.kind === 'definite_fault', credentialsAccepted: refused ? false : null, detail: error.message };
      }
    },
  };
}
