import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { createTranslations } from '../../src/i18n/index.js';
import { expectNoAxeViolations } from './accessibility.js';
import { startPortalInBrowser, type Locale, type PortalInBrowser } from './portal-in-browser.js';
import { WIDTHS } from './portal-pages.js';

const translations = createTranslations();
const t = translations('fr');

/** A small phone's first screen: what shows before any scrolling. */
const PHONE = { width: 360, height: 640 };

/** Where an element ends, from the top of the page, in CSS px. */
async function bottomOf(page: Page, selector: string): Promise<number> {
  const box = await page.locator(selector).first().boundingBox();
  expect(box, `${selector} has no box`).to.not.equal(null);
  return box!.y + box!.height;
}

describe('the account page and the account history in Chromium', function () {
  this.timeout(120_000);
  let session: PortalInBrowser;
  before(async () => {
    session = await startPortalInBrowser();
  });
  after(() => session?.close());

  it('shows the balance and the top-up button in the first screen of a 360 px phone', async () => {
    const { page, context } = await session.open({ ...PHONE, as: 'etudiant' });
    try {
      await page.goto('/account');
      expect(await page.locator('.balance__value').isVisible(), 'the balance is visible').to.equal(true);
      expect(await bottomOf(page, '.balance__value'), 'the bottom of the balance, px').to.be.at.most(PHONE.height);
      const topUp = page.getByRole('link', { name: t('account.topUp'), exact: true });
      expect(await topUp.getAttribute('href')).to.equal('/topup');
      const box = await topUp.boundingBox();
      expect(box!.y + box!.height, 'the bottom of the top-up button, px').to.be.at.most(PHONE.height);
      expect(box!.height, 'the top-up button is a tap target').to.be.at.least(44);
    } finally {
      await context.close();
    }
  });

  it('asks for days only once "custom range" is chosen, with no script, and keeps the choice', async () => {
    const { page, context } = await session.open({ ...PHONE, as: 'etudiant' });
    try {
      await page.goto('/account/history');
      const from = page.getByLabel(t('account.filters.from'), { exact: true });
      expect(await from.isVisible(), 'the first day before choosing a custom range').to.equal(false);
      await page.getByRole('radio', { name: t('account.periods.custom') }).check();
      expect(await from.isVisible(), 'the first day once the custom range is chosen').to.equal(true);
      expect(await from.getAttribute('type')).to.equal('date');
      await from.fill('2026-10-01');
      await page.getByLabel(t('account.filters.to'), { exact: true }).fill('2026-10-31');
      await Promise.all([page.waitForURL((url) => url.pathname === '/account/history' && url.search !== ''), page.getByRole('button', { name: t('account.filters.submit') }).click()]);
      const url = new URL(page.url());
      expect(Object.fromEntries(url.searchParams)).to.include({ period: 'custom', from: '2026-10-01', to: '2026-10-31' });
      expect(await page.getByRole('radio', { name: t('account.periods.custom') }).isChecked()).to.equal(true);
      expect(await page.getByLabel(t('account.filters.from'), { exact: true }).isVisible(), 'the days stay shown with the custom range').to.equal(true);

      // Another period hides the days again.
      await page.getByRole('radio', { name: t('account.periods.this_month') }).check();
      expect(await page.getByLabel(t('account.filters.from'), { exact: true }).isVisible(), 'the first day with "this month"').to.equal(false);
    } finally {
      await context.close();
    }
  });

  for (const locale of ['fr', 'en'] as const satisfies readonly Locale[]) {
    for (const width of WIDTHS) {
      it(`has no WCAG 2.2 A/AA violation that axe-core finds in ${locale} at ${width} px`, async () => {
        const { page, context } = await session.open({ width, locale, as: 'etudiant' });
        try {
          for (const path of ['/account', '/account/history', '/account/history?period=custom&from=2026-10-01&to=2026-10-31']) {
            const response = await page.goto(path);
            expect(response?.status(), path).to.equal(200);
            expect(await page.locator('html').getAttribute('lang'), path).to.equal(locale);
            await expectNoAxeViolations(page, `${path} in ${locale} at ${width} px`);
          }
        } finally {
          await context.close();
        }
      });
    }
  }
});
