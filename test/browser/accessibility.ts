import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, Result } from 'axe-core';
import { expect } from 'chai';
import type { Page } from 'playwright-core';

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA, as axe-core tags them. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * axe-core's minified build, injected and run directly: the portal has no frames, and
 * @axe-core/playwright's AxeBuilder injected the unminified build twice per page (once into a blank
 * page it opens to merge frame results), which made the checks several times slower.
 */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function describeViolations(violations: Result[], where: string): string {
  const lines = violations.flatMap((violation) => [
    `- ${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help} — ${violation.helpUrl}`,
    ...violation.nodes.map((node) => `    at ${node.target.map(String).join(' ')}: ${node.failureSummary?.replace(/\s+/g, ' ') ?? ''}`),
  ]);
  return `axe-core found ${violations.length} violation(s) on ${where}:\n${lines.join('\n')}`;
}

/** Fails, naming each rule and element, unless axe-core finds no WCAG 2.2 A/AA violation on the page as it is now. */
export async function expectNoAxeViolations(page: Page, where: string): Promise<void> {
  // Playwright's evaluate is not subject to the page's Content-Security-Policy.
  await page.evaluate(AXE_SOURCE);
  const { violations } = await page.evaluate(
    (tags) => (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    WCAG_TAGS,
  );
  expect(
    violations.map((violation) => violation.id),
    describeViolations(violations, where),
  ).to.deep.equal([]);
}
