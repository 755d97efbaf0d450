import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { apiPortalPerTest } from './print-api-helpers.js';

const readmePath = path.resolve(import.meta.dirname, '../../README.md');

interface Example {
  comment: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** The curl commands of the README's print-server API section, each with the comment above it. */
async function readmeExamples(): Promise<Example[]> {
  const readme = await readFile(readmePath, 'utf8');
  const start = readme.indexOf('## Print-server API');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const lines = script.replace(/\\\n\s*/g, '').split('\n');
  const examples: Example[] = [];
  let comment = '';
  for (const line of lines) {
    if (line.startsWith('#')) comment = line;
    if (!line.startsWith('curl ')) continue;
    const url = /\$URL(\/[^\s"]*)|"\$URL(\/[^"]*)"/.exec(line);
    const headers = Object.fromEntries(
      [...line.matchAll(/-H (?:'([^']*)'|"([^"]*)")/g)].map((match) => {
        const header = (match[1] ?? match[2]!).replace('$(cat /proc/sys/kernel/random/uuid)', randomUUID());
        const colon = header.indexOf(':');
        return [header.slice(0, colon), header.slice(colon + 1).trim()];
      }),
    );
    delete headers.Authorization; // the demo key: the test's key is sent instead
    const data = /-d '([^']*)'/.exec(line)?.[1];
    examples.push({ comment, method: /-X POST/.test(line) ? 'POST' : 'GET', path: url?.[1] ?? url?.[2] ?? '', headers, body: data === undefined ? undefined : (JSON.parse(data) as unknown) });
  }
  return examples;
}

describe("the README's print-server API examples", () => {
  const context = apiPortalPerTest();

  it('are sent as written (key aside) and answered as their comments say, each request and answer as the contract says', async () => {
    await context.api.person('etudiant', 1000);
    const examples = await readmeExamples();
    expect(examples.map((example) => `${example.method} ${example.path}`)).to.include.members(['POST /accounts/etudiant/debits', 'POST /accounts/etudiant/refusals']);
    for (const example of examples) {
      const refused = /refused request/i.test(example.comment);
      const answer = await context.api.api({ method: example.method, path: example.path, headers: example.headers, body: example.body, conforms: !refused });
      expect(answer.status, `${example.comment}\n${answer.text}`).to.satisfy((status: number) => (refused ? status === 400 : status >= 200 && status < 300));
    }
  });
});
