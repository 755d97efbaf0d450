import type { Page, Response } from 'playwright-core';
import { addDays, dayOf } from '../../src/domain/time/calendar.js';
import { formatVoucherCode } from '../../src/domain/vouchers/voucher-codes.js';
import { createVoucherBatches } from '../../src/services/vouchers/voucher-batches.js';
import { createVoucherRedemption } from '../../src/services/vouchers/voucher-redemption.js';
import { createVoucherPurchases } from '../../src/services/vouchers/voucher-purchases.js';
import type { PortalInBrowser } from './portal-in-browser.js';

/** Types `code` in the top-up page's code form and sends it; answers the page it leads to. */
async function redeemOnTopUpPage(page: Page, code: string): Promise<Response | null> {
  await page.goto('/topup');
  await page.locator('form[action="/topup/voucher"] input[name="code"]').fill(code);
  const [response] = await Promise.all([page.waitForResponse((answer) => answer.url().endsWith('/topup/voucher') && answer.request().method() === 'POST'), page.locator('form[action="/topup/voucher"] button[type="submit"]').click()]);
  await page.waitForLoadState();
  return response;
}

/** Fills in the batch on the purchase form. */
async function fillBatch(page: Page): Promise<void> {
  await page.goto('/vouchers/buy');
  await page.locator('#name').fill('Master 1 — accueil');
  await page.locator('#count').fill('30');
  await page.locator('#value').fill('10');
}

/** The purchase form after "Voir le prix": the server's price shown. */
async function priceOnBuyPage(page: Page): Promise<Response | null> {
  await fillBatch(page);
  const [response] = await Promise.all([page.waitForResponse((answer) => answer.url().endsWith('/vouchers/buy') && answer.request().method() === 'POST'), page.locator('button[name="summary"]').click()]);
  await page.waitForLoadState();
  return response;
}

/** A batch bought by `username`: the form filled in, the terms accepted, approved on the simulator's page, back on the purchases. */
async function buyCodesInBrowser(session: PortalInBrowser, username: string): Promise<void> {
  const { page, context } = await session.open({ width: 1280, as: username });
  try {
    await fillBatch(page);
    await page.locator('input[name="terms"]').check();
    await Promise.all([page.waitForURL(/\/checkoutnow\?/), page.locator('form[action="/vouchers/buy"] button.button--primary').click()]);
    await Promise.all([page.waitForURL((url) => url.pathname === '/vouchers/purchases'), page.locator('form[action="/checkoutnow/approve"] button').click()]);
    if ((await page.locator('form[action$="/codes"]').count()) !== 1) throw new Error('the bought batch offers no download after approval');
  } finally {
    await context.close();
  }
}

/**
 * The top-up codes' pages: a batch of the admin's, one code redeemed by another person so that its
 * page lists a redemption, and codes for the student to redeem, one per opening of the page; a batch
 * bought by the reprography desk's person, whose purchases page offers its download.
 */
export async function prepareVoucherPages(session: PortalInBrowser) {
  const { db, clock, config, users, checkout } = session.portal;
  const timeZone = config.i18n.timeZone;
  const admin = await users.findUser('admin');
  const desk = await users.findUser('reprographie');
  if (!admin || !desk) throw new Error('the demo has no admin or reprographie');
  const batches = createVoucherBatches({ db, clock, timeZone });
  const request = batches.check({ name: 'Accueil des nouveaux — 2027', count: '40', value: '5', expiresOn: addDays(dayOf(clock.now(), timeZone), 90), format: 'pdf' });
  const { batchId, codes } = await batches.generate(request, admin);
  const redeem = createVoucherRedemption({ db, clock, timeZone });
  await redeem(desk, codes[0], '203.0.113.9');
  const forStudent = codes.slice(1).map(formatVoucherCode);
  // The reprography desk's person buys codes for the department: allowed by the admin, then through the browser.
  const purchases = createVoucherPurchases({ db, clock, timeZone, checkout, orderExpiryMinutes: config.payments.orderExpiryMinutes });
  await purchases.addBuyer(admin, desk.username);
  await buyCodesInBrowser(session, desk.username);
  return {
    /** The purchase form with its price shown ("Voir le prix"). */
    priced: (page: Page) => priceOnBuyPage(page),
    batch: `/admin/vouchers/${batchId}`,
    redeemed: (page: Page) => redeemOnTopUpPage(page, forStudent.shift() ?? ''),
    refused: (page: Page) => redeemOnTopUpPage(page, 'ABCD-EFGH-JKLM-NPQR'),
  };
}
