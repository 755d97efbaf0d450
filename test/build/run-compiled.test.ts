import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
});
