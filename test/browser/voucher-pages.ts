import type { Page, Response } from 'playwright-core';
import { addDays, dayOf } from '../../src/domain/time/calendar.js';
import { formatVoucherCode } from '../../src/domain/vouchers/voucher-codes.js';
import { createVoucherBatches } from '../../src/services/vouchers/voucher-batches.js';
import { createVoucherRedemption } from '../../src/services/vouchers/voucher-redemption.js';
import type { PortalInBrowser } from './portal-in-browser.js';

/** Types `code` in the top-up page's code form and sends it; answers the page it leads to. */
async function redeemOnTopUpPage(page: Page, code: string): Promise<Response | null> {
  await page.goto('/topup');
  await page.locator('form[action="/topup/voucher"] input[name="code"]').fill(code);
  const [response] = await Promise.all([page.waitForResponse((answer) => answer.url().endsWith('/topup/voucher') && answer.request().method() === 'POST'), page.locator('form[action="/topup/voucher"] button[type="submit"]').click()]);
  await page.waitForLoadState();
  return response;
}

/**
 * The top-up codes' pages: a batch of the admin's, one code redeemed by another person so that its
 * page lists a redemption, and codes for the student to redeem, one per opening of the page.
 */
export async function prepareVoucherPages(session: PortalInBrowser) {
  const { db, clock, config, users } = session.portal;
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
  return {
    batch: `/admin/vouchers/${batchId}`,
    redeemed: (page: Page) => redeemOnTopUpPage(page, forStudent.shift() ?? ''),
    refused: (page: Page) => redeemOnTopUpPage(page, 'ABCD-EFGH-JKLM-NPQR'),
  };
}
