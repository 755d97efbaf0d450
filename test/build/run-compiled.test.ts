import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { waitForOutput, type Finished } from '../helpers/processes.js';

/** What a checkout holds that the build and the portal read; node_modules is linked, not copied. */
const CHECKOUT = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'migrations', 'config', 'views', 'themes'];
const COMPILING = /Compiling Recharge into dist\//g;

/**
 * `npm start` and the production scripts run the compiled build through scripts/run-compiled.mjs,
 * which compiles first when dist/ is missing or was compiled from other sources. The tests work on a
 * copy of the project, so that compiling there never disturbs the dist/ other suites run.
 */
describe('npm start on a checkout: compiled when needed, then run with plain Node', function () {
  this.timeout(240_000);
  let checkout: string;
  const children = new Set<ChildProcess>();

  before(async () => {
    checkout = await mkdtemp(path.join(tmpdir(), 'recharge-checkout-'));
    for (const entry of CHECKOUT) await cp(path.join(projectRoot, entry), path.join(checkout, entry), { recursive: true });
    await symlink(path.join(projectRoot, 'node_modules'), path.join(checkout, 'node_modules'));
  });
  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
  });
  after(() => rm(checkout, { recursive: true, force: true }));

  function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(command, args, { cwd: checkout, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    return child;
  }
  function finished(child: ChildProcess): Promise<Finished> {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  }
  function waitForStderr(child: ChildProcess, pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (new RegExp(pattern.source).test(stderr)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${stderr}`)));
    });
  }
  /** `npm run migrate` as it runs: the compiled CLI, on an SQLite file of the checkout. */
  const migrate = (database: string) => finished(start(process.execPath, ['scripts/run-compiled.mjs', 'src/cli.ts', 'migrate'], { DATABASE_URL: `sqlite:${path.join(checkout, database)}` }));
  /** What the build and its lock leave beside the checkout's sources. */
  const besideDist = async () => (await readdir(checkout)).filter((name) => name.startsWith('dist')).sort();

  it('a start stopped while it compiles leaves neither its half build nor the lock behind', async () => {
    const child = start(process.execPath, ['scripts/run-compiled.mjs', 'src/cli.ts', 'migrate'], { DATABASE_URL: `sqlite:${path.join(checkout, 'stopped.sqlite')}` });
    const run = finished(child);
    await waitForStderr(child, COMPILING);
    child.kill('SIGTERM');
    const stopped = await run;
    expect(stopped).to.include({ code: 1, stdout: '' });
    expect(stopped.stderr).to.include('Recharge could not be compiled (dist/ is missing or was compiled from other sources): the build was stopped (SIGTERM)');
    expect((await readdir(checkout)).filter((name) => name.startsWith('dist'))).to.deep.equal([]);
  });

  it('two starts at once on a fresh checkout compile once: the second waits for that build, then both run it', async () => {
    await rm(path.join(checkout, 'dist'), { recursive: true, force: true });
    const [first, second] = await Promise.all([migrate('first.sqlite'), migrate('second.sqlite')]);
    for (const run of [first, second]) expect(run, run.stderr).to.include({ code: 0 }).and.have.property('stdout').that.matches(/^Applied \d+ migration\(s\)/);
    expect(`${first.stderr}${second.stderr}`.match(COMPILING)).to.have.length(1);
    expect(`${first.stderr}${second.stderr}`).to.include('Waiting for another build of Recharge to finish');
    // The build went into place whole: nothing left beside it.
    expect((await readdir(checkout)).filter((name) => name.startsWith('dist')).sort()).to.deep.equal(['dist']);
    expect(JSON.parse(await readFile(path.join(checkout, 'dist/build.json'), 'utf8'))).to.have.property('sources').that.matches(/^[0-9a-f]{64}$/);
  });

  it('runs the build it has without compiling, and compiles again once a source changed', async () => {
    expect((await migrate('recharge.sqlite')).code).to.equal(0);
    const again = await migrate('recharge.sqlite');
    expect(again).to.deep.include({ code: 0, stdout: 'Database is up to date.\n', stderr: '' });

    await appendFile(path.join(checkout, 'src/cli.ts'), '// changed after the build\n');
    const changed = await migrate('recharge.sqlite');
    expect(changed, changed.stderr).to.deep.include({ code: 0, stdout: 'Database is up to date.\n' });
    expect(changed.stderr.match(COMPILING)).to.have.length(1);
    expect(await readFile(path.join(checkout, 'dist/src/cli.js'), 'utf8')).to.include('// changed after the build');
  });

  it('hands SIGTERM given to `npm start` to the portal itself, which stops', async () => {
    const npm = start('npm', ['start'], { DATABASE_URL: `sqlite:${path.join(checkout, 'recharge.sqlite')}`, HOST: '127.0.0.1', PORT: '0', PAYPAL_SIM_PORT: '0', LOG_LEVEL: 'warn' });
    const banner = await waitForOutput(npm, /Recharge is running at http:\/\/localhost:(\d+)/, 120_000);
    const url = `http://127.0.0.1:${/localhost:(\d+)/.exec(banner)?.[1]}`;
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);

    const exited = once(npm, 'exit');
    npm.kill('SIGTERM');
    expect(await exited).to.deep.equal([0, null]);
    // Stopped, not left running without npm: nothing answers there any more.
    const answer = await fetch(`${url}/healthz`).then(
      (response) => `answered ${response.status}`,
      () => 'no answer',
    );
    expect(answer).to.equal('no answer');
  });

  it('takes over a lock left by a build that died, once, and removes only what dead processes left beside dist/', async () => {
    await rm(path.join(checkout, 'dist'), { recursive: true, force: true });
    const lock = path.join(checkout, 'dist.lock');
    await mkdir(lock);
    await writeFile(path.join(lock, 'holder'), '4242-died-while-building');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(lock, twoMinutesAgo, twoMinutesAgo);
    const ended = start(process.execPath, ['-e', '']);
    await finished(ended);
    const deadPid = ended.pid as number;
    // A build folder and a lock not yet in place, of a process that died; a build folder of one that runs (this one).
    const living = `dist.building-${process.pid}`;
    for (const name of [`dist.building-${deadPid}`, `dist.lock-${deadPid}-0a1b2c`, living]) await mkdir(path.join(checkout, name));

    const [first, second] = await Promise.all([migrate('first-after-takeover.sqlite'), migrate('second-after-takeover.sqlite')]);
    for (const run of [first, second]) expect(run, run.stderr).to.include({ code: 0 });
    expect(`${first.stderr}${second.stderr}`.match(COMPILING)).to.have.length(1);
    expect(await besideDist()).to.deep.equal(['dist', living]);
    await rm(path.join(checkout, living), { recursive: true });
  });

  it('a waiter that found the lock stale leaves alone the lock another waiter has put in place since', async () => {
    // The checkout's build script, loaded here: its lock is the checkout's dist.lock.
    const { removeLock } = (await import(pathToFileURL(path.join(checkout, 'scripts/build.mjs')).href)) as { removeLock: (holder: string) => Promise<void> };
    const lock = path.join(checkout, 'dist.lock');
    await mkdir(lock);
    await writeFile(path.join(lock, 'holder'), 'took-it-over-first');
    await removeLock('the-stale-one-both-saw');
    expect(await readFile(path.join(lock, 'holder'), 'utf8')).to.equal('took-it-over-first');
    expect(await besideDist()).to.deep.equal(['dist', 'dist.lock']);
    await removeLock('took-it-over-first');
    expect(await besideDist()).to.deep.equal(['dist']);
  });

  it('an editor’s lock file in src/ (a dot name, a link to nowhere) neither stops a start nor the build', async () => {
    expect((await migrate('recharge.sqlite')).code).to.equal(0);
    const editorLock = path.join(checkout, 'src', '.#cli.ts');
    await symlink('someone@host.4242:1700000000', editorLock);
    try {
      expect(await migrate('recharge.sqlite')).to.deep.include({ code: 0, stdout: 'Database is up to date.\n', stderr: '' });
      const build = await finished(start(process.execPath, ['scripts/build.mjs']));
      expect(build, build.stderr).to.include({ code: 0 });
    } finally {
      await rm(editorLock);
    }
  });

  it('in a checkout this user may not write, with dist/ older than the sources, says to build as its owner (exit code 78)', async () => {
    await appendFile(path.join(checkout, 'src/cli.ts'), '// changed by a git pull without a build\n');
    // Root writes anywhere: the start runs as nobody then; anyone else is kept out by the folder's mode.
    const asRoot = process.getuid?.() === 0;
    await chmod(checkout, asRoot ? 0o755 : 0o555);
    try {
      const child = spawn(process.execPath, ['scripts/run-compiled.mjs', 'src/cli.ts', 'migrate'], {
        cwd: checkout,
        env: { PATH: process.env.PATH, DATABASE_URL: `sqlite:${path.join(checkout, 'recharge.sqlite')}` },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      children.add(child);
      const refused = await finished(child);
      expect(refused).to.include({ code: 78, stdout: '' });
      expect(refused.stderr).to.match(/^Recharge could not be compiled \(dist\/ is missing or was compiled from other sources\): EACCES/);
      expect(refused.stderr).to.include('This user may not write the checkout, so the build must be made beforehand: run `npm run build` as its owner');
      expect(refused.stderr).not.to.include('prune');
    } finally {
      await chmod(checkout, 0o700);
    }
  });
});
