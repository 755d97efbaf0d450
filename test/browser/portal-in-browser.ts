import { existsSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { seedDemoData } from '../../src/services/demo/demo.js';
import type { DemoLogin } from '../../src/services/demo/demo-logins.js';
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
   * Signed in as this demo person (a username of `logins`); nobody when absent. The person's first
   * context logs in through the login form; later ones start with that session's cookie.
   */
  as?: string;
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

/**
 * The whole portal as `npm start` runs it in demo mode (demo people, prices, terms and history; the
 * built-in PayPal simulator), in-process on a temporary database and ephemeral ports, with Debian's
 * Chromium to look at it. The portal is the test portal (fake clock, so pages show fixed dates),
 * also served on the port its PUBLIC_URL names, so PayPal's return links come back to it.
 */
export async function startPortalInBrowser(env: Record<string, string> = {}): Promise<PortalInBrowser> {
  requireChromium();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const portal = await createTestPortal({ PUBLIC_URL: baseUrl, ...env });
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    const logins = await seedDemoData({ db: portal.db, clock: portal.clock, users: portal.users });
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
      browser: launched,
      async open({ width, height = 800, locale = 'fr', as }) {
        const storageState = as === undefined ? undefined : sessions.get(as);
        const context = await launched.newContext({ viewport: { width, height }, locale: locale === 'fr' ? 'fr-FR' : 'en-GB', baseURL: baseUrl, storageState });
        contexts.add(context);
        context.once('close', () => contexts.delete(context));
        const violations = await recordCspViolations(context);
        const page = await context.newPage();
        if (as !== undefined && !storageState) {
          await logIn(page, loginOf(logins, as));
          sessions.set(as, await context.storageState());
        }
        return { page, context, cspViolations: violations };
      },
      async close() {
        await Promise.all([...contexts].map((context) => context.close()));
        await launched.close();
        listening.closeAllConnections();
        await new Promise((resolve) => listening.close(resolve));
        await portal.cleanup();
      },
    };
  } catch (error) {
    await browser?.close();
    server?.close();
    await portal.cleanup();
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

function loginOf(logins: readonly DemoLogin[], username: string): DemoLogin {
  const login = logins.find((candidate) => candidate.username === username);
  if (!login) throw new Error(`no demo login ${username}`);
  return login;
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
