import type { Page } from 'playwright-core';
import type { Locale, PortalInBrowser } from './portal-in-browser.js';

/** The two widths every page is looked at: a small phone and a laptop. */
export const WIDTHS = [360, 1280] as const;

export interface PortalPage {
  /** The screenshot's name: docs/screenshots/<name>-<width>.png. */
  name: string;
  path: string;
  as?: string;
  locale: Locale;
}

/** The example theme, looked at on the account page. */
export const EXAMPLE_THEME = 'campus';

/** The pages of the demo portal, in French, plus the account page in English. */
export const PAGE_NAMES = [
  'login',
  'account',
  'topup',
  'basket',
  'order-paid',
  'receipt',
  'admin-dashboard',
  'admin-orders',
  'admin-api-keys',
  'admin-mails',
  'admin-mail',
  'it-branding',
  'account-en',
] as const;

/**
 * Puts the portal in the state the pages need, through the browser as the student would: one order
 * left at its recap (offer chosen, terms accepted), one paid on the simulator's approval page (its
 * receipt mailed, that is kept in demo mode); and as the admin, two print-server keys, one of them
 * revoked. Returns where each page is.
 */
export async function preparePortalPages(session: PortalInBrowser): Promise<Map<string, PortalPage>> {
  const { page, context } = await session.open({ width: 1280, as: 'etudiant' });
  try {
    const basket = await placeOrder(page, 'pack-20');
    const paid = await placeOrder(page, 'pack-10');
    await payOnApprovalPage(page, paid);
    await prepareApiKeys(session);
    const mail = await receiptMail(session);
    const brandingViewer = session.logins.find((login) => login.role === 'it')?.username ?? 'admin';
    const pages: PortalPage[] = [
      { name: 'login', path: '/login', locale: 'fr' },
      { name: 'account', path: '/account', as: 'etudiant', locale: 'fr' },
      { name: 'topup', path: '/topup', as: 'etudiant', locale: 'fr' },
      { name: 'basket', path: basket, as: 'etudiant', locale: 'fr' },
      { name: 'order-paid', path: paid, as: 'etudiant', locale: 'fr' },
      { name: 'receipt', path: `${paid}/receipt`, as: 'etudiant', locale: 'fr' },
      { name: 'admin-dashboard', path: '/admin', as: 'admin', locale: 'fr' },
      { name: 'admin-orders', path: '/admin/orders', as: 'admin', locale: 'fr' },
      { name: 'admin-api-keys', path: '/admin/api-keys', as: 'admin', locale: 'fr' },
      { name: 'admin-mails', path: '/admin/mails', as: 'admin', locale: 'fr' },
      { name: 'admin-mail', path: mail, as: 'admin', locale: 'fr' },
      { name: 'it-branding', path: '/it/branding', as: brandingViewer, locale: 'fr' },
      { name: 'account-en', path: '/account', as: 'etudiant', locale: 'en' },
    ];
    return new Map(pages.map((entry) => [entry.name, entry]));
  } finally {
    await context.close();
  }
}

/** Chooses an offer on the top-up page, accepts the terms and continues; returns the recap page's path. */
export async function placeOrder(page: Page, offer: string): Promise<string> {
  await page.goto('/topup');
  await page.locator('label.offer', { has: page.locator(`input[name="offer"][value="${offer}"]`) }).click();
  await page.locator('input[name="terms"]').check();
  await Promise.all([page.waitForURL(/\/orders\/[^/]+$/), page.locator('form[action="/topup"] button[type="submit"]').click()]);
  return new URL(page.url()).pathname;
}

/** Presses "Pay with PayPal" on the recap page, then "Pay" on the simulator's approval page, and waits to be back on the paid order. */
export async function payOnApprovalPage(page: Page, orderPath: string): Promise<void> {
  await page.goto(orderPath);
  await Promise.all([page.waitForURL(/\/checkoutnow\?/), page.locator(`form[action="${orderPath}/pay"] button`).click()]);
  await Promise.all([page.waitForURL((url) => url.pathname === orderPath), page.locator('form[action="/checkoutnow/approve"] button').click()]);
  const status = await page.locator('#order-status').getAttribute('class');
  if (!status?.includes('status--paid')) throw new Error(`the order at ${orderPath} is not paid after approval: ${status}`);
}

/** Creates two print-server keys through the admin's form and revokes the first, so the list shows both states (the demo's own key stays as it is). */
async function prepareApiKeys(session: PortalInBrowser): Promise<void> {
  const { page, context } = await session.open({ width: 1280, as: 'admin' });
  try {
    for (const name of ['Bibliothèque – salle B', 'Reprographie']) {
      await page.goto('/admin/api-keys');
      await page.locator('#name').fill(name);
      await page.locator('form[action="/admin/api-keys"] button[type="submit"]').click();
      // The answer to the form is the page showing the new key, at the same address.
      if (!(await page.locator('#secret').inputValue()).startsWith('rk_')) throw new Error(`no key shown after creating ${name}`);
    }
    await page.goto('/admin/api-keys');
    await Promise.all([page.waitForURL(/notice=revoked/), page.getByRole('button', { name: /Bibliothèque – salle B/ }).click()]);
  } finally {
    await context.close();
  }
}

/** The admin's page of the paid order's receipt mail, kept as in the demo (the test portal delivers only when asked). */
async function receiptMail(session: PortalInBrowser): Promise<string> {
  await session.portal.mail.deliverDue();
  const row = (await session.portal.db.knex('mail_outbox').orderBy('id', 'desc').first('id')) as { id: unknown } | undefined;
  if (!row) throw new Error('no receipt mail queued after the payment');
  return `/admin/mails/${Number(row.id)}`;
}
