import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { compile, waitForOutput } from '../helpers/processes.js';
import { allowedSystemCalls, deployFolder, nodeFromRegistry, requireProgram, run, serviceSetting, serviceSettings } from './deploy-files.js';

/** The unit's ExecStart, with the Node running this test in place of /usr/bin/node. */
function execStart(): string[] {
  const [, ...args] = serviceSetting('ExecStart').split(' ');
  return [process.execPath, ...args];
}

/** What /etc/recharge/recharge.env holds on a server, for a portal on this machine's loopback with a database in `folder`. */
function productionEnvironment(folder: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    // Plain http here (a warning in the log): the test signs in without TLS in front.
    PUBLIC_URL: 'http://127.0.0.1',
    // Reached on the port chosen at start, which PUBLIC_URL cannot name: pages are not sent there.
    REDIRECT_TO_PUBLIC_URL: 'false',
    TRUST_PROXY: 'loopback',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: `sqlite:${path.join(folder, 'data', 'recharge.sqlite')}`,
    UPLOADS_DIR: path.join(folder, 'data', 'uploads'),
    PAYPAL_ENV: 'sandbox',
    PAYPAL_CLIENT_ID: 'client-id',
    PAYPAL_CLIENT_SECRET: 'client-secret',
    PAYPAL_WEBHOOK_ID: 'webhook-id',
    MAIL_DELIVERY: 'keep',
  };
}

describe('docs/deploy/recharge.service', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    await requireProgram('systemd-analyze', ['--version'], 'systemd');
    // verify warns about unknown keys and values it cannot parse, and still exits 0: so nothing on stderr either.
    const { stdout, stderr } = await run('systemd-analyze', ['verify', path.join(deployFolder, 'recharge.service')]);
    expect(stderr).to.equal('');
    expect(stdout).to.equal('');
  });

  it('starts what npm run build produces, stops with SIGTERM after the portal’s own shutdown wait, and may write only the data folder', async function () {
    this.timeout(120_000);
    // Through the launcher, which checks Node's version and that dist/ was built from these sources.
    expect(serviceSetting('ExecStart').split(' ')).to.deep.equal(['/usr/bin/node', '--enable-source-maps', 'scripts/run-compiled.mjs', 'src/server.ts']);
    await compile();
    // WorkingDirectory is the release, this project here.
    expect(existsSync(path.join(projectRoot, 'dist/src/server.js')), 'dist/src/server.js after npm run build').to.equal(true);

    expect(serviceSetting('KillSignal')).to.equal('SIGTERM');
    const defaults = JSON.parse(readFileSync(path.join(projectRoot, 'config', 'default.json'), 'utf8')) as {
      server: { shutdownTimeoutSeconds: number };
      database: { url: string };
      branding: { uploadsDir: string };
    };
    expect(Number(serviceSetting('TimeoutStopSec'))).to.be.greaterThan(defaults.server.shutdownTimeoutSeconds);
    expect(serviceSetting('Restart')).to.equal('on-failure');

    const workingDirectory = serviceSetting('WorkingDirectory');
    // The only folder the portal writes by default: the SQLite database and the uploaded logos are in it.
    expect(serviceSetting('ReadWritePaths')).to.equal(`${workingDirectory}/data`);
    expect([defaults.database.url, defaults.branding.uploadsDir]).to.deep.equal(['sqlite:data/recharge.sqlite', 'data/uploads']);
    const settings = serviceSettings();
    for (const [key, value] of Object.entries({ User: 'recharge', EnvironmentFile: '/etc/recharge/recharge.env', NoNewPrivileges: 'yes', ProtectSystem: 'strict', PrivateTmp: 'yes', ProtectHome: 'yes' })) {
      expect(settings.get(key), key).to.deep.equal([value]);
    }
  });

  it('is not restarted after a configuration error: the portal exits 78, which RestartPreventExitStatus names', async function () {
    this.timeout(120_000);
    await compile();
    const folder = await mkdtemp(path.join(tmpdir(), 'recharge-unit-'));
    try {
      const { SESSION_SECRET: _left, ...withoutSecret } = productionEnvironment(folder);
      const [node, ...args] = execStart();
      const refused = await run(node as string, args, { cwd: projectRoot, env: withoutSecret }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(refused.stderr).to.include('session.secret (SESSION_SECRET): is required in production');
      expect(refused.code).to.equal(78);
      expect(serviceSetting('RestartPreventExitStatus')).to.equal('78');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  /**
   * With an allow-list and no SystemCallErrorNumber=, systemd kills the process at its first call outside
   * the list (SIGSYS). So every call the portal makes is recorded (strace, following its threads) while it
   * starts as the unit starts it, serves pages and stops; the calls outside the unit's filter, as this
   * machine's systemd expands it, are returned.
   */
  async function callsOutsideFilter(node: string): Promise<string[]> {
    await requireProgram('strace', ['-V'], 'strace');
    await requireProgram('systemd-analyze', ['--version'], 'systemd');
    const filter = serviceSettings().get('SystemCallFilter') ?? [];
    // One allow-list: a line starting with ~ would be a deny-list, read otherwise.
    expect(filter).to.have.length(1);
    expect(filter[0]).not.to.match(/^~/);
    const allowed = await allowedSystemCalls((filter[0] as string).split(/\s+/));

    await compile();
    const folder = await mkdtemp(path.join(tmpdir(), 'recharge-syscalls-'));
    const calls = path.join(folder, 'system-calls');
    const [, ...args] = execStart();
    const strace = spawn('strace', ['-f', '-qq', '-c', '-U', 'name', '-o', calls, node, ...args], { cwd: projectRoot, env: productionEnvironment(folder), stdio: ['ignore', 'pipe', 'pipe'] });
    /** The portal: strace's only child. */
    const portalPid = async () => {
      const pid = Number((await run('ps', ['-o', 'pid=', '--ppid', String(strace.pid)])).stdout.trim());
      if (!(pid > 0)) throw new Error('strace has no child');
      return pid;
    };
    const exited = once(strace, 'exit');
    try {
      let output = '';
      strace.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const banner = await waitForOutput(strace, /Recharge is running at http:\/\/localhost:(\d+)/, 120_000);
      const url = `http://127.0.0.1:${/localhost:(\d+)/.exec(banner)?.[1]}`;

      const form = await fetch(`${url}/login`);
      const page = await form.text();
      expect(form.status).to.equal(200);
      // A sign-in refused: the password is hashed (argon2, on libuv's threads) and a page answers.
      const fields = new URLSearchParams({ _csrf: csrfTokenFrom(page), username: 'nobody', password: 'not the password' });
      const cookie = form.headers.getSetCookie().map((set) => set.split(';')[0]).join('; ');
      const refused = await fetch(`${url}/login`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: fields.toString(), redirect: 'manual' });
      expect(refused.status, output).to.equal(401);
      expect(await refused.text()).to.include('name="username"');
      expect((await fetch(`${url}/assets/recharge.css`)).status).to.equal(200);

      // Stopped as systemd stops it: SIGTERM to the portal (strace's child); strace ends with its exit code.
      process.kill(await portalPid(), 'SIGTERM');
      expect(await exited, output).to.deep.equal([0, null]);

      // strace -c -U name: a header, a rule, one call a line, a rule, "total".
      const lines = (await readFile(calls, 'utf8')).split('\n').map((line) => line.trim());
      const rules = lines.flatMap((line, index) => (line.startsWith('---') ? [index] : []));
      expect(rules, lines.join('\n')).to.have.length(2);
      const recorded = lines.slice((rules[0] as number) + 1, rules[1]);
      expect(recorded, 'calls recorded').to.include.members(['execve', 'mmap', 'futex', 'accept4']);
      return recorded.filter((name) => !allowed.has(name));
    } finally {
      // A test failed on the way: the portal is killed first, as strace, killed, would leave it running.
      if (strace.exitCode === null && strace.signalCode === null) {
        await portalPid().then((pid) => process.kill(pid, 'SIGKILL'), () => {});
        await exited;
      }
      await rm(folder, { recursive: true, force: true });
    }
  }

  it('lets through every system call the portal makes from start to stop, recorded with strace: this Node', async function () {
    this.timeout(180_000);
    expect(await callsOutsideFilter(process.execPath), `system calls of Node ${process.version} outside SystemCallFilter`).to.deep.equal([]);
    // What the portal may call later and the test did not see fails with an error rather than killing it.
    expect(serviceSetting('SystemCallErrorNumber')).to.equal('EPERM');
  });

  it('… and Node 24, the newest LTS, from the npm registry (each Node release calls its own set)', async function () {
    this.timeout(240_000);
    const folder = await mkdtemp(path.join(tmpdir(), 'recharge-node24-'));
    try {
      const node24 = await nodeFromRegistry(24, folder);
      expect(await callsOutsideFilter(node24), 'system calls of Node 24 outside SystemCallFilter').to.deep.equal([]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
