/**
 * `npm run screenshots`: full-page PNGs of the demo portal's main pages at 360 and 1280 px wide, in
 * docs/screenshots/<page>-<width>.png, taken with Debian's Chromium. `npm run screenshots -- login
 * my-account` takes only the files named (without the width).
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startPortalInBrowser, type Locale, type PortalInBrowser } from './portal-in-browser.js';
import { preparePaperCutPages, type PaperCutPageName } from './papercut-pages.js';
import { EXAMPLE_THEME, openPortalPage, preparePortalPages, SCREENSHOTS, viewerOf, WIDTHS, type PortalPage } from './portal-pages.js';

/** With credits going to PaperCut (`CREDIT_DESTINATION=papercut-sim`): what people and admins see of it. */
const PAPERCUT_SCREENSHOTS = ['papercut-account', 'papercut-order-paid', 'papercut-admin-transfers', 'papercut-admin-transfer'] as const satisfies readonly PaperCutPageName[];

const OUTPUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

async function screenshot(session: PortalInBrowser, entry: PortalPage, locale: Locale, name: string, width: number): Promise<string> {
  const { page, context } = await session.open({ width, locale, as: viewerOf(entry, locale) });
  try {
    const response = await openPortalPage(page, entry);
    if (response?.status() !== 200) throw new Error(`${entry.path} answered ${response?.status()}`);
    const file = `${OUTPUT}${name}-${width}.png`;
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } finally {
    await context.close();
  }
}

async function main(wanted: readonly string[]): Promise<void> {
  const themedFile = `account-${EXAMPLE_THEME}`;
  const known = [...SCREENSHOTS.map(({ file }) => file), themedFile, ...PAPERCUT_SCREENSHOTS];
  const unknown = wanted.filter((file) => !known.includes(file));
  if (unknown.length > 0) throw new Error(`no screenshot named ${unknown.join(', ')}; the names are: ${known.join(', ')}`);
  const taken = (file: string) => wanted.length === 0 || wanted.includes(file);
  await mkdir(OUTPUT, { recursive: true });
  const written: string[] = [];
  const screenshots = SCREENSHOTS.filter(({ file }) => taken(file));
  if (screenshots.length > 0) {
    const session = await startPortalInBrowser();
    try {
      const pages = await preparePortalPages(session);
      for (const { page, locale, file } of screenshots) {
        for (const width of WIDTHS) written.push(await screenshot(session, pages.get(page)!, locale, file, width));
      }
    } finally {
      await session.close();
    }
  }
  if (taken(themedFile)) {
    const themed = await startPortalInBrowser({ THEME: EXAMPLE_THEME });
    try {
      for (const width of WIDTHS) written.push(await screenshot(themed, { name: 'account', path: '/account', as: 'etudiant' }, 'fr', themedFile, width));
    } finally {
      await themed.close();
    }
  }
  const papercutShots = PAPERCUT_SCREENSHOTS.filter(taken);
  if (papercutShots.length > 0) {
    const withPaperCut = await startPortalInBrowser({}, { papercut: true });
    try {
      const pages = await preparePaperCutPages(withPaperCut);
      for (const file of papercutShots) {
        for (const width of WIDTHS) written.push(await screenshot(withPaperCut, pages.get(file)!, 'fr', file, width));
      }
    } finally {
      await withPaperCut.close();
    }
  }
  console.log(`Wrote ${written.length} screenshots to ${OUTPUT}:`);
  for (const file of written) console.log(`  ${file}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
