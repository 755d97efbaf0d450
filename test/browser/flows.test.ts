import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { DEMO_PRICE_LIST } from '../../src/services/demo/demo.js';
import { createTranslations } from '../../src/i18n/index.js';
import { formatMoney, formatUnits } from '../../src/i18n/format.js';
import { expectNoAxeViolations } from './accessibility.js';
import { DEMO_CAS_PEOPLE } from '../../src/identity/cas/demo-cas-server.js';
import { demoProviderButton, startPortalInBrowser, type OpenedPage, type PageOptions, type PortalInBrowser } from './portal-in-browser.js';

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
    /** The value of a term in a description list of the page. */
    const definition = (scope: Locator, term: string) => scope.locator('dl > div', { has: scope.page().locator('dt', { hasText: term }) }).locator('dd');

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
      const packFields = admin.getByRole('group', { name: new RegExp(`· ${pack.id}$`) });
      await packFields.getByLabel(t('admin.prices.packs.price'), { exact: true }).fill('47,50');
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
});
