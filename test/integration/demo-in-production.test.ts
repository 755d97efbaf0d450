import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import { systemClock } from '../../src/system-clock.js';
import { DEMO_API_KEY } from '../../src/services/demo/demo-logins.js';
import { seedDemoData } from '../../src/services/demo/demo.js';
import { createArgon2Hasher } from '../../src/domain/people/passwords.js';
import { createUserManagement } from '../../src/services/people/user-management.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { logIn } from '../helpers/portal.js';
import { runEntry } from '../helpers/processes.js';
import { startPortalProcess, type PortalProcess } from '../instances/portal-process.js';

describe(`demo credentials in production (${testDialect})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let uploadsDir: string;
  let production: NodeJS.ProcessEnv;
  before(async () => {
    database = await createTestDatabase();
    uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-demo-uploads-'));
    // What a site that once ran `npm start` in development, then switched to production, holds.
    await seedDemoData({ db: database.db, clock: systemClock, users: createUserManagement({ db: database.db, hasher: createArgon2Hasher(), clock: systemClock }) });
    production = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      UPLOADS_DIR: uploadsDir,
      PAYPAL_ENV: 'simulator',
      ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'true',
      PAYPAL_SIM_PORT: '0',
      MAIL_DELIVERY: 'keep',
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    await database.cleanup();
    await rm(uploadsDir, { recursive: true, force: true });
  });

  /** Starts the portal as `npm start` does; resolves once it listens, or rejects with what it printed. */
  async function started(env: NodeJS.ProcessEnv): Promise<PortalProcess> {
    const portal = startPortalProcess('production', env);
    await portal.ready.catch(async (error: unknown) => {
      await portal.stop();
      throw new Error(`${(error as Error).message}\n${portal.output}`);
    });
    return portal;
  }
  const demoAdminLogin = (url: string) => logIn(supertest.agent(url), 'admin', 'admin-demo-2026').then((response) => response.status);
  const demoKeyStatus = (url: string) => supertest(url).get('/api/v1/accounts/etudiant').set('Authorization', `Bearer ${DEMO_API_KEY}`).then((response) => response.status);
  const auditRows = () => database.db.knex('audit_log').whereIn('action', ['person.disable', 'api_key.revoke']).orderBy('id').select('actor_user_id', 'actor_username', 'action', 'target');

  it('refuses to start while the demo people or the demo API key work, naming them, the command that removes them and the override', async () => {
    const portal = startPortalProcess('refused', production);
    const ending = await portal.ready.then(
      () => 'it started',
      (error: unknown) => (error as Error).message,
    );
    await portal.stop();
    expect(ending).to.match(/^exited with 1 /);
    expect(portal.output)
      .to.include('Refusing to start in production: the demo logins etudiant, admin, informatique, reprographie (with the password printed in the README) and the demo print-server API key (rk_demoP…) still work')
      .and.include('`npm run cli -- demo remove`')
      .and.include('ALLOW_DEMO_IN_PRODUCTION=true');
  });

  it('starts anyway with ALLOW_DEMO_IN_PRODUCTION=true, warning in the log, and the demo credentials work', async () => {
    const portal = await started({ ...production, ALLOW_DEMO_IN_PRODUCTION: 'true' });
    try {
      const warning = portal.logs.find((line) => line.msg.startsWith('DEMO CREDENTIALS WORK IN PRODUCTION'));
      expect(warning?.level).to.equal(40);
      expect(await demoAdminLogin(portal.url)).to.equal(303);
      expect(await demoKeyStatus(portal.url)).to.equal(200);
    } finally {
      await portal.stop();
    }
  });

  it('`demo remove` disables the demo people and revokes the key, audited, once; the portal then starts and the demo credentials fail', async () => {
    const removed = await runEntry('src/cli.ts', ['demo', 'remove'], { env: production });
    expect(removed, removed.stderr).to.deep.include({
      code: 0,
      stdout: 'Disabled etudiant, admin, informatique, reprographie (they still had their demo password).\nRevoked the demo print-server API key.\n',
    });
    const audit = await auditRows();
    expect(audit.map((row) => [row.action, row.target])).to.deep.equal([
      ['person.disable', 'etudiant'],
      ['person.disable', 'admin'],
      ['person.disable', 'informatique'],
      ['person.disable', 'reprographie'],
      ['api_key.revoke', 'Imprimantes de démonstration'],
    ]);
    for (const row of audit) {
      expect(row.actor_user_id).to.equal(null);
      expect(row.actor_username).to.match(/^cli:/);
    }

    const again = await runEntry('src/cli.ts', ['demo', 'remove'], { env: production });
    expect(again).to.deep.include({ code: 0, stdout: 'Nothing to remove: no demo person has their demo password and the demo API key is revoked or absent.\n' });
    expect(await auditRows()).to.have.length(5);

    const portal = await started(production);
    try {
      expect(portal.logs.filter((line) => line.msg.startsWith('DEMO CREDENTIALS'))).to.deep.equal([]);
      expect(await demoAdminLogin(portal.url)).to.equal(403);
      expect(await demoKeyStatus(portal.url)).to.equal(401);
    } finally {
      await portal.stop();
    }
  });

  it('starts when the site has its own person named like a demo one, with a password of its own', async () => {
    const own = await createTestDatabase();
    try {
      await createUserManagement({ db: own.db, hasher: createArgon2Hasher(), clock: systemClock }).addUser({
        username: 'admin',
        password: 'a password of our own',
        displayName: 'Our admin',
        email: 'admin@example.edu',
        role: 'admin',
        locale: null,
      });
      const portal = await started({ ...production, DATABASE_URL: own.url });
      try {
        expect(await demoAdminLogin(portal.url)).to.equal(401);
      } finally {
        await portal.stop();
      }
    } finally {
      await own.cleanup();
    }
  });
});
