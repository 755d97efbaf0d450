import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { expectLedgerConsistent } from '../../helpers/database.js';
import { freePort } from '../../helpers/free-port.js';
import { createApiPortal, type ApiPortal } from '../../integration/print-api-helpers.js';

const backendDirectory = path.resolve(import.meta.dirname, '../../../src/cups-backend');

/**
 * The printer's "real" backend: records its DEVICE_URI, arguments and user id, copies what it was given, says
 * which of CUPS's channels (fds 3 and 4) it was handed, writes on the back channel or kills the backend that ran it,
 * or itself, if asked, runs SINK_THEN, exits with SINK_STATUS.
 */
const SINK_BACKEND = `#!/bin/sh
{ echo "$DEVICE_URI"; printf '%s\\n' "$@"; } > "$SINK.args"
id -u > "$SINK.uid"
if [ $# -ge 6 ]; then cat "$6"; else cat; fi > "$SINK.data"
for fd in 3 4; do if [ -e /proc/$$/fd/$fd ]; then echo "$fd open"; else echo "$fd closed"; fi; done > "$SINK.channels"
if [ -n "$SINK_BACK_CHANNEL" ]; then echo "from the printer" >&3; fi
if [ -n "$SINK_KILL_PARENT" ]; then kill -KILL $PPID; fi
if [ -n "$SINK_KILL_SELF" ]; then kill -KILL $$; fi
if [ -n "$SINK_THEN" ]; then eval "$SINK_THEN"; fi
echo "INFO: sink printed" >&2
exit \${SINK_STATUS:-0}
`;

async function threePagePdf(): Promise<Buffer> {
  const document = new PDFDocument({ autoFirstPage: false });
  const chunks: Buffer[] = [];
  document.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => document.on('end', resolve));
  for (let page = 1; page <= 3; page += 1) document.addPage().text(`Page ${page}`);
  document.end();
  await ended;
  return Buffer.concat(chunks);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** What came on the back channel (fd 3), when the run had CUPS's channels. */
  backChannel: string;
}

/** Runs an entry point of the backend as its own process, as CUPS or a timer would; with `channels`, fds 3 and 4 are sockets, as CUPS's channels. */
function run(entry: 'main.ts' | 'replay.ts', args: string[], env: NodeJS.ProcessEnv, stdin: Buffer = Buffer.alloc(0), channels = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(backendDirectory, entry), ...args], { env, stdio: ['pipe', 'pipe', 'pipe', ...(channels ? (['pipe', 'pipe'] as const) : [])] });
    let stdout = '';
    let stderr = '';
    let backChannel = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdio[3]?.on('data', (chunk: Buffer) => (backChannel += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, backChannel }));
    child.stdin.end(stdin);
  });
}

describe('CUPS backend: one job, against a real portal', function () {
  this.timeout(60_000);
  let api: ApiPortal;
  let folder: string;
  let pdf: Buffer;
  let alice: { accountId: number };
  const mono = { mono: { simplex: 0.1, duplex: 0.08 } };
  const printers = {
    mono: { category: 'print', colour: false, prices: mono, whenShort: 'refuse', whenUnreachable: 'print' },
    colour: { category: 'print', colour: true, prices: { ...mono, colour: { simplex: 0.5, duplex: 0.45 } }, whenShort: 'hold', whenUnreachable: 'hold' },
    copier: { category: 'copy', colour: false, prices: mono, whenShort: 'refuse', whenUnreachable: 'hold' },
  };
  const sink = () => path.join(folder, 'sink');
  const spool = () => path.join(folder, 'spool');

  async function configure(portalUrl = api.portal.baseUrl) {
    await writeFile(
      path.join(folder, 'config.json'),
      JSON.stringify({ portalUrl, apiKey: api.secret, serverName: 'print1', spoolDirectory: spool(), timeoutSeconds: 2, usernames: ['strip-domain', 'lower-case'], printers }),
    );
  }

  const envFor = (queue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DEVICE_URI: `recharge:/sink://printer.example.org:9100/${queue}`,
    PRINTER: queue,
    CUPS_SERVERBIN: path.join(folder, 'serverbin'),
    RECHARGE_CUPS_CONFIG: path.join(folder, 'config.json'),
    SINK: sink(),
    ...extra,
  });
  const printJob = (queue: string, jobId: number, user = 'alice', options = '', extra: NodeJS.ProcessEnv = {}) => run('main.ts', [String(jobId), user, 'report.pdf', '2', options], envFor(queue, extra), pdf);
  /** Rows as both databases give them alike: SQLite keeps booleans as 0 and 1, PostgreSQL big integers as text. */
  const debits = async () =>
    (await api.portal.db.knex('usage_debits').orderBy('id').select('reference', 'category', 'amount', 'pages', 'printer', 'colour', 'duplex')).map((row) => ({ ...row, amount: Number(row.amount), colour: Boolean(row.colour), duplex: Boolean(row.duplex) }));
  const refusals = async () =>
    (await api.portal.db.knex('usage_refusals').orderBy('id').select('reference', 'reason', 'amount', 'balance_seen', 'pages', 'printer')).map((row) => ({ ...row, amount: Number(row.amount), balance_seen: Number(row.balance_seen) }));
  const printed = () => readFile(`${sink()}.data`).catch(() => null);
  const pendingDebits = async () => (await readdir(path.join(spool(), 'pending'))).filter((name) => !name.startsWith('.'));

  before(async () => {
    pdf = await threePagePdf();
  });
  beforeEach(async () => {
    api = await createApiPortal();
    alice = await api.person('alice', 1000);
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-cups-flow-'));
    await mkdir(path.join(folder, 'serverbin', 'backend'), { recursive: true });
    await writeFile(path.join(folder, 'serverbin', 'backend', 'sink'), SINK_BACKEND);
    // Private to root, as a backend that must run as root is: CUPS (and this backend) run it as root.
    await chmod(path.join(folder, 'serverbin', 'backend', 'sink'), 0o700);
    await configure();
  });
  afterEach(async () => {
    await expectLedgerConsistent(api.portal.db);
    await api.cleanup();
    await rm(folder, { recursive: true, force: true });
  });

  it('lists itself when run without arguments', async () => {
    expect(await run('main.ts', [], {})).to.deep.equal({ status: 0, stdout: 'direct recharge "Unknown" "Recharge print accounting"\n', stderr: '', backChannel: '' });
  });

  it('prints through the real backend, then debits the job once, even when CUPS runs it again after a crash', async () => {
    const job = await printJob('mono', 41, 'EXAMPLE\\Alice', 'sides=two-sided-long-edge job-uuid=urn:uuid:1');
    expect(job.status, job.stderr).to.equal(0);
    expect(job.stderr).to.include('INFO: Recharge: alice, 3 page(s) × 2, black and white, two-sided: 0.48 units\n').and.include('INFO: sink printed\n');
    expect(await printed()).to.deep.equal(pdf);
    expect((await readFile(`${sink()}.args`, 'utf8')).split('\n')).to.deep.equal(['sink://printer.example.org:9100/mono', '41', 'EXAMPLE\\Alice', 'report.pdf', '2', 'sides=two-sided-long-edge job-uuid=urn:uuid:1', '']);
    // Run without CUPS's channels: Node's own fds 3 and 4 (its event loop's) are not handed on.
    expect(await readFile(`${sink()}.channels`, 'utf8')).to.equal('3 closed\n4 closed\n');
    expect(await debits()).to.deep.equal([{ reference: 'print1:mono:41', category: 'print', amount: 48, pages: 6, printer: 'mono', colour: false, duplex: true }]);
    expect(await pendingDebits()).to.deep.equal([]);

    // A run cut after the portal debited, before it heard so, leaves no mark of it: CUPS runs the job again.
    await rm(path.join(spool(), 'done'), { recursive: true });
    expect((await printJob('mono', 41, 'EXAMPLE\\Alice', 'sides=two-sided-long-edge job-uuid=urn:uuid:1')).status).to.equal(0);
    expect(await debits()).to.have.length(1);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 48);
    // Both runs sent the same Idempotency-Key: the second got the first's answer.
    expect(await api.portal.db.knex('api_idempotency_keys').pluck('idempotency_key')).to.deep.equal(['print1:mono:41']);
  });

  it('hands a job given as a file (raw queue) to the real backend as a file, and charges colour, copies as copy', async () => {
    await writeFile(path.join(folder, 'job.pdf'), pdf);
    const job = await run('main.ts', ['7', 'alice', 't', '1', 'Duplex=DuplexTumble', path.join(folder, 'job.pdf')], envFor('colour'));
    expect(job.status, job.stderr).to.equal(0);
    const args = (await readFile(`${sink()}.args`, 'utf8')).split('\n');
    expect(args.slice(0, 6)).to.deep.equal(['sink://printer.example.org:9100/colour', '7', 'alice', 't', '1', 'Duplex=DuplexTumble']);
    // The copy saved in the spool's work folder, removed once printed.
    expect(path.dirname(args[6] ?? '')).to.equal(path.join(spool(), 'work'));
    expect(await printed()).to.deep.equal(pdf);
    expect((await printJob('copier', 8, 'alice', 'ColorModel=Gray')).status).to.equal(0);
    expect(await debits()).to.deep.equal([
      { reference: 'print1:colour:7', category: 'print', amount: 135, pages: 3, printer: 'colour', colour: true, duplex: true },
      { reference: 'print1:copier:8', category: 'copy', amount: 60, pages: 6, printer: 'copier', colour: false, duplex: false },
    ]);
    expect(await readdir(path.join(spool(), 'work'))).to.deep.equal([]);
  });

  it('hands CUPS\'s back and side channels to the real backend', async () => {
    const job = await run('main.ts', ['42', 'alice', 't', '1', ''], envFor('mono', { SINK_BACK_CHANNEL: '1' }), pdf, true);
    expect(job.status, job.stderr).to.equal(0);
    expect(await readFile(`${sink()}.channels`, 'utf8')).to.equal('3 open\n4 open\n');
    expect(job.backChannel).to.equal('from the printer\n');
  });

  it('refuses a job the balance cannot pay, records the refusal and prints nothing; a hold queue holds it', async () => {
    await api.person('bob', 10);
    const refused = await printJob('mono', 50, 'bob');
    expect(refused.status).to.equal(5);
    expect(refused.stderr).to.include('ERROR: Recharge: not enough units for this job (needs 0.60, balance 0.10)\n');
    const held = await printJob('colour', 51, 'bob');
    expect(held.status).to.equal(3);
    expect(held.stderr).to.include('JOBSTATE: account-limit-reached\n');
    expect(await printed()).to.equal(null);
    expect(await debits()).to.deep.equal([]);
    expect(await refusals()).to.deep.equal([
      { reference: 'print1:mono:50', reason: 'insufficient_balance', amount: 60, balance_seen: 10, pages: 6, printer: 'mono' },
      { reference: 'print1:colour:51', reason: 'insufficient_balance', amount: 300, balance_seen: 10, pages: 6, printer: 'colour' },
    ]);
  });

  it('prints for staff who may go below zero, and the debit takes the balance below zero', async () => {
    const staff = await api.person('staff', 10, { allowNegative: true });
    expect((await printJob('mono', 60, 'staff')).status).to.equal(0);
    expect(await api.balanceOf(staff.accountId)).to.equal(10 - 60);
  });

  it('cancels the job of an unknown person or a disabled account', async () => {
    await api.person('carol', 1000, { disabled: true });
    const unknown = await printJob('mono', 70, 'nobody');
    expect(unknown.status).to.equal(5);
    expect(unknown.stderr).to.include('ERROR: Recharge: no Recharge account for the user "nobody"; the job is cancelled\n');
    const disabled = await printJob('mono', 71, 'carol');
    expect(disabled.status).to.equal(5);
    expect(await printed()).to.equal(null);
    expect((await refusals()).map((refusal) => refusal.reason)).to.deep.equal(['account_disabled']);
  });

  it('does not debit a job the real backend failed to print', async () => {
    const job = await printJob('mono', 80, 'alice', '', { SINK_STATUS: '1' });
    expect(job.status).to.equal(1);
    expect(await debits()).to.deep.equal([]);
    expect(await readdir(path.join(spool(), 'printing'))).to.deep.equal([]);
    expect(await pendingDebits()).to.deep.equal([]);
  });

  it('debits once, from the spool, a job whose backend was killed while it printed', async () => {
    const killed = await printJob('mono', 81, 'alice', '', { SINK_KILL_PARENT: '1' });
    expect(killed.status).to.equal(null);
    expect(await printed()).to.deep.equal(pdf);
    expect(await debits()).to.deep.equal([]);
    expect(await readdir(path.join(spool(), 'work'))).to.have.length(1);
    for (let replays = 0; replays < 2; replays += 1) expect((await run('replay.ts', [], envFor('mono'))).status).to.equal(0);
    expect(await readdir(path.join(spool(), 'work'))).to.deep.equal([]);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:81']);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 60);
  });

  it('debits once a job CUPS runs again after its backend crashed while it printed', async () => {
    expect((await printJob('mono', 82, 'alice', '', { SINK_KILL_PARENT: '1' })).status).to.equal(null);
    // The run again sends the crashed run's debit first: it is this job's, not a reprint's.
    expect((await printJob('mono', 82)).status).to.equal(0);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:82']);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 60);
  });

  it('debits once a job CUPS runs again after its printer\'s backend was killed (retry-job), or its own crashed run\'s debit was sent meanwhile', async () => {
    expect((await printJob('mono', 401, 'alice', '', { SINK_KILL_SELF: '1' })).status).to.equal(1);
    expect((await printJob('mono', 401)).status).to.equal(0);
    // Crashed; before CUPS runs it again, the timer's replay and another job's run send the orphaned debit.
    expect((await printJob('mono', 82, 'alice', '', { SINK_KILL_PARENT: '1' })).status).to.equal(null);
    expect((await run('replay.ts', [], envFor('mono'))).status).to.equal(0);
    expect((await printJob('mono', 82)).status).to.equal(0);
    const bob = await api.person('bob', 1000);
    expect((await printJob('mono', 83, 'alice', '', { SINK_KILL_PARENT: '1' })).status).to.equal(null);
    expect((await printJob('copier', 84, 'bob')).status).to.equal(0);
    expect((await printJob('mono', 83)).status).to.equal(0);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:401', 'print1:mono:82', 'print1:mono:83', 'print1:copier:84']);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 3 * 60);
    expect(await api.balanceOf(bob.accountId)).to.equal(1000 - 60);
  });

  it('debits a job restarted by its owner again while the first debit waits for the portal', async () => {
    await configure(`http://127.0.0.1:${await freePort()}`);
    for (let run = 1; run <= 2; run += 1) expect((await printJob('mono', 41)).status).to.equal(0);
    await configure();
    expect((await run('replay.ts', [], envFor('mono'))).status).to.equal(0);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:41', 'print1:mono:41~2']);
  });

  it('keeps the debit of a job printed while a page that is not the portal answers 200 (maintenance), and sends it later', async () => {
    const maintenance = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>Back soon</html>');
    });
    await new Promise<void>((resolve) => maintenance.listen(0, '127.0.0.1', resolve));
    try {
      await configure(`http://127.0.0.1:${(maintenance.address() as AddressInfo).port}`);
      const job = await printJob('mono', 700);
      expect(job.status, job.stderr).to.equal(0);
      expect(await printed()).to.deep.equal(pdf);
      expect(await pendingDebits()).to.have.length(1);
      expect(await readdir(path.join(spool(), 'failed'))).to.deep.equal([]);
    } finally {
      maintenance.closeAllConnections();
      await new Promise((resolve) => maintenance.close(resolve));
    }
    await configure();
    expect((await run('replay.ts', [], envFor('mono'))).status).to.equal(0);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:700']);
  });

  it('Recharge unreachable: holds the job, or prints it and replays the debit later, in order, once', async () => {
    await configure(`http://127.0.0.1:${await freePort()}`);
    const held = await printJob('colour', 90);
    expect(held.status).to.equal(6);
    expect(held.stderr).to.match(/^ERROR: Recharge: portal unreachable \(.+\); the job will be retried in 5 minutes$/m);
    expect(await printed()).to.equal(null);

    // Bob's 0.10 cannot pay his job, but it is printed: its debit takes his balance below zero.
    const bob = await api.person('bob', 10);
    for (const [jobId, user] of [[91, 'alice'], [92, 'bob'], [93, 'alice']] as const) expect((await printJob('mono', jobId, user)).status).to.equal(0);
    expect(await pendingDebits()).to.have.length(3);
    const stillDown = await run('replay.ts', [], envFor('mono'));
    expect(stillDown.status).to.equal(1);
    expect(stillDown.stdout).to.include('left 3 debit(s): Recharge unreachable');

    await configure();
    const replayed = await run('replay.ts', [], envFor('mono'));
    expect(replayed.status, replayed.stdout + replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.include('done: 3 sent, 0 already debited, 0 set aside, 0 left');
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:91', 'print1:mono:92', 'print1:mono:93']);
    expect(await pendingDebits()).to.deep.equal([]);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 2 * 60);
    expect(await api.balanceOf(bob.accountId)).to.equal(10 - 60);
  });

  it('cancels without asking the portal the job of a user name no account can have', async () => {
    // Unreachable on a queue that prints anyway: only a check before any request cancels these jobs.
    await configure(`http://127.0.0.1:${await freePort()}`);
    for (const [jobId, user] of [[100, '..'], [101, '.'], [102, '@example.org'], [103, 'EXAMPLE\\']] as const) {
      const job = await printJob('mono', jobId, user);
      expect(job.status, user).to.equal(5);
      expect(job.stderr).to.include(`ERROR: Recharge: no Recharge account for the user "${user}"; the job is cancelled\n`);
    }
    expect(await printed()).to.equal(null);
    // Stopped before even the spool: nothing saved, nothing replayed.
    expect(await readdir(folder)).to.not.include('spool');
  });

  it('debits a restarted job again, under the next reference; a job id used again for another job goes to failed/, never dropped', async () => {
    for (let run = 1; run <= 3; run += 1) expect((await printJob('mono', 41)).status).to.equal(0);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:41', 'print1:mono:41~2', 'print1:mono:41~3']);
    expect(await api.balanceOf(alice.accountId)).to.equal(1000 - 3 * 60);

    // The spool lost its markers (a new server): job 41 is another job, of bob's, with another body.
    await rm(path.join(spool(), 'done'), { recursive: true });
    const bob = await api.person('bob', 1000);
    const other = await run('main.ts', ['41', 'bob', 'big.pdf', '5', ''], envFor('mono'), pdf);
    expect(other.status, other.stderr).to.equal(0);
    expect(other.stderr).to.match(/^ERROR: Recharge: debit .+ not sent \(the reference print1:mono:41 is used in Recharge, but not by a debit of "bob"; this one: 1\.5 units, 15 pages on mono, black and white, one-sided, to "bob"\), kept in failed\/$/m);
    expect(await readdir(path.join(spool(), 'failed'))).to.have.length(1);
    expect(await api.balanceOf(bob.accountId)).to.equal(1000);
  });

  it('debits a job cancelled while the printer\'s backend ran, or whose printer\'s backend was killed: it may be on paper', async () => {
    // As CUPS's own backends do, it ends with an error status of its own when told to stop.
    await writeFile(path.join(folder, 'serverbin', 'backend', 'slow'), `#!/bin/sh\ntrap 'exit 1' TERM\ncat > "$SINK.data"\nsleep 30 &\nwait\n`);
    await chmod(path.join(folder, 'serverbin', 'backend', 'slow'), 0o700);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(backendDirectory, 'main.ts'), '400', 'alice', 't', '1', ''], { env: envFor('mono', { DEVICE_URI: 'recharge:/slow://p/' }), stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end(pdf);
    while ((await printed()) === null) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).to.equal(0);

    const killed = await printJob('mono', 401, 'alice', '', { SINK_KILL_SELF: '1' });
    expect(killed.status).to.equal(1);
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:400', 'print1:mono:401']);
    expect(await readdir(path.join(spool(), 'printing'))).to.deep.equal([]);

    // A SIGTERM also comes when the queue is stopped (cupsdisable) or cupsd stops: the job goes back to
    // pending and CUPS runs it again, under the same reference.
    expect((await printJob('mono', 400)).status).to.equal(0);
    expect(await debits()).to.have.length(2);
  });

  it('passes SIGTERM on to the printer\'s backend only when cupsd did not signal the whole process group', async () => {
    await writeFile(path.join(folder, 'serverbin', 'backend', 'count'), `#!/bin/sh\ntrap 'echo TERM >> "$SINK.terms"' TERM\ncat > "$SINK.data"\nsleep 2 & wait; sleep 2 & wait\nexit 0\n`);
    await chmod(path.join(folder, 'serverbin', 'backend', 'count'), 0o700);
    // As cupsd does: the job's processes in a group of their own, led by the backend, and kill(-pid, SIGTERM).
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(backendDirectory, 'main.ts'), '460', 'alice', 't', '1', ''], { env: envFor('mono', { DEVICE_URI: 'recharge:/count://p/' }), stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.stdin.end(pdf);
    while ((await printed()) === null) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(-(child.pid as number), 'SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(await readFile(`${sink()}.terms`, 'utf8')).to.equal('TERM\n');
  });

  it('once printed, exits 0 whatever: a spool entry that is no debit is set aside, a spool it cannot write is logged with the debit', async () => {
    const poisoned = await printJob('mono', 500, 'alice', '', { SINK_THEN: `echo null > "${spool()}/pending/000000000000000-0000000001-x.json"` });
    expect(poisoned.status, poisoned.stderr).to.equal(0);
    expect(poisoned.stderr).to.include('ERROR: Recharge: debit 000000000000000-0000000001-x.json not sent (not a debit this backend wrote), kept in failed/\n');
    expect((await debits()).map((debit) => debit.reference)).to.deep.equal(['print1:mono:500']);

    const broken = await printJob('mono', 501, 'alice', '', { SINK_THEN: `rm -r "${spool()}/pending"` });
    expect(broken.status, broken.stderr).to.equal(0);
    expect(broken.stderr).to.match(/^ERROR: Recharge: the job printed, but its debit could not be kept or sent \(.+\): \{"username":"alice","idempotencyKey":"print1:mono:501","body":\{.*"units":0\.6.*\}\}$/m);
  });

  it('holds a job over the API\'s limits for one debit (10,000 units, 100,000 pages) before printing it', async () => {
    const manyPages = await run('main.ts', ['600', 'alice', 't', '40000', ''], envFor('mono'), pdf);
    expect(manyPages.status).to.equal(3);
    expect(manyPages.stderr).to.include('ERROR: Recharge: this job (3 page(s) × 40000, black and white, one-sided: 12000.00 units) is over what Recharge debits for one job (10000.00 units, 100000 pages); the job is held\n');
    // 20,001 pages, 10,000.50 units: a balance that pays it does not make it a debit the portal takes.
    await api.person('rich', 2_000_000);
    const costly = await run('main.ts', ['601', 'rich', 't', '6667', ''], envFor('colour'), pdf);
    expect(costly.status).to.equal(3);
    expect(costly.stderr).to.include('ERROR: Recharge: this job (3 page(s) × 6667, colour, one-sided: 10000.50 units) is over what Recharge debits for one job');
    expect(await printed()).to.equal(null);
  });

  it('runs a printer\'s backend others may run as CUPS\'s User, as CUPS would (run as root; as itself otherwise)', async () => {
    const root = process.getuid?.() === 0;
    // The unprivileged backend writes beside the test's files.
    const shared = await mkdtemp(path.join(tmpdir(), 'recharge-cups-user-'));
    await chmod(folder, 0o711);
    await chmod(shared, 0o777);
    const serverRoot = path.join(folder, 'cups');
    await mkdir(serverRoot);
    await writeFile(path.join(serverRoot, 'cups-files.conf'), '# as Debian has it\nUser nobody\nGroup nogroup\n');
    await chmod(path.join(folder, 'serverbin', 'backend', 'sink'), 0o755);
    const env = { CUPS_SERVERROOT: serverRoot, SINK: path.join(shared, 'sink') };
    try {
      expect((await printJob('mono', 700, 'alice', '', env)).status).to.equal(0);
      expect(await readFile(path.join(shared, 'sink.uid'), 'utf8')).to.equal(root ? '65534\n' : `${process.getuid?.()}\n`);
      await writeFile(path.join(folder, 'job.pdf'), pdf);
      await chmod(path.join(folder, 'job.pdf'), 0o644);
      expect((await run('main.ts', ['701', 'alice', 't', '1', '', path.join(folder, 'job.pdf')], envFor('mono', env))).status).to.equal(0);
      expect(await readFile(path.join(shared, 'sink.data'))).to.deep.equal(pdf);

      if (!root) return;
      // Never root where CUPS would not run it as root: lp instead, as CUPS.
      await writeFile(path.join(serverRoot, 'cups-files.conf'), 'User no-such-user\n');
      const unknownUser = await printJob('mono', 702, 'alice', '', { CUPS_SERVERROOT: serverRoot, SINK: path.join(shared, 'lp') });
      expect(unknownUser.status).to.equal(0);
      expect(unknownUser.stderr).to.include('WARNING: Recharge: the user "no-such-user" is not in /etc/passwd: the printer\'s backend runs as lp\n');
      expect(await readFile(path.join(shared, 'lp.uid'), 'utf8')).to.equal('7\n');
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  });
});
