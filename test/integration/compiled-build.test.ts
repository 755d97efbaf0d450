import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { compile } from '../helpers/processes.js';
import { startPortalProcess } from '../instances/portal-process.js';

/** Modules production must never load: the TypeScript toolchain, the PayPal simulator and its certificate maker, the demo's seeding. */
const NOT_IN_PRODUCTION = {
  tsx: /\/node_modules\/tsx\//,
  esbuild: /\/node_modules\/(@esbuild\/[^/]+|esbuild)\//,
  typescript: /\/node_modules\/typescript\//,
  selfsigned: /\/node_modules\/selfsigned\//,
  'the PayPal simulator': /\/src\/payments\/paypal\/simulator\//,
  'the demo seeding': /\/src\/services\/demo\/demo\.[jt]s$/,
};
type Unwanted = keyof typeof NOT_IN_PRODUCTION;

/** Which of NOT_IN_PRODUCTION the modules loaded include. */
const unwantedIn = (modules: string[]) => (Object.keys(NOT_IN_PRODUCTION) as Unwanted[]).filter((name) => modules.some((url) => NOT_IN_PRODUCTION[name].test(url)));

/**
 * Packages loaded only when first needed, not at start (each takes tens of milliseconds or more to load):
 * sharp with the first image processed, nodemailer with the first mail sent, an identity protocol's
 * package when a provider of that protocol is configured.
 */
const NOT_AT_START = {
  sharp: /\/node_modules\/sharp\//,
  nodemailer: /\/node_modules\/nodemailer\//,
  'node-saml': /\/node_modules\/@node-saml\//,
  'openid-client': /\/node_modules\/openid-client\//,
  ldapts: /\/node_modules\/ldapts\//,
};
const loadedAtStart = (modules: string[]) => Object.keys(NOT_AT_START).filter((name) => modules.some((url) => NOT_AT_START[name as keyof typeof NOT_AT_START].test(url)));

describe(`the compiled build, as npm start runs it (${testDialect})`, function () {
  this.timeout(180_000);
  let database: TestDatabase;
  let workDir: string;
  before(async () => {
    await compile();
    database = await createTestDatabase();
    workDir = await mkdtemp(path.join(tmpdir(), 'recharge-compiled-'));
  });
  after(async () => {
    await database.cleanup();
    await rm(workDir, { recursive: true, force: true });
  });

  /**
   * Starts the portal with a module-loading hook (test/helpers/loaded-modules.mjs), checks it serves
   * /healthz and a page, stops it, and returns the URL of every module the process loaded.
   */
  async function modulesLoaded(name: string, env: NodeJS.ProcessEnv, compiled: boolean): Promise<string[]> {
    const file = path.join(workDir, `${name}.modules`);
    const hook = path.join(projectRoot, 'test/helpers/loaded-modules.mjs');
    const portal = startPortalProcess(name, { ...env, LOADED_MODULES_FILE: file, UPLOADS_DIR: path.join(workDir, 'uploads') }, { compiled, nodeOptions: ['--import', hook] });
    try {
      await portal.ready.catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${portal.output}`);
      });
      expect((await fetch(`${portal.url}/healthz`)).status).to.equal(200);
      const login = await fetch(`${portal.url}/login`, { headers: { 'accept-language': 'en' } });
      expect(login.status).to.equal(200);
      expect(await login.text()).to.include('Log in');
    } finally {
      await portal.stop();
    }
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  }

  const production = () => ({
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PAYPAL_ENV: 'sandbox',
    PAYPAL_CLIENT_ID: 'recharge-test-client',
    PAYPAL_CLIENT_SECRET: 'recharge-test-secret',
    PAYPAL_WEBHOOK_ID: 'RECHARGE-TEST-WEBHOOK',
    MAIL_DELIVERY: 'keep',
    LOG_LEVEL: 'warn',
  });
  const demo = () => ({ NODE_ENV: 'development', DATABASE_URL: database.url, PAYPAL_SIM_PORT: '0', LOG_LEVEL: 'warn' });

  it('in production runs the compiled JavaScript and loads no TypeScript toolchain, simulator, selfsigned or demo seeding', async () => {
    const modules = await modulesLoaded('production', production(), true);
    expect(modules).to.include(pathToFileURL(path.join(projectRoot, 'dist/src/server.js')).href);
    expect(modules.filter((url) => url.startsWith(pathToFileURL(path.join(projectRoot, 'src/')).href))).to.deep.equal([]);
    expect(unwantedIn(modules)).to.deep.equal([]);
  });

  it('with mail sent over SMTP and no institutional sign-in, starts without sharp, nodemailer, node-saml, openid-client or ldapts', async () => {
    // No mail is due at start, so nothing is sent to this closed port.
    const modules = await modulesLoaded('lazy', { ...production(), MAIL_DELIVERY: 'smtp', MAIL_FROM: 'recharge@example.edu', SMTP_HOST: '127.0.0.1', SMTP_PORT: '9' }, true);
    expect(loadedAtStart(modules)).to.deep.equal([]);
  });

  it('in demo mode loads the simulator, selfsigned and the demo seeding, so the hook sees them when they load', async () => {
    const modules = await modulesLoaded('demo', demo(), true);
    expect(unwantedIn(modules)).to.deep.equal(['selfsigned', 'the PayPal simulator', 'the demo seeding']);
  });

  it('from the TypeScript sources loads tsx and esbuild, so the hook sees them when they load', async () => {
    const modules = await modulesLoaded('sources', demo(), false);
    expect(unwantedIn(modules)).to.include.members(['tsx', 'esbuild']);
  });
});
