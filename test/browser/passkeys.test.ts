import { once } from 'node:events';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../helpers/free-port.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireChromium } from './portal-in-browser.js';

const PASSWORD = 'a long enough password';
const USERNAME = 'admin-passkey';

/**
 * An admin adds a passkey on Account security and later signs in with it, in Chromium, with its
 * DevTools virtual authenticator (a platform authenticator with resident keys and user verification,
 * which answers without a person touching it). The portal is served on http://localhost: WebAuthn
 * refuses an IP address as RP id, and localhost is a secure context over plain HTTP.
 */
describe('passkeys in Chromium', function () {
  this.timeout(120_000);
  let portal: TestPortal;
  let server: Server;
  let browser: Browser;
  let baseUrl: string;

  before(async () => {
    requireChromium();
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    portal = await createTestPortal({ PUBLIC_URL: baseUrl, SECOND_FACTOR_REQUIRED: 'true' });
    await portal.addUser(USERNAME, PASSWORD, { role: 'admin' });
    server = portal.app.listen(port, '127.0.0.1');
    await once(server, 'listening');
    // localhost on the address the portal listens on, not ::1 first.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'] });
  });
  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
    await portal?.cleanup();
  });

  async function logIn(page: Page) {
    await page.goto('/login');
    await page.locator('#username').fill(USERNAME);
    await page.locator('#password').fill(PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.locator('form[action="/login"] button[type="submit"]').click()]);
  }

  it('adds a passkey on Account security, then signs in with it as the second step', async () => {
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'fr-FR' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // The refused name's 409 is logged as a failed load: expected, and shown on the page instead.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const devtools = await context.newCDPSession(page);
    await devtools.send('WebAuthn.enable');
    const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    // No factor yet (the policy asks for one): signed in with the password alone, sent to add one.
    await logIn(page);
    await page.goto('/account/security');
    const register = page.locator('[data-passkey-register]');
    // Enabled by the script once it found WebAuthn (the button is disabled in the page as sent).
    await register.locator('[data-passkey-button]:enabled').waitFor();
    await register.locator('[data-passkey-name]').fill('Ordinateur du bureau');
    await Promise.all([page.waitForURL('**/account/security/passkeys/recovery-codes'), register.locator('[data-passkey-button]').click()]);
    expect(await page.locator('.recovery-codes li').count()).to.equal(10);
    const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).to.have.length(1);
    expect(credentials[0]!.rpId).to.equal('localhost');

    // The same name again: refused with the page's message in French, and nothing made by the authenticator.
    await page.goto('/account/security');
    expect(await page.locator('.factor-list').textContent()).to.contain('Ordinateur du bureau');
    await register.locator('[data-passkey-name]').fill('Ordinateur du bureau');
    await register.locator('[data-passkey-button]').click();
    const error = register.locator('[data-passkey-error]');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).to.contain('Vous avez déjà un facteur de ce nom');
    expect((await devtools.send('WebAuthn.getCredentials', { authenticatorId })).credentials).to.have.length(1);

    // Later, in the same browser: the password, then the passkey.
    await context.clearCookies();
    await logIn(page);
    expect(new URL(page.url()).pathname).to.equal('/login/second-factor');
    await Promise.all([page.waitForURL('**/account'), page.locator('[data-passkey-check] [data-passkey-button]:enabled').click()]);
    await page.goto('/admin');
    expect(new URL(page.url()).pathname, 'the admin pages open: the factor was checked').to.equal('/admin');

    const [stored] = await portal.db.knex('second_factors').where({ kind: 'passkey', name: 'Ordinateur du bureau' });
    expect(Number(stored.sign_count), "the authenticator's counter, recorded").to.be.greaterThan(0);
    expect(await portal.db.knex('audit_log').where({ action: 'second_factor.success', target: USERNAME })).to.have.length(1);
    expect(problems, 'no script error or CSP violation').to.deep.equal([]);
    await context.close();
  });
});
