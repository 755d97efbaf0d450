import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_PRICE_LIST } from '../../src/services/demo/demo.js';
import { createTranslations } from '../../src/i18n/index.js';
import { formatMoney, formatUnits } from '../../src/i18n/format.js';
import { expectNoAxeViolations } from './accessibility.js';
import { startPortalInBrowser, type Locale, type PortalInBrowser } from './portal-in-browser.js';
import { WIDTHS } from './portal-pages.js';

/**
 * The top-up page's free amount and summary as a person meets them, with the page's script and
 * without it (JavaScript off in the browser): the field shows only once "Other amount" is chosen, the
 * summary follows the choice (at once, or when asked of the server), and what is ordered is what the
 * page showed chosen.
 */

const translations = createTranslations();
const collapsed = (text: string) => text.replace(/\s+/g, ' ').trim();
const { currency } = DEMO_PRICE_LIST.settings;

/** What the summary must say of a choice, as the server words it in `locale`. */
function expectedSummary(locale: Locale, balance: number, priceCents: number, units: number, bonus: number) {
  const t = translations(locale);
  const unitsText = (amount: number) => collapsed(formatUnits(t, amount, locale));
  return { price: collapsed(formatMoney(priceCents, currency, locale)), units: unitsText(units), bonus: unitsText(bonus), balanceAfter: unitsText(balance + units + bonus) };
}

/** The summary's figures, read without running anything in the page (its JavaScript may be off). */
async function summaryOn(page: Page): Promise<Record<string, string>> {
  const names = ['price', 'units', 'bonus', 'balanceAfter'];
  const texts = await Promise.all(names.map((name) => page.locator(`[data-summary="${name}"]`).textContent()));
  return Object.fromEntries(names.map((name, index) => [name, collapsed(texts[index] ?? '')]));
}

const balanceOn = async (page: Page) => Number(await page.locator('.topup-balance .balance__value').getAttribute('data-balance'));
const offerCard = (page: Page, value: string) => page.locator('label.offer', { has: page.locator(`input[name="offer"][value="${value}"]`) });

async function expectNoCspViolation(opened: { cspViolations(): Promise<string[]> }) {
  expect(await opened.cspViolations(), 'CSP violations').to.deep.equal([]);
}

describe('the top-up page’s free amount and summary in Chromium', function () {
  // Chromium starts, people log in, and axe-core runs in each view.
  this.timeout(120_000);
  let session: PortalInBrowser;
  before(async () => {
    session = await startPortalInBrowser();
  });
  after(() => session?.close());

  /** A context with JavaScript off, signed in as the demo student through the login form (which needs no script). */
  async function withoutScript(width: number, locale: Locale): Promise<{ page: Page; context: BrowserContext }> {
    const context = await session.browser.newContext({ viewport: { width, height: 800 }, locale: locale === 'fr' ? 'fr-FR' : 'en-GB', baseURL: session.baseUrl, javaScriptEnabled: false });
    const page = await context.newPage();
    const login = session.logins.find((candidate) => candidate.username === 'etudiant')!;
    await page.goto('/login');
    await page.locator('#username').fill(login.username);
    await page.locator('#password').fill(login.password);
    await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.locator('form[action="/login"] button[type="submit"]').click()]);
    return { page, context };
  }

  for (const locale of ['fr', 'en'] as const) {
    const t = translations(locale);
    const continueButton = (page: Page) => page.getByRole('button', { name: t('topup.continue'), exact: true });

    for (const width of WIDTHS) {
      describe(`in ${locale} at ${width} px`, () => {
        it('with the script: shows the amount once chosen, sums up as the person types, and orders what is shown', async () => {
          const opened = await session.open({ width, locale, as: 'etudiant' });
          const { page } = opened;
          try {
            await page.goto('/topup');
            const balance = await balanceOn(page);
            const amount = page.getByLabel(t('topup.freeAmountLabel', { currency }));
            expect(await amount.isVisible(), 'the amount before "Other amount" is chosen').to.equal(false);
            expect(await page.getByText(t('topup.summary.empty')).isVisible(), 'the empty summary').to.equal(true);
            expect(await page.getByRole('button', { name: t('topup.summary.update') }).count(), 'the server-side update, with the script').to.equal(0);

            await offerCard(page, 'free').click();
            expect(await amount.isVisible(), 'the amount once "Other amount" is chosen').to.equal(true);
            await amount.fill(locale === 'fr' ? '25,50 €' : '€25.50');
            expect(await summaryOn(page)).to.deep.equal(expectedSummary(locale, balance, 2550, 2550, 127));
            await expectNoAxeViolations(page, `the top-up page with an amount typed, in ${locale} at ${width} px`);

            await offerCard(page, 'pack-20').click();
            expect(await amount.isVisible(), 'the amount behind a chosen pack').to.equal(false);
            expect(await summaryOn(page)).to.deep.equal(expectedSummary(locale, balance, 2000, 2000, 200));

            // Where a browser shows the field beside a chosen pack (no :has()), typing in it chooses "Other amount".
            await page.locator('.free-amount').evaluate((element) => ((element as HTMLElement).style.display = 'flex'));
            await amount.fill('30');
            expect(await page.locator('input[name="offer"][value="free"]').isChecked(), '"Other amount" chosen by typing').to.equal(true);
            expect((await summaryOn(page)).price).to.equal(collapsed(formatMoney(3000, currency, locale)));
            await page.locator('.free-amount').evaluate((element) => ((element as HTMLElement).style.display = ''));

            // A pack chosen again hides the 30 typed: the pack is what is ordered.
            await offerCard(page, 'pack-10').click();
            await page.getByRole('checkbox', { name: t('topup.acceptTerms') }).check();
            await Promise.all([page.waitForURL(/\/orders\/R-\d{4}-\d+$/), continueButton(page).click()]);
            expect(collapsed(await page.locator('main').innerText())).to.include(collapsed(formatMoney(1000, currency, locale)));
            await expectNoCspViolation(opened);
          } finally {
            await opened.context.close();
          }
        });

        it('as drawn by the server for a browser without the script: no axe-core violation, with the summary and when asking which offer', async () => {
          // axe-core runs in the page, which JavaScript off would forbid: the page's own script is held back instead.
          const opened = await session.open({ width, locale, as: 'etudiant' });
          const { page } = opened;
          try {
            await opened.context.route('**/assets/topup-summary.js', (route) => route.abort());
            await page.goto('/topup');
            await offerCard(page, 'free').click();
            await page.getByLabel(t('topup.freeAmountLabel', { currency })).fill('25,50 €');
            await Promise.all([page.waitForURL('**/topup'), page.getByRole('button', { name: t('topup.summary.update'), exact: true }).click()]);
            expect((await summaryOn(page)).price).to.equal(collapsed(formatMoney(2550, currency, locale)));
            await expectNoAxeViolations(page, `the top-up page's summary from the server, in ${locale} at ${width} px`);
            await offerCard(page, 'pack-10').click();
            await Promise.all([page.waitForURL('**/topup'), continueButton(page).click()]);
            expect(await page.locator('#offer-error').isVisible(), 'the question').to.equal(true);
            await expectNoAxeViolations(page, `the top-up page asking which offer, in ${locale} at ${width} px`);
          } finally {
            await opened.context.close();
          }
        });

        it('without the script: shows the amount once chosen, sums up on the server, and asks about a pack beside a typed amount', async () => {
          const { page, context } = await withoutScript(width, locale);
          try {
            await page.goto('/topup');
            const balance = await balanceOn(page);
            const amount = page.getByLabel(t('topup.freeAmountLabel', { currency }));
            expect(await amount.isVisible(), 'the amount before "Other amount" is chosen').to.equal(false);
            await offerCard(page, 'free').click();
            expect(await amount.isVisible(), 'the amount once "Other amount" is chosen, by CSS alone').to.equal(true);
            await amount.fill('25,50 €');
            expect(await page.getByText(t('topup.summary.empty')).isVisible(), 'no summary until asked').to.equal(true);

            await Promise.all([page.waitForURL('**/topup'), page.getByRole('button', { name: t('topup.summary.update'), exact: true }).click()]);
            expect(await summaryOn(page)).to.deep.equal(expectedSummary(locale, balance, 2550, 2550, 127));
            expect(await amount.inputValue(), 'the amount kept').to.equal('25,50 €');

            // A pack chosen with the 25,50 still in the hidden field: nothing ordered, the person is asked.
            await offerCard(page, 'pack-10').click();
            await page.getByRole('checkbox', { name: t('topup.acceptTerms') }).check();
            await Promise.all([page.waitForURL('**/topup'), continueButton(page).click()]);
            expect(collapsed(await page.locator('#offer-error').innerText())).to.equal(collapsed(t('topup.errors.packAndAmount', { amount: '25,50 €' })));
            expect(await summaryOn(page)).to.deep.equal(expectedSummary(locale, balance, 1000, 1000, 0));
            await Promise.all([page.waitForURL(/\/orders\/R-\d{4}-\d+$/), continueButton(page).click()]);
            expect(collapsed(await page.locator('main').innerText())).to.include(collapsed(formatMoney(1000, currency, locale)));
          } finally {
            await context.close();
          }
        });
      });
    }
  }
});
