import { refused, unavailable, type ProviderHealth } from '../../domain/identity/identity.js';
import type { CasProviderConfig } from '../../domain/identity/provider-config.js';
import type { PendingState, RedirectIdentityProvider, SignInKeyStore } from '../provider.js';
import { SERVICE_TICKET, TICKET_LIFETIME_MS } from './protocol.js';
import { readServiceResponse } from './service-response.js';

export interface CasProviderOptions {
  /** The portal's callback URL for this provider, built once from PUBLIC_URL: sent at login and at validation, never taken from a request. */
  serviceUrl: string;
  /** Where a ticket is claimed before it is validated, so it signs in once even if the CAS server forgot it. */
  keys: SignInKeyStore;
}

/** CAS has no state parameter: this marker only proves that the browser coming back started a CAS sign-in. */
const PENDING: PendingState = Object.freeze({ protocol: 'cas' });

/**
 * A CAS 2.0 / 3.0 server (Apereo CAS, the French ENTs): the browser goes to `/login?service=…`, comes
 * back with a service ticket, and the portal validates it with `serviceValidate` (2.0) or
 * `p3/serviceValidate` (3.0, with attributes). No proxying: no `pgtUrl` is sent and `PT-` tickets
 * are refused.
 */
export function createCasProvider(config: CasProviderConfig, options: CasProviderOptions): RedirectIdentityProvider {
  const { serviceUrl, keys } = options;
  const validationPath = config.version === 3 ? '/p3/serviceValidate' : '/serviceValidate';
  const request = (url: URL, redirect: 'error' | 'manual') => fetch(url, { redirect, signal: AbortSignal.timeout(config.timeoutMs), headers: { accept: 'application/xml, text/xml' } });

  return {
    id: config.id,
    kind: 'cas',

    async start() {
      return { location: withParameters(`${config.serverUrl}/login`, { service: serviceUrl }), pending: PENDING };
    },

    async finish({ url, pending }) {
      if (pending.protocol !== PENDING.protocol) return refused('no CAS sign-in was started in this browser');
      const tickets = url.searchParams.getAll('ticket');
      const ticket = tickets.length === 1 ? (tickets[0] as string) : '';
      if (!SERVICE_TICKET.test(ticket)) return refused(`the callback carries no single service ticket (${JSON.stringify(tickets.map((each) => each.slice(0, 12)))})`);
      // Claimed before asking: a ticket seen once is refused after, whatever the CAS server remembers.
      if (!(await keys.claim(ticket, new Date(Date.now() + TICKET_LIFETIME_MS)))) return refused('the service ticket was already used');

      let answer: string;
      try {
        const response = await request(new URL(withParameters(`${config.serverUrl}${validationPath}`, { service: serviceUrl, ticket })), 'error');
        if (!response.ok) return unavailable(`the CAS server answered HTTP ${response.status} to ${validationPath}`);
        answer = await response.text();
      } catch (error) {
        return unavailable(`the CAS server did not answer ${validationPath} within ${config.timeoutMs} ms: ${describe(error)}`);
      }
      return readServiceResponse(answer);
    },

    logoutLocation({ returnTo }) {
      return withParameters(`${config.serverUrl}/logout`, { service: returnTo });
    },

    async health(): Promise<ProviderHealth> {
      const loginUrl = `${config.serverUrl}/login`;
      try {
        const response = await request(new URL(loginUrl), 'manual');
        await response.body?.cancel();
        const reachable = response.status >= 200 && response.status < 400;
        return { reachable, detail: `${loginUrl} answered HTTP ${response.status}`, checkedAt: new Date().toISOString() };
      } catch (error) {
        return { reachable: false, detail: `${loginUrl} did not answer within ${config.timeoutMs} ms: ${describe(error)}`, checkedAt: new Date().toISOString() };
      }
    },
  };
}

function withParameters(base: string, parameters: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}

/** fetch hides the socket's error in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}
