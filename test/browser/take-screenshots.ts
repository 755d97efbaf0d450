/**
 * `npm run screenshots`: full-page PNGs of the demo portal's main pages at 360 and 1280 px wide, in
 * docs/screenshots/<page>-<width>.png, taken with Debian's Chromium.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startPortalInBrowser, type Locale, type PortalInBrowser } from './portal-in-browser.js';
import { EXAMPLE_THEME, preparePortalPages, SCREENSHOTS, WIDTHS, type PortalPage } from './portal-pages.js';

const OUTPUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

async function screenshot(session: PortalInBrowser, entry: PortalPage, locale: Locale, name: string, width: number): Promise<string> {
  const { page, context } = await session.open({ width, locale, as: entry.as });
  try {
    const response = await page.goto(entry.path);
    if (response?.status() !== 200) throw new Error(`${entry.path} answered ${response?.status()}`);
    const file = `${OUTPUT}${name}-${width}.png`;
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  await mkdir(OUTPUT, { recursive: true });
  const written: string[] = [];
  const session = await startPortalInBrowser();
  try {
    const pages = await preparePortalPages(session);
    for (const { page, locale, file } of SCREENSHOTS) {
      for (const width of WIDTHS) written.push(await screenshot(session, pages.get(page)!, locale, file, width));
    }
  } finally {
    await session.close();
  }
  const themed = await startPortalInBrowser({ THEME: EXAMPLE_THEME });
  try {
    for (const width of WIDTHS) written.push(await screenshot(themed, { name: 'account', path: '/account', as: 'etudiant' }, 'fr', `account-${EXAMPLE_THEME}`, width));
  } finally {
    await themed.close();
  }
  console.log(`Wrote ${written.length} screenshots to ${OUTPUT}:`);
  for (const file of written) console.log(`  ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
