import type { Page, Response } from 'playwright-core';
import { totpCodeAt } from '../helpers/second-factors.js';
import type { PortalInBrowser } from './portal-in-browser.js';

/** The admin signs in through the login form in a browser with no session: their password is right, the second step asks for the factor. */
async function secondStep(page: Page, session: PortalInBrowser): Promise<Response | null> {
  const admin = session.logins.find((login) => login.username === 'admin');
  if (!admin) throw new Error('the demo has no admin');
  await page.goto('/login');
  await page.locator('#username').fill(admin.username);
  await page.locator('#password').fill(admin.password);
  const [response] = await Promise.all([page.waitForResponse((answer) => new URL(answer.url()).pathname === '/login/second-factor'), page.locator('form[action="/login"] button[type="submit"]').click()]);
  await page.waitForLoadState();
  return response;
}

/** "Générer de nouveaux codes" pressed on the security page: the answer shows the new codes, once. */
async function newRecoveryCodes(page: Page): Promise<Response | null> {
  await page.goto('/account/security');
  const [response] = await Promise.all([
    page.waitForResponse((answer) => answer.url().endsWith('/account/security/recovery-codes') && answer.request().method() === 'POST'),
    page.locator('form[action="/account/security/recovery-codes"] button[type="submit"]').click(),
  ]);
  await page.waitForLoadState();
  return response;
}

/**
 * `username` adds an authenticator app through the browser, as a person with a phone would (the key
 * read under the QR code, the code of the portal's clock typed), in a session opened before: from
 * then on their sign-in asks for it, while that session goes on.
 */
async function addAuthenticatorApp(session: PortalInBrowser, username: string): Promise<void> {
  const { page, context } = await session.open({ width: 1280, as: username });
  try {
    await page.goto('/account/security/totp');
    const secret = (await page.locator('.totp-qr__secret').innerText()).replace(/\s/g, '');
    await page.locator('#name').fill('Téléphone');
    await page.locator('#code').fill(totpCodeAt(secret, session.portal.clock.now()));
    await page.locator('form[action="/account/security/totp"] button[type="submit"]').click();
    await page.waitForLoadState();
    if ((await page.locator('.recovery-codes li').count()) !== 10) throw new Error(`no recovery codes shown after ${username} added the authenticator app`);
  } finally {
    await context.close();
  }
}

/**
 * The second factor's pages: the admin and the IT person each add an app, after every other
 * preparation has signed them in (the admin's person page of the IT person then shows the factor and
 * the reset). Returns how the pages are reached.
 */
export async function prepareSecondFactorPages(session: PortalInBrowser, itPerson: string) {
  await addAuthenticatorApp(session, 'admin');
  await addAuthenticatorApp(session, itPerson);
  return { secondStep: (page: Page) => secondStep(page, session), newRecoveryCodes };
}
