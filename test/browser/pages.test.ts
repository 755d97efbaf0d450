import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectNoAxeViolations } from './accessibility.js';
import { startPortalInBrowser, type Locale, type OpenedPage, type PortalInBrowser } from './portal-in-browser.js';
import { PAPERCUT_PAGE_NAMES, preparePaperCutPages, type PaperCutPageName } from './papercut-pages.js';
import { EXAMPLE_THEME, openPortalPage, PAGE_NAMES, preparePortalPages, viewerOf, WIDTHS, type PageName, type PortalPage } from './portal-pages.js';

/**
 * How each page is looked at: in French on a phone and a laptop, and in English on a laptop (the same
 * templates and stylesheet with other words: the language is what changes, not the layout).
 */
const VIEWS: ReadonlyArray<{ locale: Locale; width: number }> = (['fr', 'en'] as const).flatMap((locale) => WIDTHS.map((width) => ({ locale, width })));

/** The elements that stick out to the right of the viewport, to say what makes the page scroll sideways. */
function widerThanViewport(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.body.querySelectorAll('*'))
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 8)
      .map((element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.classList.length > 0 ? `.${[...element.classList].join('.')}` : ''} (right edge ${Math.round(element.getBoundingClientRect().right)} px)`),
  );
}

/** The area of an element a sighted person can see: its box cut by every clipping ancestor (overflow, clip, clip-path). */
function visibleArea(page: Page, selector: string): Promise<number> {
  return page.evaluate((wanted) => {
    const element = document.querySelector(wanted);
    if (!element) throw new Error(`no ${wanted} on the page`);
    const box = element.getBoundingClientRect();
    let [left, top, right, bottom] = [box.left, box.top, box.right, box.bottom];
    for (let node: Element | null = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.display === 'none' || style.visibility !== 'visible' || style.opacity === '0' || /inset\(50%\)/.test(style.clipPath)) return 0;
      const bounds = node.getBoundingClientRect();
      if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
        [left, top, right, bottom] = [Math.max(left, bounds.left), Math.max(top, bounds.top), Math.min(right, bounds.right), Math.min(bottom, bounds.bottom)];
      }
      const clip = /^rect\(([-\d.]+)px,? ([-\d.]+)px,? ([-\d.]+)px,? ([-\d.]+)px\)$/.exec(style.clip);
      if (clip && style.position === 'absolute') {
        const [clipTop, clipRight, clipBottom, clipLeft] = clip.slice(1).map(Number) as [number, number, number, number];
        [left, top, right, bottom] = [Math.max(left, bounds.left + clipLeft), Math.max(top, bounds.top + clipTop), Math.min(right, bounds.left + clipRight), Math.min(bottom, bounds.top + clipBottom)];
      }
    }
    return Math.max(0, right - left) * Math.max(0, bottom - top);
  }, selector);
}

interface Focused {
  /** Position in document order, to check that Tab follows it. */
  order: number;
  description: string;
  inMainNavigation: boolean;
  isFirstFormControl: boolean;
  isSkipLink: boolean;
  /** Focus left the page (after its last control, Tab goes to the browser's own controls). */
  leftPage: boolean;
}

async function pressTab(page: Page): Promise<Focused> {
  await page.keyboard.press('Tab');
  return page.evaluate(() => {
    const element = document.activeElement ?? document.body;
    const formControls = Array.from(document.querySelectorAll('input:not([type="hidden"]), select, textarea, button')).filter(
      (control) => !(control as HTMLInputElement).disabled && control.getClientRects().length > 0,
    );
    return {
      order: Array.from(document.querySelectorAll('*')).indexOf(element),
      description: `${element.tagName.toLowerCase()} "${(element.textContent ?? '').trim().slice(0, 40)}"`,
      inMainNavigation: element.closest('header nav') !== null,
      isFirstFormControl: element === formControls[0],
      isSkipLink: element.matches('a[href="#main"]'),
      leftPage: element === document.body,
    };
  });
}

interface View {
  locale: Locale;
  width: number;
}

const LANGUAGES: Record<Locale, string> = { fr: 'French', en: 'English' };

/** Opens pages as a person (a demo username, or nobody) in the view's language and width. */
type Viewer = (as: string | undefined) => Promise<OpenedPage>;

/** One page, opened by its person's page of the view: language, CSP, width and axe-core. */
function checkPage(page: () => PortalPage, viewer: Viewer, { locale, width }: View): void {
  let opened: OpenedPage;
  // The context has heard the pages opened before this one: only what comes after is this page's.
  let heardBefore = 0;
  const where = () => `${page().path} (${page().name}) in ${locale} at ${width} px`;

  before(async () => {
    const entry = page();
    opened = await viewer(viewerOf(entry, locale));
    heardBefore = (await opened.cspViolations()).length;
    const response = await openPortalPage(opened.page, entry);
    expect(response?.status(), `${where()} answered`).to.equal(entry.status ?? 200);
  });

  it(`is in ${LANGUAGES[locale]}`, async () => {
    expect(await opened.page.locator('html').getAttribute('lang'), `the language of ${where()}`).to.equal(locale);
  });

  it('reports no Content-Security-Policy violation', async () => {
    expect((await opened.cspViolations()).slice(heardBefore), `CSP violations on ${where()}`).to.deep.equal([]);
  });

  it('does not scroll sideways', async () => {
    const { scrollWidth, innerWidth } = await opened.page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth, `${where()} is ${scrollWidth} px wide; sticking out: ${(await widerThanViewport(opened.page)).join(', ')}`).to.be.at.most(innerWidth);
  });

  it('has no WCAG 2.2 A/AA violation that axe-core finds', () => expectNoAxeViolations(opened.page, where()));
}

/** A person's context in a view; logging in (the person's first context) must not have met a CSP violation either. */
async function openViewer(session: PortalInBrowser, view: View, as: string | undefined): Promise<OpenedPage> {
  const opened = await session.open({ ...view, as });
  expect(await opened.cspViolations(), `CSP violations while ${as ?? 'nobody'} logged in`).to.deep.equal([]);
  return opened;
}

/**
 * The pages in one view. Each person has one browser context in the view, signed in once, that
 * opens their pages one after the other: a context per page made the run half as long again.
 */
function describeView(session: () => PortalInBrowser, view: View, pages: ReadonlyArray<readonly [string, () => PortalPage]>): void {
  describe(`in ${LANGUAGES[view.locale]} at ${view.width} px`, () => {
    const viewers = new Map<string, Promise<OpenedPage>>();
    const viewer: Viewer = (as) => {
      const key = as ?? '';
      if (!viewers.has(key)) viewers.set(key, openViewer(session(), view, as));
      return viewers.get(key)!;
    };
    after(() => Promise.all([...viewers.values()].map(async (opened) => (await opened).context.close())));
    for (const [name, page] of pages) describe(name, () => checkPage(page, viewer, view));
  });
}

describe('the portal in Chromium', function () {
  // Chromium starts, and the pages are prepared through the browser.
  this.timeout(120_000);
  let session: PortalInBrowser;
  let pages: Map<PageName, PortalPage>;

  before(async () => {
    session = await startPortalInBrowser();
    pages = await preparePortalPages(session);
  });
  after(() => session?.close());

  for (const view of VIEWS) {
    describeView(
      () => session,
      view,
      PAGE_NAMES.map((name) => [name, () => pages.get(name)!] as const),
    );
  }

  it('hears a Content-Security-Policy violation when one happens', async () => {
    const { page, context, cspViolations } = await session.open({ width: 1280 });
    try {
      await page.goto('/login');
      const consoleReport = page.waitForEvent('console', (message) => message.text().includes('Content Security Policy'));
      // An image from another origin: the portal's img-src refuses it before any request is made.
      await page.evaluate(() => document.body.append(Object.assign(document.createElement('img'), { src: 'http://example.invalid/tracker.png', alt: '' })));
      await consoleReport;
      const heard = await cspViolations();
      expect(heard.some((violation) => violation.includes('img-src blocked http://example.invalid/tracker.png')), `heard: ${heard.join(' | ')}`).to.equal(true);
      expect(heard.some((violation) => violation.startsWith('console on ')), `heard: ${heard.join(' | ')}`).to.equal(true);
    } finally {
      await context.close();
    }
  });

  for (const width of WIDTHS) {
    describe(`the keyboard on the account page at ${width} px`, () => {
      let opened: OpenedPage;
      beforeEach(async () => {
        opened = await session.open({ width, as: 'etudiant' });
        await opened.page.goto('/account');
      });
      afterEach(() => opened?.context.close());

      it('focuses the skip link first, visibly, with a focus outline', async () => {
        const first = await pressTab(opened.page);
        expect(first.isSkipLink, `the first Tab focused ${first.description}`).to.equal(true);
        const box = await opened.page.locator(':focus').boundingBox();
        expect(box, 'the focused skip link has no box').to.not.equal(null);
        expect(box!.x, 'the skip link is left of the viewport').to.be.at.least(0);
        expect(box!.y, 'the skip link is above the viewport').to.be.at.least(0);
        expect(box!.x + box!.width, 'the skip link is right of the viewport').to.be.at.most(width);
        expect(box!.width * box!.height, 'the skip link is too small to see').to.be.above(100);
        const indicator = await opened.page.evaluate(() => {
          const style = getComputedStyle(document.activeElement!);
          return { outline: `${style.outlineStyle} ${style.outlineWidth}`, boxShadow: style.boxShadow };
        });
        const outlined = !indicator.outline.startsWith('none') && !indicator.outline.endsWith(' 0px');
        expect(outlined || indicator.boxShadow !== 'none', `no focus indicator on the skip link: ${JSON.stringify(indicator)}`).to.equal(true);
      });

      it('takes Tab in document order through the main navigation and the first form control', async () => {
        const visited: Focused[] = [];
        for (let step = 0; step < 30; step += 1) {
          const focused = await pressTab(opened.page);
          if (focused.leftPage || visited.some((earlier) => earlier.order === focused.order)) break;
          visited.push(focused);
        }
        const path = visited.map((focused) => focused.description).join(' → ');
        expect(visited.some((focused) => focused.inMainNavigation), `Tab never reached the main navigation: ${path}`).to.equal(true);
        expect(visited.some((focused) => focused.isFirstFormControl), `Tab never reached the first form control: ${path}`).to.equal(true);
        const orders = visited.map((focused) => focused.order);
        expect(orders, `Tab does not follow the document order: ${path}`).to.deep.equal([...orders].sort((a, b) => a - b));
      });

      it('moves focus to the main content when the skip link is followed', async () => {
        await pressTab(opened.page);
        await opened.page.keyboard.press('Enter');
        expect(await opened.page.evaluate(() => document.activeElement?.id)).to.equal('main');
      });
    });
  }

  describe('the account history', () => {
    for (const [width, shown] of [
      [1280, true],
      [360, false],
    ] as const) {
      it(`${shown ? 'shows' : 'hides'} the table's header row at ${width} px${shown ? '' : ' (each line reads as a card)'}`, async () => {
        const { page, context } = await session.open({ width, as: 'etudiant' });
        try {
          await page.goto('/account/history');
          const area = await visibleArea(page, 'table.history thead tr');
          if (shown) expect(area, 'visible area of the header row, px²').to.be.above(1);
          else expect(area, 'visible area of the header row, px²').to.be.at.most(1);
          expect(await page.locator('table.history thead th').count(), 'the header cells stay for screen readers').to.be.above(0);
        } finally {
          await context.close();
        }
      });
    }
  });
});

// The example theme's look is checked too.
describe(`the portal in Chromium with the example theme "${EXAMPLE_THEME}"`, function () {
  this.timeout(120_000);
  let session: PortalInBrowser;
  before(async () => {
    session = await startPortalInBrowser({ THEME: EXAMPLE_THEME });
  });
  after(() => session?.close());
  const account: PortalPage = { name: `account-${EXAMPLE_THEME}`, path: '/account', as: 'etudiant' };
  for (const view of VIEWS) describeView(() => session, view, [['account', () => account]]);
});

// Credits going to PaperCut change the account, top-up and order pages, and add the transfers' pages.
describe('the portal in Chromium with credits going to PaperCut', function () {
  this.timeout(120_000);
  let session: PortalInBrowser;
  let pages: Map<PaperCutPageName, PortalPage>;
  before(async () => {
    session = await startPortalInBrowser({}, { papercut: true });
    pages = await preparePaperCutPages(session);
  });
  after(() => session?.close());
  for (const view of VIEWS) {
    describeView(
      () => session,
      view,
      PAPERCUT_PAGE_NAMES.map((name) => [name, () => pages.get(name)!] as const),
    );
  }
});
