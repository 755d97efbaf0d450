import { randomBytes, timingSafeEqual } from 'node:crypto';
import { refused, unavailable, type ProviderHealth } from '../../domain/identity/identity.js';
import type { CasProviderConfig } from '../../domain/identity/provider-config.js';
import type { PendingState, RedirectIdentityProvider, SignInKeyStore } from '../provider.js';
import { SERVICE_TICKET, TICKET_LIFETIME_MS } from './protocol.js';
import { readServiceResponse } from './service-response.js';

export interface CasProviderOptions {
  /** The portal's callback URL for this provider, built once from PUBLIC_URL; the service sent at login and at validation is this URL with the sign-in's state, never taken from a request. */
  serviceUrl: string;
  /** Where a ticket is claimed before it is validated, so it signs in once even if the CAS server forgot it. */
  keys: SignInKeyStore;
}

/** Marks what a CAS sign-in keeps in the pending cookie. */
const PROTOCOL = 'cas';

/**
 * A CAS 2.0 / 3.0 server (Apereo CAS, the French ENTs): the browser goes to `/login?service=…`, comes
 * back with a service ticket, and the portal validates it with `serviceValidate` (2.0) or
 * `p3/serviceValidate` (3.0, with attributes). No proxying: no `pgtUrl` is sent and `PT-` tickets
 * are refused.
 *
 * CAS has no `state` parameter, so the portal puts its own in the service URL: a ticket is then issued
 * for, and validates only with, the service of the browser that started the sign-in. Without it, an
 * attacker's unredeemed ticket sent to a victim's callback would sign the victim in as the attacker.
 */
export function createCasProvider(config: CasProviderConfig, options: CasProviderOptions): RedirectIdentityProvider {
  const { serviceUrl, keys } = options;
  const validationPath = config.version === 3 ? '/p3/serviceValidate' : '/serviceValidate';
  const request = (url: URL, redirect: 'error' | 'manual') => fetch(url, { redirect, signal: AbortSignal.timeout(config.timeoutMs), headers: { accept: 'application/xml, text/xml' } });

  return {
    id: config.id,
    kind: 'cas',

    async start() {
      const state = randomBytes(32).toString('base64url');
      const pending: PendingState = { protocol: PROTOCOL, state };
      return { location: withParameters(`${config.serverUrl}/login`, { service: serviceFor(serviceUrl, state) }), pending };
    },

    async finish({ url, pending }) {
      const { state } = pending;
      if (pending.protocol !== PROTOCOL || !state) return refused('no CAS sign-in was started in this browser (no state kept)');
      // Before the ticket is claimed or sent anywhere: a ticket from another sign-in is not this browser's.
      const returned = url.searchParams.getAll('state');
      if (returned.length !== 1 || !sameSecret(returned[0] as string, state)) return refused('the callback does not carry the state of the sign-in this browser started');
      const tickets = url.searchParams.getAll('ticket');
      const ticket = tickets.length === 1 ? (tickets[0] as string) : '';
      if (!SERVICE_TICKET.test(ticket)) return refused(`the callback carries no single service ticket (${JSON.stringify(tickets.map((each) => each.slice(0, 12)))})`);
      // Claimed before asking: a ticket seen once is refused after, whatever the CAS server remembers.
      if (!(await keys.claim(ticket, new Date(Date.now() + TICKET_LIFETIME_MS)))) return refused('the service ticket was already used');

      let answer: string;
      try {
        const response = await request(new URL(withParameters(`${config.serverUrl}${validationPath}`, { service: serviceFor(serviceUrl, state), ticket })), 'error');
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

/** The service as sent at login and at validation, byte for byte: the CAS server compares them as strings. */
function serviceFor(serviceUrl: string, state: string): string {
  return `${serviceUrl}?state=${state}`;
}

function sameSecret(given: string, kept: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(kept);
  return a.length === b.length && timingSafeEqual(a, b);
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
