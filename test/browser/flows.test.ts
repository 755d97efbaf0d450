import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { DEMO_PRICE_LIST } from '../../src/services/demo/demo.js';
import { quoteTotals, type QuoteLine } from '../../src/domain/quotes/quote-totals.js';
import { decimalText } from '../../src/domain/shared/decimal.js';
import { createTranslations } from '../../src/i18n/index.js';
import { formatDateTime, formatMoney, formatUnits } from '../../src/i18n/format.js';
import { readPdf } from '../helpers/pdf-text.js';
import { expectNoAxeViolations } from './accessibility.js';
import { DEMO_CAS_PEOPLE } from '../../src/identity/cas/demo-cas-server.js';
import { demoProviderButton, startPortalInBrowser, type OpenedPage, type PageOptions, type PortalInBrowser } from './portal-in-browser.js';
import { lookUpQuote, NO_DEMO_QUOTES_POSTCODE } from './portal-pages.js';

/**
 * The journeys of the issue, driven in Chromium like a person: clicks on what the page names (links,
 * buttons, labels in the portal's French), typing, files chosen. Each flow has a demo portal of its
 * own, so whatever it changes (a balance, the prices, the look) no other flow or page check sees,
 * whatever the order they run in; every page a flow reaches in a new state passes axe-core, and no
 * browser context of the flow hears a Content-Security-Policy violation.
 */

const t = createTranslations()('fr');
const money = (cents: number) => formatMoney(cents, DEMO_PRICE_LIST.settings.currency, 'fr');

/** The simulator's own French labels on its approval page, as PayPal's page would name its buttons. */
const APPROVE = 'Payer';
const CANCEL = 'Annuler et revenir';

function demoPack(id: string) {
  const pack = DEMO_PRICE_LIST.packs.find((candidate) => candidate.id === id);
  if (!pack) throw new Error(`no demo pack ${id}`);
  return pack;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Accessible names are compared with their spaces collapsed; prices have no-break spaces. */
const startingWith = (text: string) => new RegExp(`^${escapeRegExp(text).replace(/\s+/g, '\\s+')}`);
const collapsed = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Clicks and waits for the page the click leads to. */
async function clickTo(page: Page, target: Locator, where: string | RegExp | ((url: URL) => boolean)): Promise<void> {
  await Promise.all([page.waitForURL(typeof where === 'string' ? (url) => url.pathname === where : where), target.click()]);
}

const pathOf = (page: Page) => new URL(page.url()).pathname;

async function balanceOn(page: Page): Promise<{ hundredths: number; shown: string }> {
  const value = page.locator('.balance__value');
  return { hundredths: Number(await value.getAttribute('data-balance')), shown: collapsed(await value.innerText()) };
}

async function expectText(locator: Locator, text: string, what: string): Promise<void> {
  expect(collapsed(await locator.innerText()), what).to.include(collapsed(text));
}

/** The header's link to a part of the portal. */
const headerLink = (page: Page, name: string) => page.locator('header.site-header').getByRole('link', { name, exact: true });

/** The value of a term in a description list of the page. */
const definition = (scope: Locator, term: string) => scope.locator('dl > div', { has: scope.page().locator('dt', { hasText: term }) }).locator('dd');

/** Presses Tab, as few times as it takes, until `target` has the focus, and checks that the focus shows; fails if focus leaves the page first. */
async function tabTo(page: Page, target: Locator, what: string): Promise<void> {
  for (let step = 0; step < 40; step += 1) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((element) => element === document.activeElement)) {
      const indicator = await target.evaluate((element) => ({ outline: getComputedStyle(element).outlineStyle, boxShadow: getComputedStyle(element).boxShadow }));
      expect(indicator.outline !== 'none' || indicator.boxShadow !== 'none', `no focus indicator on ${what}: ${JSON.stringify(indicator)}`).to.equal(true);
      return;
    }
    if (await page.evaluate(() => document.activeElement === null || document.activeElement === document.body)) break;
  }
  throw new Error(`Tab never reached ${what}`);
}

/** The flow's own portal and the people in it, each in a browser context that listens for CSP violations. */
function ownPortal() {
  let session: PortalInBrowser;
  const people: OpenedPage[] = [];
  before(async () => {
    session = await startPortalInBrowser();
  });
  after(() => session?.close());
  return {
    get session() {
      return session;
    },
    /** Logs in as this demo person through the login form; the page is where the form led (the account page). */
    async logIn(username: string): Promise<Page> {
      const opened = await session.open({ width: 1280, as: username });
      people.push(opened);
      expect(pathOf(opened.page), `where ${username} lands after logging in`).to.equal('/account');
      return opened.page;
    },
    /** A browser of its own (signed in when asked, as `open` does), listened to for CSP violations like the others. */
    async open(options: Partial<PageOptions> = {}): Promise<Page> {
      const opened = await session.open({ width: 1280, ...options });
      people.push(opened);
      return opened.page;
    },
    async expectNoCspViolation(): Promise<void> {
      for (const opened of people) expect(await opened.cspViolations(), 'CSP violations during the flow').to.deep.equal([]);
    },
  };
}

describe('flows in Chromium', function () {
  // Each flow starts a portal and Chromium, logs people in and runs axe-core on several pages.
  this.timeout(180_000);

  describe('a student tops up through the simulator’s approval page', () => {
    const portal = ownPortal();

    it('pays, comes back to the order paid, sees the units and bonus credited, the receipt and its PDF', async () => {
      const pack = demoPack('pack-20');
      const page = await portal.logIn('etudiant');
      const before = await balanceOn(page);
      await expectNoAxeViolations(page, 'the account page');

      await clickTo(page, page.getByRole('link', { name: t('account.topUp') }), '/topup');
      await expectNoAxeViolations(page, 'the top-up page');
      await page.getByRole('radio', { name: startingWith(money(pack.priceCents)) }).check();
      await page.getByRole('checkbox', { name: t('topup.acceptTerms') }).check();
      await clickTo(page, page.getByRole('button', { name: t('topup.continue'), exact: true }), /\/orders\/R-\d{4}-\d+$/);
      const orderPath = pathOf(page);
      const number = orderPath.slice('/orders/'.length);
      await expectText(page.locator('main'), money(pack.priceCents), 'the basket');

      await clickTo(page, page.getByRole('button', { name: t('order.pay'), exact: true }), '/checkoutnow');
      await expectText(page.locator('main'), money(pack.priceCents), 'the amount on the approval page');
      await expectNoAxeViolations(page, 'the simulator’s approval page');
      await clickTo(page, page.getByRole('button', { name: APPROVE, exact: true }), orderPath);

      const status = page.locator('#order-status');
      expect(await status.getAttribute('class'), 'the order’s status').to.include('status--paid');
      await expectText(status, t('order.statusName.paid'), 'the order’s status');
      await expectNoAxeViolations(page, 'the paid order');
      const receiptLink = page.getByRole('link', {
        name: new RegExp(`^${escapeRegExp(t('documents.links.download.receipt', { number: '<number>' })).replace('<number>', 'RC-\\d{6}')}$`),
      });
      const pdf = await receiptLink.getAttribute('href');
      expect(pdf, 'the PDF receipt’s link').to.match(/^\/documents\/RC-\d{6}\.pdf$/);

      await clickTo(page, page.getByRole('link', { name: t('order.receipt'), exact: true }), `${orderPath}/receipt`);
      await expectText(page.getByRole('heading', { level: 1 }), t('receipt.heading'), 'the receipt’s heading');
      await expectText(page.locator('main'), number, 'the receipt');
      expect(await receiptLink.getAttribute('href'), 'the PDF link on the receipt page').to.equal(pdf);
      await expectNoAxeViolations(page, 'the printable receipt');
      const download = await page.context().request.get(pdf!);
      expect(download.status(), `GET ${pdf}`).to.equal(200);
      expect(download.headers()['content-type'], `${pdf}'s type`).to.match(/^application\/pdf\b/);
      expect((await download.body()).subarray(0, 5).toString('latin1'), `${pdf} starts as a PDF`).to.equal('%PDF-');

      await clickTo(page, headerLink(page, t('nav.account')), '/account');
      const after = await balanceOn(page);
      const expected = before.hundredths + pack.units + pack.bonusUnits;
      expect(after.hundredths, 'the balance in hundredths of a unit').to.equal(expected);
      expect(after.shown, 'the balance shown').to.equal(collapsed(formatUnits(t, expected, 'fr')));
      await portal.expectNoCspViolation();
    });
  });

  describe('a student cancels at PayPal', () => {
    const portal = ownPortal();

    it('comes back to the top-up page told it was cancelled; the order is cancelled, the balance unchanged', async () => {
      const pack = demoPack('pack-10');
      const page = await portal.logIn('etudiant');
      const before = await balanceOn(page);

      await clickTo(page, page.getByRole('link', { name: t('account.topUp') }), '/topup');
      await page.getByRole('radio', { name: startingWith(money(pack.priceCents)) }).check();
      await page.getByRole('checkbox', { name: t('topup.acceptTerms') }).check();
      await clickTo(page, page.getByRole('button', { name: t('topup.continue'), exact: true }), /\/orders\/R-\d{4}-\d+$/);
      const orderPath = pathOf(page);
      const number = orderPath.slice('/orders/'.length);
      await clickTo(page, page.getByRole('button', { name: t('order.pay'), exact: true }), '/checkoutnow');
      await clickTo(page, page.getByRole('button', { name: CANCEL, exact: true }), '/topup');

      expect(new URL(page.url()).searchParams.get('cancelled'), 'the order named on the way back').to.equal(number);
      expect(collapsed(await page.getByRole('status').innerText()), 'the message on the top-up page').to.equal(collapsed(t('topup.cancelled', { number })));
      await expectNoAxeViolations(page, 'the top-up page after a cancelled payment');

      await page.goto(orderPath);
      const status = page.locator('#order-status');
      expect(await status.getAttribute('class'), 'the order’s status').to.include('status--cancelled');
      await expectText(status, t('order.statusName.cancelled'), 'the order’s status');
      await expectNoAxeViolations(page, 'the cancelled order');

      await clickTo(page, headerLink(page, t('nav.account')), '/account');
      expect(await balanceOn(page), 'the balance').to.deep.equal(before);
      await portal.expectNoCspViolation();
    });
  });

  describe('a student logs out on a shared computer', () => {
    const portal = ownPortal();

    it('goes Back after logging out and gets the login page, not the account with their name and balance', async () => {
      const page = await portal.logIn('etudiant');
      const name = collapsed(await page.locator('main').innerText());
      expect(name, 'the account page before logging out').to.include(t('account.mainAccount'));
      await clickTo(page, page.getByRole('link', { name: t('account.topUp') }), '/topup');
      await clickTo(page, page.locator('header.site-header').getByRole('button', { name: t('nav.logout'), exact: true }), '/login');
      await expectText(page.getByRole('status'), t('login.loggedOut'), 'the page after logging out');

      // Back twice: to where the person was (the top-up page), then to the account page. A page the
      // browser kept would show them again; asked of the server anew, each sends to the login page.
      for (const step of ['the top-up page', 'the account page']) {
        await page.goBack({ waitUntil: 'load' });
        expect(pathOf(page), `Back to ${step}`).to.equal('/login');
        expect(await page.locator('.balance__value').count(), `a balance after Back to ${step}`).to.equal(0);
        expect(await page.getByRole('heading', { level: 1 }).innerText(), `the heading after Back to ${step}`).to.equal(t('login.title'));
      }
      await portal.expectNoCspViolation();
    });
  });

  describe('a person signs in through the demo institution (CAS)', () => {
    const portal = ownPortal();
    const person = (user: string) => {
      const found = DEMO_CAS_PEOPLE.find((candidate) => candidate.user === user);
      if (!found) throw new Error(`no demo CAS person ${user}`);
      return { user, name: String(found.attributes.displayName), email: String(found.attributes.mail) };
    };
    const demoLabel = 'ENT de démonstration (CAS)';

    it('picks Camille on the demo CAS page, sees "Mon compte" read-only, ends their other session and signs out through the demo CAS server', async () => {
      const camille = person('camille.etudiante');
      // Camille's phone, signed in earlier: the session she will end from her computer.
      const phone = await portal.open({ width: 360, as: camille.user, userAgent: 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0' });
      const casUrl = portal.session.demoCas.url;

      const page = await portal.open();
      await page.goto('/login');
      await expectNoAxeViolations(page, 'the login page with several providers');
      await clickTo(page, page.getByRole('link', { name: t('signIn.with', { provider: demoLabel }), exact: true }), (url) => url.href.startsWith(`${casUrl}/login?`));
      expect(await page.locator('html').getAttribute('lang'), 'the demo CAS page’s language').to.equal('fr');
      await expectText(page.getByRole('heading', { level: 1 }), t('demoCas.login.heading'), 'the demo CAS page');
      await expectNoAxeViolations(page, 'the demo CAS server’s page');
      await page.getByRole('radio', { name: new RegExp(`^${escapeRegExp(camille.name)}`) }).check();
      await clickTo(page, page.getByRole('button', { name: t('demoCas.login.submit'), exact: true }), (url) => url.origin === portal.session.baseUrl && url.pathname === '/account');
      await expectText(definition(page.locator('main'), t('account.name')), camille.name, 'the name on the account page');

      await clickTo(page, headerLink(page, t('myAccount.nav')), '/account/settings');
      await expectText(definition(page.getByRole('region', { name: t('myAccount.signIn.title') }), t('myAccount.signIn.method')), demoLabel, 'the sign-in method');
      const profile = page.getByRole('region', { name: t('myAccount.profile.title') });
      await expectText(profile, t('myAccount.profile.providedBy', { providers: demoLabel }), 'the profile section');
      await expectText(definition(profile, t('myAccount.profile.displayName')), camille.name, 'the name');
      await expectText(definition(profile, t('myAccount.profile.email')), camille.email, 'the e-mail');
      expect(await profile.getByRole('textbox').count(), 'fields to change the name or e-mail the institution provides').to.equal(0);
      expect(await page.getByRole('heading', { name: t('myAccount.password.title') }).count(), 'a password to change').to.equal(0);
      await expectNoAxeViolations(page, 'Mon compte of a person signed in through the demo CAS server');

      const sessions = page.getByRole('region', { name: t('myAccount.sessions.title') }).getByRole('listitem');
      expect(await sessions.count(), 'the sessions listed').to.equal(2);
      const phoneSession = sessions.filter({ has: page.getByRole('heading', { name: t('myAccount.device.both', { browser: 'Firefox', system: 'Android' }), exact: true }) });
      await expectText(definition(phoneSession, t('myAccount.sessions.method')), demoLabel, 'how the phone’s session was opened');
      await clickTo(page, phoneSession.getByRole('button', { name: t('myAccount.sessions.end'), exact: true }), (url) => url.searchParams.get('notice') === 'sessionEnded');
      await expectText(page.getByRole('status'), t('myAccount.notices.sessionEnded'), 'Camille is told');
      expect(await sessions.count(), 'the sessions listed once the phone’s is ended').to.equal(1);
      await phone.reload();
      expect(pathOf(phone), 'the phone after its session was ended').to.equal('/login');

      // Signed in through CAS, signing out goes through the CAS server's logout, which offers the way back.
      await clickTo(page, page.locator('header.site-header').getByRole('button', { name: t('nav.logout'), exact: true }), (url) => url.href.startsWith(`${casUrl}/logout?`));
      await expectText(page.getByRole('heading', { level: 1 }), t('demoCas.logout.heading'), 'the demo CAS server’s logout page');
      await expectNoAxeViolations(page, 'the demo CAS server’s logout page');
      await clickTo(page, page.getByRole('link', { name: t('demoCas.logout.back'), exact: true }), (url) => url.origin === portal.session.baseUrl && url.pathname === '/login');
      await expectText(page.getByRole('status'), t('login.loggedOut'), 'the login page after signing out');
      await page.goto('/account');
      expect(pathOf(page), 'the account page after signing out').to.equal('/login');
      await portal.expectNoCspViolation();
    });

    it('reaches every provider button with Tab and follows it with Enter; signs in from the keyboard on the demo CAS page', async () => {
      const alex = person('alex.teacher');
      const page = await portal.open();
      await page.goto('/login');
      const providerLinks = await page.locator('a.sign-in__provider').evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
      expect(providerLinks, 'the login page’s provider buttons').to.have.length.of.at.least(2);
      const destinations: Record<string, string> = { '/auth/demo': portal.session.demoCas.url, '/auth/univ': portal.session.oidc.issuer };

      /** Tabs from the top of the login page to the button, pressing Tab as few times as it takes; fails if focus leaves the page first. */
      const tabTo = async (href: string) => {
        await page.goto('/login');
        for (let step = 0; step < 20; step += 1) {
          await page.keyboard.press('Tab');
          const focused = await page.evaluate(() => ({ href: document.activeElement?.getAttribute('href'), onPage: document.activeElement !== document.body }));
          if (focused.href === href) return;
          if (!focused.onPage) break;
        }
        throw new Error(`Tab never reached the button ${href}`);
      };

      for (const href of providerLinks) {
        await tabTo(href);
        const indicator = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
        expect(indicator, `the focus outline of the button ${href}`).to.not.equal('none');
        const destination = destinations[href];
        expect(destination, `where ${href} should lead`).to.be.a('string');
        await Promise.all([page.waitForURL((url) => url.origin === destination), page.keyboard.press('Enter')]);
      }

      // The last button followed is the demo one's: on its page, the first person is chosen; the arrow key moves to the next, Tab to the button.
      await tabTo('/auth/demo');
      await Promise.all([page.waitForURL((url) => url.origin === portal.session.demoCas.url), page.keyboard.press('Enter')]);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value), 'the radio Tab reaches first').to.equal('camille.etudiante');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.tagName), 'what Tab reaches after the people').to.equal('BUTTON');
      await Promise.all([page.waitForURL((url) => url.origin === portal.session.baseUrl && url.pathname === '/account'), page.keyboard.press('Enter')]);
      // Alex's institution says English: the account page is in English.
      await expectText(definition(page.locator('main'), createTranslations()('en')('account.name')), alex.name, 'the name on the account page');
      expect(await demoProviderButton(page).count(), 'the provider buttons once signed in').to.equal(0);
      await portal.expectNoCspViolation();
    });
  });

  describe('a customer pays a quote from its mail (the seed’s six steps, in French)', () => {
    const portal = ownPortal();
    const currency = DEMO_PRICE_LIST.settings.currency;
    /** A rate as the desk types it and the pages show it: 20, 5,5. */
    const rate = (basisPoints: number) => new Intl.NumberFormat('fr', { maximumFractionDigits: 2 }).format(basisPoints / 100);
    /** pdf.js reads the no-break spaces of French amounts as spaces. */
    const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');
    /**
     * A researcher in Amsterdam: posters and bound proceedings at two VAT rates, sent by post. The desk
     * typed the postcode as she gave it, without a space; she will type it with one, in lower case.
     */
    const customer = { name: 'Sanne de Vries', email: 'sanne.devries@example.nl', postcode: '1098XH', typedPostcode: '1098 xh', address: 'Science Park 904\n1098XH Amsterdam\nPays-Bas' };
    const lines: QuoteLine[] = [
      { description: 'Poster A0, papier satiné', quantity: 2, unitPriceCents: 2400, vatRateBasisPoints: 2000 },
      { description: 'Actes reliés, 80 pages', quantity: 5, unitPriceCents: 1460, vatRateBasisPoints: 550 },
    ];
    const totals = quoteTotals(lines);

    it('goes from the desk’s form to the mail’s "Payer maintenant", the lookup, the quote checked, PayPal, the paid page and its receipt PDF, from the keyboard', async () => {
      const { session } = portal;
      const deskLogin = session.logins.find((login) => login.quoteDesk);
      if (!deskLogin) throw new Error('no demo login of the reprography desk');

      // 1. The desk person types the quote in the form and sends it.
      const desk = await portal.logIn(deskLogin.username);
      await clickTo(desk, headerLink(desk, t('deskQuotes.nav')), '/desk/quotes');
      await clickTo(desk, desk.getByRole('link', { name: t('deskQuotes.list.new'), exact: true }), '/desk/quotes/new');
      await desk.getByLabel(t('deskQuotes.form.name'), { exact: true }).fill(customer.name);
      await desk.getByLabel(t('deskQuotes.form.email'), { exact: true }).fill(customer.email);
      await desk.getByRole('radio', { name: t('deskQuotes.delivery.post'), exact: true }).check();
      await desk.getByLabel(t('deskQuotes.form.deliveryAddress'), { exact: true }).fill(customer.address);
      await desk.getByLabel(t('deskQuotes.form.postcode'), { exact: true }).fill(customer.postcode);
      for (const [index, line] of lines.entries()) {
        const row = desk.getByRole('group', { name: t('deskQuotes.form.line', { number: index + 1 }), exact: true });
        await row.getByLabel(t('deskQuotes.form.description'), { exact: true }).fill(line.description);
        await row.getByLabel(t('deskQuotes.form.quantity'), { exact: true }).fill(String(line.quantity));
        await row.getByLabel(t('deskQuotes.form.unitPrice', { currency }), { exact: true }).fill(decimalText(line.unitPriceCents, ','));
        await row.getByLabel(t('deskQuotes.form.vatRate'), { exact: true }).fill(rate(line.vatRateBasisPoints));
      }
      await clickTo(desk, desk.getByRole('button', { name: t('deskQuotes.form.saveDraft'), exact: true }), /\/desk\/quotes\/D-\d{4}-\d{6}\?notice=created$/);
      const number = pathOf(desk).slice('/desk/quotes/'.length);
      await clickTo(desk, desk.getByRole('button', { name: t('deskQuotes.sending.send'), exact: true }), (url) => url.searchParams.get('notice') === 'sent');
      await expectText(desk.getByRole('status'), t('deskQuotes.quote.notices.sent'), 'the desk is told');
      await expectNoAxeViolations(desk, 'the desk’s quote once sent');

      // 2. The mail, kept in the portal as in demo mode: the admin reads it in the mailbox, and its "Payer maintenant" link is followed.
      await session.portal.mail.deliverDue();
      const admin = await portal.logIn('admin');
      await admin.goto('/admin/mails');
      await clickTo(admin, admin.getByRole('link', { name: number, exact: true }), /\/admin\/mails\/\d+$/);
      const mailText = await admin.getByRole('region', { name: t('admin.mails.mail.body'), exact: true }).locator('pre').innerText();
      const payNow = t('quoteLookup.payNow.link', { url: '' });
      const link = mailText.split('\n').find((line) => line.startsWith(payNow))?.slice(payNow.length);
      expect(link, `the "Payer maintenant" link in the mail:\n${mailText}`).to.equal(`${session.baseUrl}/quotes/lookup?number=${number}`);

      // 3. "Recherche de commande": the number filled in; the postcode typed with a space and in lower case, then Enter.
      const buyer = await portal.open();
      await buyer.goto(link!);
      await expectText(buyer.getByRole('heading', { level: 1 }), t('quoteLookup.title'), 'the lookup page');
      expect(await buyer.getByLabel(t('quoteLookup.number'), { exact: true }).inputValue(), 'the number filled in').to.equal(number);
      await expectNoAxeViolations(buyer, 'the lookup opened from the mail');
      const postcode = buyer.getByLabel(t('quoteLookup.postcode'), { exact: true });
      await tabTo(buyer, postcode, 'the postcode');
      await buyer.keyboard.type(customer.typedPostcode);
      await Promise.all([buyer.waitForURL((url) => url.pathname === `/quotes/${number}`), buyer.keyboard.press('Enter')]);

      // 4. The quote checked like a basket: references, quantities, prices, VAT, delivery.
      await expectText(buyer.getByRole('heading', { level: 1 }), number, 'the quote’s heading');
      await expectText(buyer.locator('#quote-status'), t('quotePayment.state.payable.name'), 'the quote’s state');
      for (const line of totals.lines) {
        const row = buyer.getByRole('row', { name: startingWith(line.description) });
        for (const shown of [String(line.quantity), money(line.unitPriceCents), `${rate(line.vatRateBasisPoints)} %`, money(line.totalCents)]) {
          await expectText(row, shown, `the line "${line.description}"`);
        }
      }
      expect(Number(await buyer.locator('[data-total-cents]').getAttribute('data-total-cents')), 'the total, in cents').to.equal(totals.totalCents);
      await expectText(buyer.getByRole('row', { name: startingWith(t('deskQuotes.totals.total')) }), money(totals.totalCents), 'the total');
      await expectText(buyer.getByRole('row', { name: startingWith(t('deskQuotes.totals.net')) }), money(totals.netCents), 'the amount before VAT');
      for (const vat of totals.vatRates) {
        const vatRow = buyer.getByRole('row', { name: startingWith(t('deskQuotes.totals.ofWhichVat', { rate: rate(vat.vatRateBasisPoints) })) });
        await expectText(vatRow, money(vat.vatCents), `the VAT at ${rate(vat.vatRateBasisPoints)} %`);
      }
      const main = buyer.locator('main');
      await expectText(definition(main, t('quotePayment.customer')), customer.name, 'the customer');
      await expectText(definition(main, t('quotePayment.deliveryMethod')), t('deskQuotes.delivery.post'), 'the delivery');
      expect(await definition(main, t('quotePayment.address')).innerText(), 'the address, a line per line').to.equal(customer.address);
      await expectText(definition(main, t('quotePayment.postcode')), customer.postcode, 'the postcode as printed');
      await expectNoAxeViolations(buyer, 'the quote to pay');

      // 5. The terms accepted, "Passer au paiement", and "Pay" on the simulator's approval page.
      await tabTo(buyer, buyer.getByRole('checkbox', { name: t('topup.acceptTerms'), exact: true }), 'the terms’ box');
      await buyer.keyboard.press('Space');
      await tabTo(buyer, buyer.getByRole('button', { name: t('quotePayment.pay'), exact: true }), '"Passer au paiement"');
      await Promise.all([buyer.waitForURL((url) => url.pathname === '/checkoutnow'), buyer.keyboard.press('Enter')]);
      await expectText(buyer.locator('main'), money(totals.totalCents), 'the amount on the approval page');
      await clickTo(buyer, buyer.getByRole('button', { name: APPROVE, exact: true }), `/quotes/${number}`);

      // 6. Back on the quote: "Payée", the date, the PayPal reference, and the receipt downloaded.
      const status = buyer.locator('#quote-status');
      expect(await status.getAttribute('class'), 'the quote’s state').to.include('status--paid');
      await expectText(status, t('quotePayment.state.paid.name'), 'the quote’s state');
      const paidAt = formatDateTime(session.portal.clock.now(), 'fr', session.portal.config.i18n.timeZone);
      await expectText(definition(main, t('quotePayment.paidAt')), paidAt, 'the date of payment');
      const quoteRow = (await session.portal.db.knex('quotes').where({ number }).first('id')) as { id: number };
      const { paypal_capture_id: capture } = (await session.portal.db.knex('orders').where({ quote_id: quoteRow.id, status: 'paid' }).first('paypal_capture_id')) as { paypal_capture_id: string };
      expect(collapsed(await definition(main, t('quotePayment.paypalReference')).innerText()), 'the PayPal reference').to.equal(capture);
      await expectNoAxeViolations(buyer, 'the paid quote');

      const receiptLink = buyer.getByRole('link', { name: t('quotePayment.receipt'), exact: true });
      await tabTo(buyer, receiptLink, 'the receipt’s link');
      const [download] = await Promise.all([buyer.waitForEvent('download'), buyer.keyboard.press('Enter')]);
      expect(new URL(download.url()).pathname, 'where the receipt comes from').to.match(new RegExp(`^/quotes/${number}/documents/RC-\\d{6}$`));
      const receipt = plain((await readPdf(await readFile((await download.path())!))).text);
      for (const expected of [
        'Reçu',
        `Devis ${number}`,
        customer.name,
        ...totals.lines.map((line) => `${line.description} ${line.quantity} ${money(line.unitPriceCents)} ${rate(line.vatRateBasisPoints)} % ${money(line.totalCents)}`),
        `Montant HT ${money(totals.netCents)}`,
        ...totals.vatRates.map((vat) => `TVA ${rate(vat.vatRateBasisPoints)} % sur ${money(vat.grossCents)} ${money(vat.vatCents)}`),
        `Total TTC ${money(totals.totalCents)}`,
        'Mode de paiement PayPal',
        `Transaction PayPal ${capture}`,
      ]) {
        expect(receipt, 'the receipt PDF').to.include(plain(expected));
      }
      await portal.expectNoCspViolation();
    });

    it('answers a wrong postcode as it answers a wrong number, and the quote stays hidden', async () => {
      const { payable } = portal.session.quotes;
      const page = await portal.open();
      const answers = [];
      for (const [number, postcode] of [
        [payable.number, NO_DEMO_QUOTES_POSTCODE],
        ['D-2026-999999', payable.postcode],
      ] as const) {
        const response = await lookUpQuote(page, number, postcode);
        answers.push({ status: response.status(), path: pathOf(page), message: collapsed(await page.getByRole('alert').innerText()) });
      }
      expect(answers[1], 'a wrong number, then a wrong postcode').to.deep.equal(answers[0]);
      expect(answers[0], 'the answer').to.deep.equal({ status: 404, path: '/quotes/lookup', message: collapsed(t('quoteLookup.errors.notFound')) });
      await expectNoAxeViolations(page, 'the lookup refused');
      await page.goto(`/quotes/${payable.number}`);
      expect(pathOf(page), 'the quote’s page after the wrong postcode').to.equal('/quotes/lookup');
      await portal.expectNoCspViolation();
    });
  });

  describe('an admin changes a price', () => {
    const portal = ownPortal();

    it('previews the price list, publishes it, and the student then sees the new price and is charged it', async () => {
      const pack = demoPack('pack-50');
      const newPriceCents = 4750;
      const admin = await portal.logIn('admin');
      const student = await portal.logIn('etudiant');
      const packOffer = (cents: number) => student.getByRole('radio', { name: startingWith(money(cents)) });

      await clickTo(admin, headerLink(admin, t('nav.admin')), '/admin');
      await clickTo(admin, admin.getByRole('navigation', { name: t('admin.nav.label') }).getByRole('link', { name: t('admin.nav.prices'), exact: true }), '/admin/prices');
      // The price list is a table: each field is named by its row ("Forfait 4 · pack-50") and its column.
      await admin.getByRole('textbox', { name: new RegExp(`· ${pack.id} ${t('admin.prices.packs.price')}$`) }).fill('47,50');
      await clickTo(admin, admin.getByRole('button', { name: t('admin.prices.previewButton'), exact: true }), /\/admin\/prices\/drafts\/\d+$/);
      expect(await admin.getByRole('radio', { name: startingWith(money(newPriceCents)) }).count(), 'the new price in the preview').to.equal(1);
      await expectNoAxeViolations(admin, 'the price list’s preview');

      await clickTo(student, student.getByRole('link', { name: t('account.topUp') }), '/topup');
      expect(await packOffer(newPriceCents).count(), 'the new price before it is published').to.equal(0);
      expect(await packOffer(pack.priceCents).count(), 'the price online').to.equal(1);

      await clickTo(admin, admin.getByRole('button', { name: t('admin.prices.preview.publish'), exact: true }), (url) => url.pathname === '/admin/prices' && url.searchParams.has('published'));
      const version = new URL(admin.url()).searchParams.get('published');
      expect(collapsed(await admin.getByRole('status').innerText()), 'the admin is told').to.equal(collapsed(t('admin.prices.published', { version })));
      await expectNoAxeViolations(admin, 'the price list once published');

      await student.reload();
      expect(await packOffer(pack.priceCents).count(), 'the old price after publication').to.equal(0);
      await packOffer(newPriceCents).check();
      await student.getByRole('checkbox', { name: t('topup.acceptTerms') }).check();
      await clickTo(student, student.getByRole('button', { name: t('topup.continue'), exact: true }), /\/orders\/R-\d{4}-\d+$/);
      await expectText(student.locator('main'), money(newPriceCents), 'the basket at the new price');
      await portal.expectNoCspViolation();
    });
  });

  describe('IT changes the colour and the logo', () => {
    const portal = ownPortal();

    it('saves, previews and publishes them, and the student’s pages then show both', async () => {
      const primary = '#6b1d5e';
      const primaryRgb = 'rgb(107, 29, 94)';
      const side = 96;
      const logo = await sharp({ create: { width: side, height: side, channels: 4, background: primary } })
        .png()
        .toBuffer();
      const it = await portal.logIn('informatique');
      const student = await portal.logIn('etudiant');
      const headerColour = (page: Page) => page.locator('header.site-header').evaluate((header) => getComputedStyle(header).backgroundColor);
      const headerLogo = (page: Page) => page.locator('header.site-header .brand img');
      const colourBefore = await headerColour(student);
      const logoBefore = await headerLogo(student).getAttribute('src');
      expect(colourBefore, 'the header before').to.not.equal(primaryRgb);

      await clickTo(it, headerLink(it, t('nav.branding')), '/it/branding');
      await it.getByLabel(t('branding.colours.primary'), { exact: true }).fill(primary);
      await it.getByLabel(t('branding.form.file.logo'), { exact: true }).setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: logo });
      await clickTo(it, it.getByRole('button', { name: t('branding.form.save'), exact: true }), (url) => url.searchParams.get('notice') === 'draft');
      expect(await headerColour(it), 'the header in IT’s preview').to.equal(primaryRgb);
      await expectNoAxeViolations(it, 'the branding page previewing the draft');

      await student.reload();
      expect(await headerColour(student), 'the student’s header while IT previews').to.equal(colourBefore);

      const banner = it.getByRole('region', { name: t('branding.banner.label'), exact: true });
      await clickTo(it, banner.getByRole('button', { name: t('branding.banner.publish'), exact: true }), (url) => url.searchParams.get('notice') === 'published');
      await expectText(it.getByRole('status'), t('branding.notices.published'), 'IT is told');
      const published = await it.locator('img.branding-image--logo').first().getAttribute('src');
      expect(published, 'the live logo on the branding page').to.match(/^\/uploads\/[0-9a-f]+\.png$/);
      await expectNoAxeViolations(it, 'the branding page once published');

      await student.reload();
      expect(await student.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()), 'the --primary variable').to.equal(primary);
      expect(await headerColour(student), 'the student’s header').to.equal(primaryRgb);
      const shown = headerLogo(student);
      expect(await shown.getAttribute('src'), 'the header’s logo').to.equal(published).and.to.not.equal(logoBefore);
      expect(await shown.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth), 'the logo as the browser decoded it, px wide').to.equal(side);
      const image = await student.context().request.get(published!);
      expect(image.status(), `GET ${published}`).to.equal(200);
      expect(image.headers()['content-type'], `${published}'s type`).to.equal('image/png');
      const { format, width } = await sharp(await image.body()).metadata();
      expect({ format, width }, 'the logo served').to.deep.equal({ format: 'png', width: side });
      await expectNoAxeViolations(student, 'the account page in the new colours');
      await portal.expectNoCspViolation();
    });
  });

  describe('IT types a colour or picks it', () => {
    const portal = ownPortal();

    it('keeps each picker and its #rrggbb field equal, and redraws the preview as the colours and the name change', async () => {
      const it = await portal.logIn('informatique');
      await clickTo(it, headerLink(it, t('nav.branding')), '/it/branding');
      const hex = it.getByLabel(t('branding.colours.primary'), { exact: true });
      const picker = it.getByLabel(t('branding.form.picker', { colour: t('branding.colours.primary') }), { exact: true });
      const previewHeader = it.locator('[data-branding-preview] [data-fill="primary"]').first();
      await picker.fill('#6b1d5e');
      expect(await hex.inputValue(), 'the field after the picker').to.equal('#6b1d5e');
      expect(await previewHeader.getAttribute('fill'), 'the preview after the picker').to.equal('#6b1d5e');
      await hex.fill('#0B4F6C');
      expect(await picker.inputValue(), 'the picker after typing').to.equal('#0b4f6c');
      expect(await previewHeader.getAttribute('fill'), 'the preview after typing').to.equal('#0b4f6c');
      await hex.fill('#0b4f');
      expect(await picker.inputValue(), 'the picker while the typed value is incomplete').to.equal('#0b4f6c');
      await it.getByLabel(t('branding.form.organisationName'), { exact: true }).fill('Médiathèque Océan');
      expect(await it.locator('[data-preview-name-text]').textContent(), 'the name in the preview').to.equal('Médiathèque Océan');
      await portal.expectNoCspViolation();
    });
  });
});
