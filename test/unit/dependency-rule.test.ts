import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

/**
 * The dependency rule (.dependency-cruiser.cjs and the folder-circle check beside it), run by
 * `npm run lint:layers` on small trees of the project's shape written to a temporary folder: a broken
 * one must fail with every rule, each named once, a clean one must pass, so that each rule is proven
 * to fire and none to fire on what the layers table allows.
 */
const projectRoot = path.resolve(import.meta.dirname, '../..');
const lintLayers: string = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).scripts['lint:layers'];
const ruleNames: string[] = createRequire(import.meta.url)(path.join(projectRoot, '.dependency-cruiser.cjs')).forbidden.map((rule: { name: string }) => rule.name);

/** A project folder holding `files`, the project's lint:layers script, its configuration and its node_modules. */
function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'recharge-layers-'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'layers-tree', private: true, type: 'module', scripts: { 'lint:layers': lintLayers } }));
  writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  for (const shared of ['node_modules', '.dependency-cruiser.cjs', '.dependency-cruiser-folder-circles.mjs']) {
    symlinkSync(path.join(projectRoot, shared), path.join(root, shared));
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** Runs `npm run lint:layers` in the tree; returns what it reports broken ("rule: from → to") and its exit code. */
async function checkTree(files: Record<string, string>): Promise<{ broken: string[]; output: string; exitCode: number }> {
  const root = writeTree(files);
  try {
    const run = await promisify(execFile)('npm', ['run', '--silent', 'lint:layers'], { cwd: root }).then(
      (done) => ({ ...done, code: 0 }),
      (failed: { stdout: string; code: number }) => failed,
    );
    // A file circle is printed over several lines, from its first file back to it: its first arrow is
    // kept. A folder circle is printed whole on one line.
    const broken = [...run.stdout.matchAll(/^\s*error (\S+): (\S+ →\s+\S+(?: → \S+)*)/gm)].map(
      ([, rule, arrows]) => `${rule}: ${arrows!.replace(/\s+/g, ' ').replace(/\S*node_modules\//, 'node_modules/')}`,
    );
    return { broken: broken.sort(), output: run.stdout, exitCode: run.code };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const ts = (...lines: string[]) => `${lines.join('\n')}\n`;

/** A tree that keeps the rule, each layer importing all that the table lets it. */
const cleanTree = {
  'src/domain/ledger/ledger.ts': ts("import { z } from 'zod';", "import { randomBytes } from 'node:crypto';", 'export const rule = (units: number) => z.number().int().parse(units) * 2 + randomBytes(1).length;'),
  'src/domain/shared/locale.ts': ts("export type Locale = 'fr' | 'en';"),
  'src/domain/people/login-throttle.ts': ts("import { isIPv6 } from 'node:net';", 'export const family = (address: string) => (isIPv6(address) ? 6 : 4);'),
  'src/config.ts': ts("import type { Locale } from './i18n/index.js';", "export const config = { locale: 'fr' as Locale };"),
  'src/logger.ts': ts("import { config } from './config.js';", 'export const logger = { info: (text: string) => `${config.locale}${text}` };'),
  'src/system-clock.ts': ts('export const systemClock = { now: () => new Date() };'),
  'src/i18n/index.ts': ts("export type { Locale } from '../domain/shared/locale.js';"),
  'src/db/database.ts': ts("import { config } from '../config.js';", 'export type Database = { name: string };', 'export const target = config.locale;'),
  'src/db/ledger/ledger-repository.ts': ts("import { rule } from '../../domain/ledger/ledger.js';", "import { target } from '../database.js';", 'export const read = () => rule(target.length);'),
  'src/payments/gateway.ts': ts("import type { Locale } from '../i18n/index.js';", 'export interface PaymentGateway { pay(locale: Locale): number }'),
  'src/payments/paypal/paypal-gateway.ts': ts("import { config } from '../../config.js';", "import type { PaymentGateway } from '../gateway.js';", 'export const paypal: PaymentGateway = { pay: () => config.locale.length };'),
  'src/smtp/transport.ts': ts("import { rule } from '../domain/ledger/ledger.js';", 'export const send = () => rule(1);'),
  'src/services/ledger/accounts.ts': ts(
    "import { read } from '../../db/ledger/ledger-repository.js';",
    "import { paypal } from '../../payments/paypal/paypal-gateway.js';",
    "import { send } from '../../smtp/transport.js';",
    "import { logger } from '../../logger.js';",
    'export const balance = () => logger.info(`${read()}${paypal.pay("fr")}${send()}`);',
  ),
  'src/web/http-error.ts': ts('export class HttpError extends Error {}'),
  'src/web/routes/account.ts': ts(
    "import type { Database } from '../../db/database.js';",
    "import type { PaymentGateway } from '../../payments/gateway.js';",
    "import { balance } from '../../services/ledger/accounts.js';",
    "import { HttpError } from '../http-error.js';",
    "import { config } from '../../config.js';",
    'export const page = (db: Database, gateway: PaymentGateway) => (db.name ? `${balance()}${gateway.pay(config.locale)}` : new HttpError());',
  ),
  'src/shutdown.ts': ts("import { logger } from './logger.js';", "export const shutDown = () => logger.info('bye');"),
  'src/metrics-app.ts': ts("import { HttpError } from './web/http-error.js';", 'export const metricsApp = () => new HttpError();'),
  'src/app.ts': ts("import { page } from './web/routes/account.js';", "import { metricsApp } from './metrics-app.js';", 'export const app = () => [page, metricsApp];'),
  'src/server.ts': ts("import { app } from './app.js';", "import { shutDown } from './shutdown.js';", "import { systemClock } from './system-clock.js';", 'export const serve = () => [app(), shutDown, systemClock];'),
  'src/cups-backend/main.ts': ts("import { z } from 'zod';", "import { spawn } from 'node:child_process';", "import { price } from './pricing.js';", 'export const run = () => [z.string(), spawn, price];'),
  'src/cups-backend/pricing.ts': ts('export const price = 1;'),
  'migrations/20260101000000_ledger.ts': ts("import type { Knex } from 'knex';", "import { rule } from '../src/domain/ledger/ledger.js';", "import type { Database } from '../src/db/database.js';", 'export const up = (knex: Knex, db: Database) => [knex, db, rule(1)];'),
  'migrations/20260102000000_ledger_again.ts': ts("import { up as first } from './20260101000000_ledger.js';", 'export const up = first;'),
};

/** One import per rule that breaks it (two where review found the rule's gaps), and what lint:layers prints for it. */
const breaks: Record<string, { files: Record<string, string>; broken: string[] }> = {
  'no-circles': {
    files: {
      'src/services/checkout/checkout.ts': ts("import { refund } from './refunds.js';", 'export const pay = () => refund;'),
      'src/services/checkout/refunds.ts': ts("import { pay } from './checkout.js';", 'export const refund = () => pay;'),
    },
    broken: ['no-circles: src/services/checkout/checkout.ts → src/services/checkout/refunds.ts'],
  },
  'domain-is-pure': {
    files: { 'src/domain/pricing/pricing.ts': ts("import { read } from '../../db/ledger/ledger-repository.js';", 'export const price = () => read();') },
    broken: ['domain-is-pure: src/domain/pricing/pricing.ts → src/db/ledger/ledger-repository.ts'],
  },
  'domain-uses-computing-packages-only': {
    files: { 'src/domain/pricing/gauges.ts': ts("import { Gauge } from 'prom-client';", 'export const gauge = Gauge;') },
    broken: ['domain-uses-computing-packages-only: src/domain/pricing/gauges.ts → node_modules/prom-client/index.js'],
  },
  'domain-uses-computing-node-modules-only': {
    files: { 'src/domain/pricing/waits.ts': ts("import { setTimeout } from 'node:timers/promises';", "import { hostname } from 'node:os';", 'export const wait = () => [setTimeout(1), hostname()];') },
    broken: ['domain-uses-computing-node-modules-only: src/domain/pricing/waits.ts → os', 'domain-uses-computing-node-modules-only: src/domain/pricing/waits.ts → timers/promises'],
  },
  'domain-opens-no-socket': {
    files: { 'src/domain/pricing/sockets.ts': ts("import { Socket } from 'node:net';", 'export const socket = Socket;') },
    broken: ['domain-opens-no-socket: src/domain/pricing/sockets.ts → net'],
  },
  'foundations-stand-on-domain': {
    files: { 'src/i18n/catalogs.ts': ts("import { shutDown } from '../shutdown.js';", 'export const catalogs = shutDown;') },
    broken: ['foundations-stand-on-domain: src/i18n/catalogs.ts → src/shutdown.ts'],
  },
  'repositories-stand-on-domain': {
    files: {
      'src/db/ledger/ledger-check.ts': ts("import { balance } from '../../services/ledger/accounts.js';", "import { logger } from '../../logger.js';", 'export const check = () => [balance(), logger];'),
    },
    broken: ['repositories-stand-on-domain: src/db/ledger/ledger-check.ts → src/logger.ts', 'repositories-stand-on-domain: src/db/ledger/ledger-check.ts → src/services/ledger/accounts.ts'],
  },
  'gateways-stand-on-domain': {
    files: { 'src/payments/paypal/receipts.ts': ts("import { send } from '../../smtp/transport.js';", 'export const mailReceipt = () => send();') },
    broken: ['gateways-stand-on-domain: src/payments/paypal/receipts.ts → src/smtp/transport.ts'],
  },
  'services-below-web': {
    files: { 'src/services/ledger/statements.ts': ts("import { page } from '../../web/routes/account.js';", 'export const statement = page;') },
    broken: ['services-below-web: src/services/ledger/statements.ts → src/web/routes/account.ts'],
  },
  'web-through-services': {
    files: {
      'src/web/routes/orders.ts': ts("import { read } from '../../db/ledger/ledger-repository.js';", "import { shutDown } from '../../shutdown.js';", 'export const page = () => [read(), shutDown];'),
    },
    broken: ['web-through-services: src/web/routes/orders.ts → src/db/ledger/ledger-repository.ts', 'web-through-services: src/web/routes/orders.ts → src/shutdown.ts'],
  },
  'web-uses-no-driver': {
    files: { 'src/web/routes/report.ts': ts("import knex from 'knex';", 'export const report = knex;') },
    broken: ['web-uses-no-driver: src/web/routes/report.ts → node_modules/knex/knex.js'],
  },
  'migrations-stand-on-domain': {
    files: { 'migrations/20260103000000_balances.ts': ts("import { balance } from '../src/services/ledger/accounts.js';", 'export const up = balance;') },
    broken: ['migrations-stand-on-domain: migrations/20260103000000_balances.ts → src/services/ledger/accounts.ts'],
  },
  'cups-backend-stands-alone': {
    files: { 'src/cups-backend/prices.ts': ts("import { rule } from '../domain/ledger/ledger.js';", "import knex from 'knex';", 'export const price = () => [rule(1), knex];') },
    broken: ['cups-backend-stands-alone: src/cups-backend/prices.ts → node_modules/knex/knex.js', 'cups-backend-stands-alone: src/cups-backend/prices.ts → src/domain/ledger/ledger.ts'],
  },
  'nothing-imports-the-cups-backend': {
    files: {
      'src/cups-backend/pricing.ts': ts('export const price = 1;'),
      'src/cli/print-prices.ts': ts("import { price } from '../cups-backend/pricing.js';", 'export const prices = price;'),
    },
    broken: ['nothing-imports-the-cups-backend: src/cli/print-prices.ts → src/cups-backend/pricing.ts'],
  },
  'product-code-not-tests': {
    files: {
      'test/helpers/portal.ts': ts('export const portal = 1;'),
      'src/services/ledger/seeds.ts': ts("import { portal } from '../../../test/helpers/portal.js';", 'export const seed = portal;'),
    },
    broken: ['product-code-not-tests: src/services/ledger/seeds.ts → test/helpers/portal.ts'],
  },
  'no-unresolvable-import': {
    files: { 'src/services/ledger/missing.ts': ts("import { gone } from './gone.js';", 'export const missing = gone;') },
    broken: ['no-unresolvable-import: src/services/ledger/missing.ts → ./gone.js'],
  },
};

describe('the dependency rule (npm run lint:layers)', function () {
  this.timeout(60_000);

  it('passes a tree where each layer imports all that the table lets it', async () => {
    const { broken, output, exitCode } = await checkTree(cleanTree);
    expect(broken, output).to.deep.equal([]);
    expect(exitCode, output).to.equal(0);
    expect(output).to.include('no circle between folders');
  });

  it('breaks every rule of .dependency-cruiser.cjs here, so that a rule added without a test fails', () => {
    expect(Object.keys(breaks).sort()).to.deep.equal([...ruleNames].sort());
  });

  it('fails a tree that breaks every rule, naming each rule and import', async () => {
    const { broken, output, exitCode } = await checkTree({ ...cleanTree, ...Object.assign({}, ...Object.values(breaks).map((rule) => rule.files)) });
    expect(exitCode, output).to.not.equal(0);
    expect(broken, output).to.deep.equal(Object.values(breaks).flatMap((rule) => rule.broken).sort());
    expect(output, 'the advice of the rule broken').to.include('src/web reaches data and outside systems through src/services');
  });

  it('fails a tree where folders import each other in a circle although no files do', async () => {
    const { broken, output, exitCode } = await checkTree({
      ...cleanTree,
      'src/web/metrics-app.ts': ts("import { metrics } from './routes/metrics.js';", 'export const metricsApp = () => metrics;'),
      'src/web/routes/metrics.ts': ts("import { HttpError } from '../http-error.js';", 'export const metrics = () => new HttpError();'),
    });
    expect(output, 'the file rules pass').to.include('no dependency violations found');
    expect(exitCode, output).to.not.equal(0);
    expect(broken, output).to.deep.equal(['no-folder-circles: src/web/ → src/web/routes/ → src/web/']);
    expect(output, 'the imports that close the circle').to.include('src/web/metrics-app.ts → src/web/routes/metrics.ts').and.include('src/web/routes/account.ts → src/web/http-error.ts');
  });
});
