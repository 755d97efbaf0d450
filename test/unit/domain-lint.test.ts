import path from 'node:path';
import { expect } from 'chai';
import { ESLint } from 'eslint';

/**
 * The eslint block of src/domain (eslint.config.js): the domain is handed the time and does no I/O,
 * so it reaches no clock, environment, timer or network through a global, which the dependency rule
 * (imports only) cannot see. Linted as `npm run lint` does, with the project's configuration.
 */
const projectRoot = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: projectRoot });

/** The rule and message of each problem eslint finds in `code`, as if it were the file `file` of the project. */
async function problems(file: string, code: string): Promise<{ rule: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(projectRoot, file) });
  return result!.messages.map(({ ruleId, message }) => ({ rule: ruleId, message }));
}

describe('the domain lint block (npm run lint)', function () {
  this.timeout(30_000);

  const leaks = {
    'Date.now()': ['no-restricted-properties', 'export const stamp = (): number => Date.now();'],
    'new Date()': ['no-restricted-syntax', 'export const today = (): Date => new Date();'],
    'Date()': ['no-restricted-syntax', 'export const today = (): string => Date();'],
    'performance.now()': ['no-restricted-globals', 'export const stamp = (): number => performance.now();'],
    'process.env': ['no-restricted-globals', "export const zone = (): string | undefined => process.env['TZ'];"],
    setTimeout: ['no-restricted-globals', 'export const later = (run: () => void): void => { setTimeout(run, 1000); };'],
    setInterval: ['no-restricted-globals', 'export const every = (run: () => void): void => { setInterval(run, 1000); };'],
    setImmediate: ['no-restricted-globals', 'export const soon = (run: () => void): void => { setImmediate(run); };'],
    fetch: ['no-restricted-globals', "export const rates = async (): Promise<unknown> => (await fetch('https://example.org/rates')).json();"],
  } as const;

  for (const [leak, [rule, code]] of Object.entries(leaks)) {
    it(`refuses ${leak} in src/domain, saying where the code belongs`, async () => {
      const found = await problems('src/domain/pricing/example.ts', code);
      expect(found.map((problem) => problem.rule)).to.deep.equal([rule]);
      expect(found[0]!.message).to.include('src/services');
    });
  }

  it('names the injected Clock and src/services in what it says of the time', async () => {
    const [found] = await problems('src/domain/pricing/example.ts', leaks['Date.now()'][1]);
    expect(found!.message).to.include('injected Clock').and.include('src/services');
  });

  it('accepts time handed in: the injected clock, a given instant, a date built from numbers', async () => {
    const code = [
      "import type { Clock } from '../time/clock.js';",
      'export const stamp = (clock: Clock): number => clock.now().getTime();',
      'export const later = (now: Date): Date => new Date(now.getTime() + 1000);',
      'export const newYear = (year: number): Date => new Date(Date.UTC(year, 0, 1));',
      '',
    ].join('\n');
    expect(await problems('src/domain/pricing/example.ts', code)).to.deep.equal([]);
  });

  it('leaves the layers above the domain free to read the clock', async () => {
    expect(await problems('src/services/pricing/example.ts', leaks['Date.now()'][1])).to.deep.equal([]);
  });
});
