import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

/**
 * The dependency rule (.dependency-cruiser.cjs) run by `npm run lint:layers`, here on small trees of
 * the project's shape written to a temporary folder: a broken one must fail with the rule it breaks,
 * a clean one must pass, so the rule is proven to fire and not to fire on everything.
 */
const projectRoot = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(projectRoot, 'node_modules/.bin/depcruise');
const config = path.join(projectRoot, '.dependency-cruiser.cjs');

function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'recharge-layers-'));
  writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** Runs the check as `npm run lint:layers` does; returns the rules it names ("rule: from → to") and its exit code. */
async function checkTree(files: Record<string, string>): Promise<{ broken: string[]; output: string; exitCode: number }> {
  const root = writeTree(files);
  try {
    const run = await promisify(execFile)(depcruise, ['src', '--config', config, '--output-type', 'err-long'], { cwd: root }).then(
      (done) => ({ ...done, code: 0 }),
      (failed: { stdout: string; code: number }) => failed,
    );
    // A circle is printed over several lines, from its first file back to it: its first arrow is kept.
    const broken = [...run.stdout.matchAll(/^\s*error (\S+): (\S+) →\s+(\S+)/gm)].map(([, rule, from, to]) => `${rule}: ${from} → ${to!.replace(/^.*node_modules\//, 'node_modules/')}`);
    return { broken: broken.sort(), output: run.stdout, exitCode: run.code };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A tree that keeps the rule: each layer imports only what it may. */
const cleanTree = {
  'src/domain/ledger/ledger.ts': "export const rule = (units: number) => units * 2;\n",
  'src/db/database.ts': "export type Database = { name: string };\n",
  'src/db/ledger/ledger-repository.ts': "import { rule } from '../../domain/ledger/ledger.js';\nexport const read = () => rule(1);\n",
  'src/services/ledger/accounts.ts': "import { read } from '../../db/ledger/ledger-repository.js';\nexport const balance = () => read();\n",
  'src/web/routes/account.ts': "import type { Database } from '../../db/database.js';\nimport { balance } from '../../services/ledger/accounts.js';\nexport const page = (db: Database) => `${db.name}${balance()}`;\n",
};

describe('the dependency rule (npm run lint:layers)', function () {
  this.timeout(60_000);

  it('passes a tree where every import points one way', async () => {
    const { broken, output, exitCode } = await checkTree(cleanTree);
    expect(broken, output).to.deep.equal([]);
    expect(exitCode, output).to.equal(0);
  });

  it('fails a tree that breaks it, naming each rule broken', async () => {
    const { broken, output, exitCode } = await checkTree({
      ...cleanTree,
      'src/domain/pricing/pricing.ts': "import { read } from '../../db/ledger/ledger-repository.js';\nexport const price = () => read();\n",
      'src/domain/pricing/quotes.ts': "import knex from 'knex';\nimport { readFileSync } from 'node:fs';\nexport const both = [knex, readFileSync];\n",
      'src/web/routes/orders.ts': "import { read } from '../../db/ledger/ledger-repository.js';\nexport const page = () => read();\n",
      'src/services/checkout/checkout.ts': "import { page } from '../../web/routes/account.js';\nimport { refund } from './refunds.js';\nexport const pay = () => [page, refund];\n",
      'src/services/checkout/refunds.ts': "import { pay } from './checkout.js';\nexport const refund = () => pay;\n",
      'src/db/ledger/ledger-check.ts': "import { balance } from '../../services/ledger/accounts.js';\nexport const check = () => balance();\n",
    });
    expect(exitCode, output).to.not.equal(0);
    expect(broken, output).to.deep.equal([
      'adapters-stand-on-domain: src/db/ledger/ledger-check.ts → src/services/ledger/accounts.ts',
      'domain-does-no-io: src/domain/pricing/quotes.ts → node_modules/knex/knex.js',
      'domain-is-pure: src/domain/pricing/pricing.ts → src/db/ledger/ledger-repository.ts',
      'domain-uses-no-io-module: src/domain/pricing/quotes.ts → fs',
      'no-circles: src/services/checkout/checkout.ts → src/services/checkout/refunds.ts',
      'services-below-web: src/services/checkout/checkout.ts → src/web/routes/account.ts',
      'web-through-services: src/web/routes/orders.ts → src/db/ledger/ledger-repository.ts',
    ]);
    expect(output, 'the advice of the rule broken').to.include('src/web reaches data and outside systems through src/services');
  });
});
