import { AxeBuilder } from '@axe-core/playwright';
import type { Result } from 'axe-core';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { startPortalInBrowser, type OpenedPage, type PortalInBrowser } from './portal-in-browser.js';
import { EXAMPLE_THEME, PAGE_NAMES, preparePortalPages, WIDTHS, type PortalPage } from './portal-pages.js';

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA, as axe-core tags them. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

function describeViolations(violations: Result[], where: string): string {
  const lines = violations.flatMap((violation) => [
    `- ${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help} — ${violation.helpUrl}`,
    ...violation.nodes.map((node) => `    at ${node.target.map(String).join(' ')}: ${node.failureSummary?.replace(/\s+/g, ' ') ?? ''}`),
  ]);
  return `axe-core found ${violations.length} violation(s) on ${where}:\n${lines.join('\n')}`;
}

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

/** Each page, opened fresh as its person in its language: CSP, width and axe-core. */
function checkPage(session: () => PortalInBrowser, page: () => PortalPage, width: number): void {
  let opened: OpenedPage;
  const where = () => `${page().path} (${page().name}) at ${width} px`;

  before(async function () {
    const entry = page();
    opened = await session().open({ width, locale: entry.locale, as: entry.as });
    const response = await opened.page.goto(entry.path);
    expect(response?.status(), `${where()} answered`).to.equal(200);
  });
  after(() => opened?.context.close());

  it('reports no Content-Security-Policy violation', async () => {
    expect(await opened.cspViolations(), `CSP violations on ${where()}`).to.deep.equal([]);
  });

  it('does not scroll sideways', async () => {
    const { scrollWidth, innerWidth } = await opened.page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth, `${where()} is ${scrollWidth} px wide; sticking out: ${(await widerThanViewport(opened.page)).join(', ')}`).to.be.at.most(innerWidth);
  });

  it('has no WCAG 2.2 A/AA violation that axe-core finds', async () => {
    const { violations } = await new AxeBuilder({ page: opened.page }).withTags(WCAG_TAGS).analyze();
    expect(violations.map((violation) => violation.id), describeViolations(violations, where())).to.deep.equal([]);
  });
}

describe('the portal in Chromium', function () {
  // Chromium starts, and each page is opened after logging in through the form.
  this.timeout(120_000);
  let session: PortalInBrowser;
  let pages: Map<string, PortalPage>;

  before(async () => {
    session = await startPortalInBrowser();
    pages = await preparePortalPages(session);
  });
  after(() => session?.close());

  for (const name of PAGE_NAMES) {
    for (const width of WIDTHS) {
      describe(`${name} at ${width} px`, () => checkPage(() => session, () => pages.get(name)!, width));
    }
  }

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
          await page.goto('/account');
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
  const account: PortalPage = { name: `account-${EXAMPLE_THEME}`, path: '/account', as: 'etudiant', locale: 'fr' };
  for (const width of WIDTHS) {
    describe(`account at ${width} px`, () => checkPage(() => session, () => account, width));
  }
});
