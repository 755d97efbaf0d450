import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTranslations } from '../../src/i18n/index.js';
import { DEMO_CAS_PEOPLE, startDemoCasServer, type DemoCasPerson, type DemoCasServer } from '../../src/identity/cas/demo-cas-server.js';
import { createIdentityRegistry, DEMO_PROVIDER_ID, demoProviderConfig } from '../../src/identity-setup.js';
import { seedDemo } from '../../src/services/demo/demo.js';
import { DEMO_PAPERCUT_PEOPLE, type DemoLogin } from '../../src/services/demo/demo-logins.js';
import type { DemoQuotes } from '../../src/services/demo/demo-quotes.js';
import { startOidcServer, type OidcTestServer } from '../helpers/identity/oidc-server.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';

/** Debian's Chromium, which `.ci/run` installs; Playwright's own browser downloads are not used. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Exactly the flags CI runs Chromium with (playwright-core adds its own automation flags): without
 * the background-networking and component-update flags Chromium's own connections are refused on a
 * closed network, and it is slow to start.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] as const;

export type Locale = 'fr' | 'en';

export interface PageOptions {
  width: number;
  height?: number;
  locale?: Locale;
  /**
   * Signed in as this demo person: a username of `logins` (through the login form), or the CAS user of
   * one of DEMO_CAS_PEOPLE (through the login page's demo provider button and the demo CAS server's
   * page); nobody when absent. The person's first context signs in; later ones start with that
   * session's cookie.
   */
  as?: string;
  /** Signs in anew even when the person already has a session: another device, listed apart on "Mon compte". */
  newSession?: boolean;
  /** The browser's User-Agent (what "Mon compte" names a session's device by); Chromium's own when absent. */
  userAgent?: string;
}

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Content-Security-Policy violations seen so far on any page of the context, across navigations (`securitypolicyviolation` events and console reports). */
  cspViolations(): Promise<string[]>;
}

export interface PortalInBrowser {
  portal: TestPortal;
  /** The portal's public address, the one PayPal's simulator sends the buyer back to. */
  baseUrl: string;
  logins: readonly DemoLogin[];
  /** The demo desk's quotes, as `npm start` seeds them: one to pay without an account, the student's, a draft. */
  quotes: DemoQuotes;
  /** The built-in demo CAS server, offered as the provider `demo` as in demo mode (`npm start`). */
  demoCas: DemoCasServer;
  /** The institution's OpenID provider (a real oidc-provider), configured through IDENTITY_PROVIDERS. */
  oidc: OidcTestServer;
  browser: Browser;
  /** A new browser context (its own cookies) at this width, signed in when asked. */
  open(options: PageOptions): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** Fails with what to do, rather than skipping: the browser checks are part of CI. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's Chromium with "apt-get update && apt-get install -y chromium" (.ci/run does this) and run again`);
  }
}

const CSP_BINDING = '__recordCspViolation';

// Installed before any page script runs (Playwright's init scripts and bindings are not subject to the
// page's CSP); the binding hands each violation to the test at once, so a navigation loses none.
const RECORD_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) => {
  window.${CSP_BINDING}(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' at ' + event.sourceFile + ':' + event.lineNumber);
}, true);`;

/** Chromium reports a violation on the console too ("Refused to … because it violates the following Content Security Policy directive"). */
const CSP_CONSOLE_MESSAGE = /Content[- ]Security[- ]Policy/i;

/** The OpenID provider's id, in the portal's URLs (/auth/univ/callback). */
export const OIDC_PROVIDER_ID = 'univ';

/**
 * The institution's providers, as a site configures them in IDENTITY_PROVIDERS (secrets in
 * IDENTITY_<ID>_SECRET): an OpenID provider with a long name, as real ones are, and an LDAP directory,
 * which only adds its name under the login form's username. Nobody here signs in through the
 * directory (the demo people have portal passwords, which are checked first): it listens nowhere, and
 * the admin's test of it reports it unreachable.
 */
function institutionProviders(oidc: OidcTestServer, closedPort: number): Record<string, string> {
  const providers = [
    {
      id: OIDC_PROVIDER_ID,
      kind: 'oidc',
      label: { fr: 'Université Paris Nord (Microsoft Entra ID)', en: 'Paris Nord University (Microsoft Entra ID)' },
      issuer: oidc.issuer,
      clientId: oidc.clientId,
    },
    {
      id: 'annuaire',
      kind: 'ldap',
      label: { fr: 'Université Paris Nord (Active Directory)', en: 'Paris Nord University (Active Directory)' },
      url: `ldap://127.0.0.1:${closedPort}`,
      bindDn: 'cn=recharge,ou=services,dc=univ-paris-nord,dc=example',
      searchBase: 'ou=people,dc=univ-paris-nord,dc=example',
      timeoutMs: 2_000,
    },
  ];
  return { IDENTITY_PROVIDERS: JSON.stringify(providers), IDENTITY_UNIV_SECRET: oidc.clientSecret, IDENTITY_ANNUAIRE_SECRET: 'service-account-password' };
}

/**
 * The whole portal as `npm start` runs it in demo mode (with `papercut`, as `CREDIT_DESTINATION=papercut-sim npm start`) (demo people, prices, terms, history and quotes;
 * the built-in PayPal simulator; the built-in demo CAS server as the login page's first provider), with an
 * institution's providers configured beside it, in-process on a temporary database and ephemeral ports,
 * with Debian's Chromium to look at it. The portal is the test portal (fake clock, so pages show fixed
 * dates), also served on the port its PUBLIC_URL names, so PayPal's and the providers' return links
 * come back to it.
 */
export async function startPortalInBrowser(env: Record<string, string> = {}, { papercut = false }: { papercut?: boolean } = {}): Promise<PortalInBrowser> {
  requireChromium();
  const [port, closedPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${port}`;
  const [demoCas, oidc] = await Promise.all([
    startDemoCasServer({ people: DEMO_CAS_PEOPLE, allowedOrigins: [baseUrl], translations: createTranslations(), defaultLocale: 'fr' }),
    startOidcServer({ redirectUri: `${baseUrl}/auth/${OIDC_PROVIDER_ID}/callback`, postLogoutRedirectUri: `${baseUrl}/login?notice=logged-out` }),
  ]);
  const stopProviders = () => Promise.all([demoCas.close(), oidc.close()]);
  let portal: TestPortal;
  try {
    // The demo provider is added to the configured ones as server.ts adds it in demo mode.
    portal = await createTestPortal(
      // The seller's address as in demo mode (config/development.json): quotes are sent only with one.
      { PUBLIC_URL: baseUrl, SELLER_EMAIL: 'reprographie@example.edu', ...institutionProviders(oidc, closedPort), ...env },
      {
        identity: ({ config, db, clock }) => createIdentityRegistry({ config, db, clock, providers: [...config.identity.providers, demoProviderConfig(demoCas.url)] }),
        // As `CREDIT_DESTINATION=papercut-sim npm start`: the simulator knows the demo people, with nothing on their accounts.
        ...(papercut ? { papercut: { users: Object.fromEntries(DEMO_PAPERCUT_PEOPLE.map((username) => [username, 0])) } } : {}),
      },
    );
  } catch (error) {
    await stopProviders();
    throw error;
  }
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    const { logins, quotes } = await seedDemo({ db: portal.db, clock: portal.clock, users: portal.users, config: portal.config });
    if (!quotes) throw new Error('the demo quotes were not seeded: the portal has no seller address, or the demo desk person is missing');
    // The demo history's credits reach PaperCut as the timer of `npm start` would send them.
    await portal.printSystem?.delivery.deliverDue();
    server = portal.app.listen(port, '127.0.0.1');
    await once(server, 'listening');
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
    const launched = browser;
    const contexts = new Set<BrowserContext>();
    const listening = server;
    // Each person logs in through the form once; their session's cookie opens their later contexts.
    const sessions = new Map<string, StorageState>();
    return {
      portal,
      baseUrl,
      logins,
      quotes,
      demoCas,
      oidc,
      browser: launched,
      async open({ width, height = 800, locale = 'fr', as, newSession = false, userAgent }) {
        const storageState = as === undefined || newSession ? undefined : sessions.get(as);
        const context = await launched.newContext({ viewport: { width, height }, locale: locale === 'fr' ? 'fr-FR' : 'en-GB', baseURL: baseUrl, storageState, userAgent });
        contexts.add(context);
        context.once('close', () => contexts.delete(context));
        const violations = await recordCspViolations(context);
        const page = await context.newPage();
        if (as !== undefined && !storageState) {
          const login = logins.find((candidate) => candidate.username === as);
          if (login) await logIn(page, login);
          else await signInThroughDemoCas(page, demoCasPerson(as), demoCas.url);
          if (!sessions.has(as)) sessions.set(as, await context.storageState());
        }
        return { page, context, cspViolations: violations };
      },
      async close() {
        await Promise.all([...contexts].map((context) => context.close()));
        await launched.close();
        listening.closeAllConnections();
        await new Promise((resolve) => listening.close(resolve));
        await portal.cleanup();
        await stopProviders();
      },
    };
  } catch (error) {
    await browser?.close();
    server?.close();
    await portal.cleanup();
    await stopProviders();
    throw error;
  }
}

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

/** Listens, on every page the context opens, for CSP violations; returns what was heard so far. */
async function recordCspViolations(context: BrowserContext): Promise<() => Promise<string[]>> {
  const heard: string[] = [];
  await context.exposeBinding(CSP_BINDING, ({ page }, report: unknown) => {
    heard.push(`${page.url()}: ${String(report)}`);
  });
  await context.addInitScript(RECORD_CSP_VIOLATIONS);
  context.on('console', (message) => {
    if (CSP_CONSOLE_MESSAGE.test(message.text())) heard.push(`console on ${message.page()?.url() ?? 'a page'}: ${message.text()}`);
  });
  return async () => {
    // Violation events are queued as tasks: one turn of each page's event loop delivers those still pending.
    await Promise.all(context.pages().map((page) => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0))).catch(() => undefined)));
    return [...heard];
  };
}

function demoCasPerson(user: string): DemoCasPerson {
  const person = DEMO_CAS_PEOPLE.find((candidate) => candidate.user === user);
  if (!person) throw new Error(`${user} is neither a demo login nor a person of the demo CAS server`);
  return person;
}

/** The login page's button of the demo provider, whatever the page's language. */
export const demoProviderButton = (page: Page) => page.locator(`a[href="/auth/${DEMO_PROVIDER_ID}"]`);

/** Through the demo provider's button, as a person would: on the demo CAS server's page, choose them and sign in; land back on the portal. */
async function signInThroughDemoCas(page: Page, person: DemoCasPerson, casUrl: string): Promise<void> {
  await page.goto('/login');
  await Promise.all([page.waitForURL((url) => url.href.startsWith(`${casUrl}/login?`)), demoProviderButton(page).click()]);
  await page.locator(`input[name="user"][value="${person.user}"]`).check();
  await Promise.all([page.waitForURL((url) => !url.href.startsWith(casUrl) && url.pathname !== '/login'), page.locator('form button[type="submit"]').click()]);
}

/** Through the login form, as a person would: type, press the button, land on the account page. */
async function logIn(page: Page, login: DemoLogin): Promise<void> {
  await page.goto('/login');
  await page.locator('#username').fill(login.username);
  await page.locator('#password').fill(login.password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.locator('form[action="/login"] button[type="submit"]').click()]);
}

/** A port nobody listens on now; the portal takes it a moment later. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
