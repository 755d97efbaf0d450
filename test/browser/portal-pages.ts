import type { Page, Response } from 'playwright-core';
import { demoProviderButton, type Locale, type OpenedPage, type PortalInBrowser } from './portal-in-browser.js';
import { DEMO_API_KEY_NAME } from '../../src/services/demo/demo.js';
import { recordUsage } from '../../src/services/print-api/usage-debits.js';
import { prepareVoucherPages } from './voucher-pages.js';
import { prepareSecondFactorPages } from './second-factor-pages.js';

/** The two widths every page is looked at: a small phone and a laptop. */
export const WIDTHS = [360, 1280] as const;

export interface PortalPage {
  name: string;
  /** A path of the portal, or a whole URL for a page of another origin (the demo CAS server's). */
  path: string;
  /**
   * Who looks at it (a demo username, or a demo CAS person's user); nobody when absent. Per language
   * for a person whose institution sets their language: their pages are in it, whatever the browser asks.
   */
  as?: string | Readonly<Record<Locale, string>>;
  /** What the portal answers; 200 when absent. */
  status?: number;
  /**
   * How the person reaches the page when its address alone does not show it: the answer to a form, or
   * a quote's page that only the browser which looked the quote up may see (the access is a cookie of
   * that browser). Done in the person's browser; answers the page it leads to.
   */
  reach?: (page: Page) => Promise<Response | null>;
}

/** Opens the page as its person would: at its address, or the way `reach` says. Answers what the portal answered. */
export const openPortalPage = (page: Page, entry: PortalPage): Promise<Response | null> => (entry.reach ? entry.reach(page) : page.goto(entry.path));

/** The example theme, looked at on the account page. */
export const EXAMPLE_THEME = 'campus';

/** The demo CAS server's people the pages show signed in through the demo provider, by the language their institution gives them. */
export const DEMO_CAS_USERS: Readonly<Record<Locale, string>> = { fr: 'camille.etudiante', en: 'alex.teacher' };

/** Who looks at a page in a language. */
export const viewerOf = (page: PortalPage, locale: Locale): string | undefined => (typeof page.as === 'object' ? page.as[locale] : page.as);

/** Every page of the demo portal a person can open: each is checked in French and in English. */
export const PAGE_NAMES = [
  'login',
  'demo-cas-login',
  'account',
  'account-history',
  'my-account',
  'my-account-institution',
  'low-balance-alert',
  'credit-refund',
  'personal-data',
  'topup',
  'terms',
  'basket',
  'order-paid',
  'order-cancelled',
  'receipt',
  'not-found',
  'admin-dashboard',
  'admin-prices',
  'admin-prices-preview',
  'admin-terms',
  'admin-terms-version',
  'admin-people',
  'admin-person',
  'admin-person-linked',
  'admin-people-import',
  'admin-people-import-checked',
  'admin-orders',
  'admin-order',
  'admin-credit-refunds',
  'admin-credit-refund',
  'admin-vouchers',
  'admin-voucher-batch',
  'voucher-redemption',
  'voucher-redemption-refused',
  'voucher-buy',
  'voucher-purchases',
  'admin-mails',
  'admin-mail',
  'admin-reports',
  'admin-api-keys',
  'admin-print-jobs',
  'admin-audit',
  'admin-sign-in',
  'it-branding',
  'desk-quotes',
  'desk-quote-new',
  'desk-quote',
  'desk-quote-sent',
  'desk-quote-paid',
  'quote-lookup',
  'quote-lookup-refused',
  'quote',
  'quote-units',
  'quote-paid',
  'security',
  'totp-enrolment',
  'recovery-codes',
  'second-factor',
  'admin-person-second-factor',
] as const;

export type PageName = (typeof PAGE_NAMES)[number];

/** The main pages saved by `npm run screenshots`, as docs/screenshots/<file>-<width>.png. */
export const SCREENSHOTS: ReadonlyArray<{ page: PageName; locale: Locale; file: string }> = [
  ...(
    [
      'login',
      'demo-cas-login',
      'account',
      'account-history',
      'my-account',
      'my-account-institution',
      'topup',
      'basket',
      'order-paid',
      'receipt',
      'admin-dashboard',
      'admin-prices',
      'admin-orders',
      'admin-api-keys',
      'admin-print-jobs',
      'admin-mails',
      'admin-mail',
      'admin-sign-in',
      'admin-person-linked',
      'it-branding',
      'desk-quote-new',
      'desk-quote',
      'desk-quote-sent',
      'desk-quote-paid',
      'quote-lookup',
      'quote',
      'quote-paid',
      'low-balance-alert',
      'credit-refund',
      'personal-data',
      'admin-credit-refund',
      'admin-vouchers',
      'admin-voucher-batch',
      'voucher-redemption',
      'voucher-buy',
      'voucher-purchases',
      'security',
      'totp-enrolment',
      'second-factor',
      'admin-person-second-factor',
    ] as const
  ).map((page) => ({ page, locale: 'fr' as const, file: page })),
  { page: 'account', locale: 'en', file: 'account-en' },
  { page: 'login', locale: 'en', file: 'login-en' },
];

/** Another device of the student's, so that "Mon compte" lists two sessions: Firefox on an Android phone. */
const PHONE_USER_AGENT = 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0';

/** A people file the import accepts: two new people, one with an opening balance. */
const PEOPLE_CSV = 'username,name,email,role,opening balance\nlea.moreau,Léa Moreau,lea.moreau@example.edu,user,5\ntom.petit,Tom Petit,tom.petit@example.edu,user,\n';

/**
 * Puts the portal in the state the pages need, through the browser as each person would: as the
 * student, one order left at its recap (offer chosen, terms accepted), one paid on the simulator's
 * approval page (its receipt mailed, that is kept in demo mode), one cancelled there, and a second
 * session on a phone; a person of the demo CAS server signed in through the login page's button
 * (their account made then); as the admin, two print-server keys (one revoked), a price list
 * previewed and not published, a people file checked and not imported, every sign-in provider
 * tested, two quotes typed at the desk (one sent); as the reprography desk's person, a third typed
 * and sent, which its customer, without an account, looks up and pays on the simulator's approval
 * page; through the demo key, a print job of the student's with its printer, colour and sides, and a
 * refused one. The demo's own quotes (seeded as `npm start` does) are left as they are. Returns where
 * each page is.
 */
export async function preparePortalPages(session: PortalInBrowser): Promise<Map<PageName, PortalPage>> {
  const opened = await session.open({ width: 1280, as: 'etudiant' });
  const { page } = opened;
  let student: { basket: string; paid: string; cancelled: string; creditRefund: string };
  try {
    const basket = await placeOrder(page, 'pack-20');
    const paid = await placeOrder(page, 'pack-10');
    await payOnApprovalPage(page, paid);
    const cancelled = await placeOrder(page, 'pack-5');
    await cancelOnApprovalPage(page, cancelled);
    await refuseCspViolations(opened, 'the student');
    // A refund of the student's unused credit asked, waiting for an admin: the admins' page of it.
    await page.goto('/account/refund');
    await Promise.all([page.waitForURL(/notice=requested/), page.locator('form[action="/account/refund"] button[type="submit"]').click()]);
    const creditRefund = /n° (\d+)/.exec(await page.locator('#ask-title + p').innerText())?.[1];
    if (!creditRefund) throw new Error('no refund request shown after asking');
    // A low-balance alert set (below the student's balance): its page shows the threshold and the button that turns it off.
    await page.goto('/account/low-balance-alert');
    await page.locator('#threshold').fill('1');
    await Promise.all([page.waitForURL(/notice=saved/), page.locator('form[action="/account/low-balance-alert"] button[type="submit"]').click()]);
    student = { basket, paid, cancelled, creditRefund: `/admin/credit-refunds/${creditRefund}` };
  } finally {
    await opened.context.close();
  }
  const phone = await session.open({ width: 360, as: 'etudiant', newSession: true, userAgent: PHONE_USER_AGENT });
  await refuseCspViolations(phone, 'the student on a phone');
  await phone.context.close();
  const demoCasLogin = await prepareInstitutionPages(session);
  const admin = await prepareAdminPages(session);
  const vouchers = await prepareVoucherPages(session);
  const mail = await receiptMail(session);
  const printJobs = await preparePrintJobPages(session);
  const brandingViewer = session.logins.find((login) => login.role === 'it')?.username ?? 'admin';
  const desk = session.logins.find((login) => login.quoteDesk)?.username;
  if (!desk) throw new Error('no demo login of the reprography desk');
  const paidQuote = await prepareQuotePages(session, desk);
  // Last: from then on the admin's sign-in asks for their factor (their open session goes on).
  const secondFactor = await prepareSecondFactorPages(session, brandingViewer);
  const { payable, forStudent } = session.quotes;
  const orderNumber = student.paid.slice('/orders/'.length);
  const pages: Record<PageName, Omit<PortalPage, 'name'>> = {
    login: { path: '/login' },
    'demo-cas-login': { path: demoCasLogin },
    account: { path: '/account', as: 'etudiant' },
    'account-history': { path: '/account/history', as: 'etudiant' },
    'my-account': { path: '/account/settings', as: 'etudiant' },
    'my-account-institution': { path: '/account/settings', as: DEMO_CAS_USERS },
    'low-balance-alert': { path: '/account/low-balance-alert', as: 'etudiant' },
    'credit-refund': { path: '/account/refund', as: 'etudiant' },
    'personal-data': { path: '/account/data', as: 'etudiant' },
    topup: { path: '/topup', as: 'etudiant' },
    terms: { path: '/terms', as: 'etudiant' },
    basket: { path: student.basket, as: 'etudiant' },
    'order-paid': { path: student.paid, as: 'etudiant' },
    'order-cancelled': { path: student.cancelled, as: 'etudiant' },
    receipt: { path: `${student.paid}/receipt`, as: 'etudiant' },
    'not-found': { path: '/orders/R-2026-999999', as: 'etudiant', status: 404 },
    'admin-dashboard': { path: '/admin', as: 'admin' },
    'admin-prices': { path: '/admin/prices', as: 'admin' },
    'admin-prices-preview': { path: admin.pricePreview, as: 'admin' },
    'admin-terms': { path: '/admin/terms', as: 'admin' },
    'admin-terms-version': { path: admin.termsVersion, as: 'admin' },
    'admin-people': { path: '/admin/people', as: 'admin' },
    'admin-person': { path: '/admin/people/etudiant', as: 'admin' },
    'admin-person-linked': { path: `/admin/people/${DEMO_CAS_USERS.fr}`, as: 'admin' },
    'admin-people-import': { path: '/admin/people-import', as: 'admin' },
    'admin-people-import-checked': { path: admin.peopleImport, as: 'admin' },
    'admin-orders': { path: '/admin/orders', as: 'admin' },
    'admin-order': { path: `/admin/orders/${orderNumber}`, as: 'admin' },
    'admin-credit-refunds': { path: '/admin/credit-refunds', as: 'admin' },
    'admin-credit-refund': { path: student.creditRefund, as: 'admin' },
    'admin-vouchers': { path: '/admin/vouchers', as: 'admin' },
    'admin-voucher-batch': { path: vouchers.batch, as: 'admin' },
    'voucher-redemption': { path: '/topup/voucher', as: 'etudiant', reach: vouchers.redeemed },
    'voucher-redemption-refused': { path: '/topup/voucher', as: 'etudiant', status: 400, reach: vouchers.refused },
    'voucher-buy': { path: '/vouchers/buy', as: desk, reach: vouchers.priced },
    'voucher-purchases': { path: '/vouchers/purchases', as: desk },
    'admin-mails': { path: '/admin/mails', as: 'admin' },
    'admin-mail': { path: mail, as: 'admin' },
    'admin-reports': { path: '/admin/reports', as: 'admin' },
    'admin-api-keys': { path: '/admin/api-keys', as: 'admin' },
    'admin-print-jobs': { path: printJobs, as: 'admin' },
    'admin-audit': { path: '/admin/audit', as: 'admin' },
    'admin-sign-in': { path: '/admin/sign-in', as: 'admin' },
    'it-branding': { path: '/it/branding', as: brandingViewer },
    'desk-quotes': { path: '/desk/quotes', as: 'admin' },
    'desk-quote-new': { path: '/desk/quotes/new', as: 'admin' },
    'desk-quote': { path: admin.quote, as: 'admin' },
    'desk-quote-sent': { path: admin.sentQuote, as: 'admin' },
    'desk-quote-paid': { path: `/desk/quotes/${paidQuote.number}`, as: desk },
    // As the quote's mail's "Payer maintenant" opens it: the number filled in, the postcode to type.
    'quote-lookup': { path: `/quotes/lookup?number=${payable.number}` },
    'quote-lookup-refused': { path: '/quotes/lookup', status: 404, reach: (page) => lookUpQuote(page, payable.number, NO_DEMO_QUOTES_POSTCODE) },
    quote: { path: `/quotes/${payable.number}`, reach: (page) => lookUpQuote(page, payable.number, payable.postcode) },
    'quote-units': { path: `/quotes/${forStudent.number}`, as: forStudent.username },
    'quote-paid': { path: `/quotes/${paidQuote.number}`, reach: (page) => lookUpQuote(page, paidQuote.number, paidQuote.postcode) },
    security: { path: '/account/security', as: 'admin' },
    'totp-enrolment': { path: '/account/security/totp', as: 'admin' },
    'recovery-codes': { path: '/account/security/recovery-codes', as: 'admin', reach: secondFactor.newRecoveryCodes },
    // Last of the list: the visitors' browser is then left waiting for the admin's factor.
    'second-factor': { path: '/login/second-factor', reach: secondFactor.secondStep },
    // The IT person's page: their authenticator app, their recovery codes left, and the reset.
    'admin-person-second-factor': { path: `/admin/people/${brandingViewer}`, as: 'admin' },
  };
  return new Map(PAGE_NAMES.map((name) => [name, { name, ...pages[name] }]));
}

/** Chooses an offer on the top-up page, accepts the terms and continues; returns the recap page's path. */
export async function placeOrder(page: Page, offer: string): Promise<string> {
  await page.goto('/topup');
  await page.locator('label.offer', { has: page.locator(`input[name="offer"][value="${offer}"]`) }).click();
  await page.locator('input[name="terms"]').check();
  await Promise.all([page.waitForURL(/\/orders\/[^/]+$/), page.locator('form[action="/topup"] .actions button[type="submit"]').click()]);
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

/** Presses "Pay with PayPal" on the recap page, then "Cancel" on the simulator's approval page, and waits to be back on the top-up page. */
async function cancelOnApprovalPage(page: Page, orderPath: string): Promise<void> {
  await page.goto(orderPath);
  await Promise.all([page.waitForURL(/\/checkoutnow\?/), page.locator(`form[action="${orderPath}/pay"] button`).click()]);
  await Promise.all([page.waitForURL((url) => url.pathname === '/topup'), page.locator('form[action="/checkoutnow/cancel"] button').click()]);
}

/**
 * The demo CAS server's people sign in through the login page's button (their accounts are made then,
 * linked to the demo provider); returns the address of the demo CAS server's page that the button
 * leads to, as a visitor reaches it.
 */
async function prepareInstitutionPages(session: PortalInBrowser): Promise<string> {
  for (const user of Object.values(DEMO_CAS_USERS)) {
    const signedIn = await session.open({ width: 1280, as: user });
    await refuseCspViolations(signedIn, `${user} signing in through the demo CAS server`);
    await signedIn.context.close();
  }
  const visitor = await session.open({ width: 1280 });
  try {
    await visitor.page.goto('/login');
    await Promise.all([visitor.page.waitForURL((url) => url.href.startsWith(`${session.demoCas.url}/login?`)), demoProviderButton(visitor.page).click()]);
    return visitor.page.url();
  } finally {
    await visitor.context.close();
  }
}

/**
 * As the admin: two print-server keys created through the form and the first revoked, so the list shows
 * both states (the demo's own key stays as it is); the online price list previewed; a people file
 * checked. Returns the pages that only exist afterwards.
 */
async function prepareAdminPages(session: PortalInBrowser): Promise<{ pricePreview: string; termsVersion: string; peopleImport: string; quote: string; sentQuote: string }> {
  const opened = await session.open({ width: 1280, as: 'admin' });
  const { page } = opened;
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

    await page.goto('/admin/prices');
    await Promise.all([page.waitForURL(/\/admin\/prices\/drafts\/\d+$/), page.locator('form[action="/admin/prices"] button[type="submit"]').click()]);
    const pricePreview = new URL(page.url()).pathname;

    await page.goto('/admin/terms');
    const termsVersion = await page.locator('a[href^="/admin/terms/versions/"]').first().getAttribute('href');
    if (!termsVersion) throw new Error('no terms version listed on /admin/terms');

    // Every provider tested, so that the sign-in page shows each one's health (the directory unreachable).
    await page.goto('/admin/sign-in');
    // The test's answer is the page itself, with the results.
    await Promise.all([page.waitForURL((url) => url.pathname === '/admin/sign-in/test'), page.locator('form[action="/admin/sign-in/test"] button[type="submit"]').click()]);

    await page.goto('/admin/people-import');
    await page.locator('#file').setInputFiles({ name: 'personnes.csv', mimeType: 'text/csv', buffer: Buffer.from(PEOPLE_CSV) });
    await Promise.all([page.waitForURL(/\/admin\/people-import\/\d+$/), page.locator('form[action="/admin/people-import"] button[type="submit"]').click()]);
    const peopleImport = new URL(page.url()).pathname;

    // A quote of the reprography desk, typed in its form: printing and binding at two VAT rates.
    const quote = await saveQuote(page, {
      name: 'Camille Martin',
      email: 'camille.martin@example.edu',
      postcode: '75005',
      'description-0': 'Thèse, impression couleur, 120 pages',
      'quantity-0': '3',
      'unitPrice-0': '18,40',
      'description-1': 'Reliure thermocollée',
      'quantity-1': '3',
      'unitPrice-1': '4,50',
      'vatRate-1': '5,5',
    });
    // The same quote typed again and sent to the customer: its page once sent, with "Renvoyer" and the timeline.
    const sentQuote = await saveQuote(
      page,
      { name: 'Alex Smith', email: 'alex.smith@example.org', postcode: 'SW1A 1AA', 'description-0': 'Poster A0, papier satiné', 'quantity-0': '2', 'unitPrice-0': '24,00' },
      { locale: 'en' },
    );
    await sendQuote(page);
    await refuseCspViolations(opened, 'the admin');
    return { pricePreview, termsVersion, peopleImport, quote, sentQuote };
  } finally {
    await opened.context.close();
  }
}

/** A quote paid online while preparing: posters and proceedings for a laboratory, sent by post, at two VAT rates. */
const PAID_QUOTE: Readonly<Record<string, string>> = {
  name: 'Hugo Lambert',
  email: 'hugo.lambert@example.org',
  postcode: '69007',
  deliveryAddress: 'Laboratoire de physique\n46 allée d’Italie\n69007 Lyon',
  'description-0': 'Poster scientifique A0, papier satiné',
  'quantity-0': '2',
  'unitPrice-0': '24,00',
  'description-1': 'Actes du colloque, 80 pages couleur, reliés',
  'quantity-1': '5',
  'unitPrice-1': '14,60',
  'vatRate-1': '5,5',
};

/** A postcode none of the demo's quotes has: the lookup refuses it. */
export const NO_DEMO_QUOTES_POSTCODE = '13001';

/**
 * As the desk person, the quote PAID_QUOTE typed in the form and sent; as its customer, without an
 * account, looked up and paid on the simulator's approval page. Answers its number and postcode.
 */
async function prepareQuotePages(session: PortalInBrowser, desk: string): Promise<{ number: string; postcode: string }> {
  const staff = await session.open({ width: 1280, as: desk });
  let number: string;
  try {
    number = (await saveQuote(staff.page, PAID_QUOTE, { deliveryMethod: 'post' })).slice('/desk/quotes/'.length);
    await sendQuote(staff.page);
    await refuseCspViolations(staff, 'the desk person');
  } finally {
    await staff.context.close();
  }
  const postcode = PAID_QUOTE.postcode!;
  const customer = await session.open({ width: 1280 });
  try {
    await lookUpQuote(customer.page, number, postcode);
    await payQuoteOnApprovalPage(customer.page, number);
    await refuseCspViolations(customer, 'the customer paying a quote');
  } finally {
    await customer.context.close();
  }
  return { number, postcode };
}

/** The desk's form for a new quote: each field (by id) typed, each radio (by name) set to its value, saved as a draft. Answers the quote's page. */
async function saveQuote(page: Page, fields: Readonly<Record<string, string>>, radios: Readonly<Record<string, string>> = {}): Promise<string> {
  await page.goto('/desk/quotes/new');
  for (const [field, value] of Object.entries(fields)) await page.locator(`#${field}`).fill(value);
  for (const [name, value] of Object.entries(radios)) await page.locator(`input[name="${name}"][value="${value}"]`).check();
  await Promise.all([page.waitForURL(/\/desk\/quotes\/D-\d{4}-\d{6}\?notice=created$/), page.locator('button[name="action"][value="save"]').click()]);
  return new URL(page.url()).pathname;
}

/** "Envoyer" on the quote's page, open in `page`. */
async function sendQuote(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(/\?notice=sent$/), page.locator('form[action$="/send"] button').click()]);
}

/**
 * "Recherche de commande" as a customer fills it: the number and the postcode typed, the button
 * pressed. Answers the page it leads to: the quote's, or the form again saying why not.
 */
export async function lookUpQuote(page: Page, number: string, postcode: string): Promise<Response> {
  await page.goto('/quotes/lookup');
  await page.locator('#number').fill(number);
  await page.locator('#postcode').fill(postcode);
  return answerTo(page, () => page.locator('form[action="/quotes/lookup"] button[type="submit"]').click());
}

/** What the portal answers to `act` (a click that sends a form), redirects followed, once the page it shows has loaded. */
async function answerTo(page: Page, act: () => Promise<void>): Promise<Response> {
  const shown = (response: Response) => response.request().isNavigationRequest() && response.request().frame() === page.mainFrame() && (response.status() < 300 || response.status() >= 400);
  const [response] = await Promise.all([page.waitForResponse(shown), page.waitForEvent('load'), act()]);
  return response;
}

/** On the quote's page, open in `page`: the terms accepted, "Passer au paiement", then "Pay" on the simulator's approval page; waits to be back on the quote, paid. */
export async function payQuoteOnApprovalPage(page: Page, number: string): Promise<void> {
  const quotePath = `/quotes/${number}`;
  await page.locator('input[name="terms"]').check();
  await Promise.all([page.waitForURL(/\/checkoutnow\?/), page.locator(`form[action="${quotePath}/pay"] button`).click()]);
  await Promise.all([page.waitForURL((url) => url.pathname === quotePath), page.locator('form[action="/checkoutnow/approve"] button').click()]);
  const status = await page.locator('#quote-status').getAttribute('class');
  if (!status?.includes('status--paid')) throw new Error(`the quote ${number} is not paid after approval: ${status}`);
}

/** The pages walked through while preparing are held to the same rule as the pages checked: no CSP violation. */
async function refuseCspViolations(opened: OpenedPage, who: string): Promise<void> {
  const heard = await opened.cspViolations();
  if (heard.length > 0) throw new Error(`CSP violations while preparing the pages as ${who}:\n${heard.join('\n')}`);
}

/**
 * The student's last print jobs as a CUPS backend reports them, through the demo key: one printed in
 * colour on both sides (its printer, colour and sides shown in the history and on the account page),
 * then one refused for want of credit (the history's section of refused jobs). Answers the admin's
 * page of the demo key's jobs, which lists both among the demo's older debits.
 */
async function preparePrintJobPages(session: PortalInBrowser): Promise<string> {
  const { db, clock, ledger, users } = session.portal;
  const key = (await db.knex('api_keys').where('name', DEMO_API_KEY_NAME).first('id')) as { id: unknown } | undefined;
  const student = await users.findUser('etudiant');
  if (!key || !student) throw new Error('no demo key or no demo student to record print jobs with');
  const account = await ledger.userAccount(student.id);
  // At the portal's (fixed) now, like the top-up paid while preparing: the history reads in order.
  const printedAt = clock.now();
  const request = { apiKeyId: Number(key.id), accountId: account.id, category: 'print' as const, amount: 135, pages: 3, reference: 'print1:b112:1042', ledgerKey: 'pages:print1:b112:1042' };
  const printed = await db.transaction((trx) => recordUsage(trx, request, printedAt));
  await db.knex('usage_debits').where('id', printed.id).update({ printer: 'b112', colour: true, duplex: true });
  await db.knex('usage_refusals').insert({
    api_key_id: Number(key.id),
    account_id: account.id,
    category: 'print',
    reason: 'insufficient_balance',
    amount: 4_800,
    balance_seen: account.balance - 135,
    pages: 96,
    printer: 'b112',
    colour: true,
    duplex: false,
    reference: 'print1:b112:1043',
    created_at: printedAt.toISOString(),
  });
  return `/admin/api-keys/${Number(key.id)}/jobs`;
}

/** The admin's page of the paid order's receipt mail, kept as in the demo (the test portal delivers only when asked). */
async function receiptMail(session: PortalInBrowser): Promise<string> {
  await session.portal.mail.deliverDue();
  // The newest receipt's: quotes sent since have mails of their own.
  const row = (await session.portal.db
    .knex('mail_outbox')
    .join('documents', 'documents.id', 'mail_outbox.document_id')
    .where('documents.kind', 'receipt')
    .orderBy('mail_outbox.id', 'desc')
    .first('mail_outbox.id as id')) as { id: unknown } | undefined;
  if (!row) throw new Error('no receipt mail queued after the payment');
  return `/admin/mails/${Number(row.id)}`;
}
