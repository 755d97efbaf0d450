import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { expectLedgerConsistent } from '../helpers/database.js';
import { pdfOfPages } from '../helpers/pdf-pages.js';
import { compile } from '../helpers/processes.js';
import { createApiPortal, type ApiPortal } from '../integration/print-api-helpers.js';
import { PortalLink } from './portal-link.js';
import { PrivateCupsd, type JobStatus } from './private-cupsd.js';
import { TestPrinter } from './test-printer.js';

const run = promisify(execFile);
const installScript = path.resolve(import.meta.dirname, '../../src/cups-backend/install.sh');

/** A PDF of `pages` pages, written to `file`. */
async function pdf(file: string, pages: number): Promise<string> {
  await writeFile(file, await pdfOfPages(pages));
  return file;
}

const printed = (job: JobStatus) => job.completed;

/**
 * The backend of src/cups-backend installed by its install script into a real CUPS scheduler (Debian's
 * cupsd, private to the test), in front of queues printing to a test network printer through CUPS's own
 * socket backend, charging a portal the test runs. Jobs are printed with `lp`, as people would.
 */
describe('CUPS queues behind Recharge (a real cupsd)', function () {
  this.timeout(120_000);
  let cupsd: PrivateCupsd;
  let api: ApiPortal;
  let link: PortalLink;
  const printers: Record<string, TestPrinter> = {};
  let threePages: string;
  let spool: string;
  let replayCommand: string;

  before(async function () {
    this.timeout(300_000);
    if (process.getuid?.() !== 0) throw new Error('this suite runs cupsd and installs a backend: run it as root (.ci/run does)');
    await compile();
    api = await createApiPortal();
    link = await PortalLink.start(api.portal.baseUrl);
    cupsd = await PrivateCupsd.start();
    for (const queue of ['mono', 'colour', 'copier']) printers[queue] = await TestPrinter.start();
    threePages = await pdf(path.join(cupsd.root, 'three-pages.pdf'), 3);
    spool = path.join(cupsd.root, 'recharge-spool');
    const prefix = path.join(cupsd.root, 'recharge-cups');
    const config = path.join(cupsd.root, 'cups-backend.json');
    const mono = { mono: { simplex: 0.1, duplex: 0.08 } };
    await writeFile(
      config,
      JSON.stringify({
        portalUrl: link.url,
        apiKey: api.secret,
        serverName: 'print1',
        spoolDirectory: spool,
        timeoutSeconds: 5,
        usernames: ['strip-domain', 'lower-case'],
        printers: {
          mono: { category: 'print', colour: false, prices: mono, whenShort: 'refuse', whenUnreachable: 'print' },
          colour: { category: 'print', colour: true, prices: { ...mono, colour: { simplex: 0.5, duplex: 0.45 } }, whenShort: 'hold', whenUnreachable: 'hold' },
          copier: { category: 'copy', colour: false, prices: { mono: { simplex: 0.05, duplex: 0.05 } }, whenShort: 'refuse', whenUnreachable: 'hold' },
        },
      }),
      { mode: 0o600 },
    );
    const install = (...args: string[]) => run(installScript, ['--serverbin', cupsd.serverBin, '--prefix', prefix, '--config', config, '--node', process.execPath, '--no-cron', ...args], { env: cupsd.env });
    await install('--queue', 'mono', '--device', printers.mono!.uri);
    await install('--queue', 'colour', '--device', printers.colour!.uri);
    // An existing queue put behind Recharge, as a site does with the printers it already has.
    await cupsd.command('lpadmin', ['-p', 'copier', '-E', '-v', printers.copier!.uri]);
    await install('--wrap', 'copier');
    // Retried at once rather than after CUPS's five minutes, for the test's sake.
    for (const queue of ['mono', 'colour', 'copier']) await cupsd.command('lpadmin', ['-p', queue, '-o', 'printer-error-policy=retry-current-job']);
    // As a colour printer's driver says (a bare socket queue defaults to grey).
    await cupsd.command('lpadmin', ['-p', 'colour', '-o', 'print-color-mode-default=color']);
    replayCommand = path.join(prefix, 'recharge-cups-replay');
  });

  after(async () => {
    await cupsd?.stop();
    for (const printer of Object.values(printers)) await printer.stop();
    await link?.stop();
    if (api) await expectLedgerConsistent(api.portal.db);
    await api?.cleanup();
  });

  afterEach(() => {
    link.down = false;
    link.onAnswered = null;
  });

  const debitsOf = (accountId: number) => api.portal.db.knex('usage_debits').where('account_id', accountId).orderBy('id');
  const jobsReceived = (queue: string) => printers[queue]!.received.length;
  /** The debits waiting in the backend's spool. */
  const spooled = async () => (await readdir(path.join(spool, 'pending')).catch(() => [] as string[])).filter((name) => name.endsWith('.json'));

  it('installs the backend as CUPS requires and puts queues behind it', async () => {
    const devices = await cupsd.command('lpstat', ['-v']);
    expect(devices).to.include(`device for mono: recharge:/${printers.mono!.uri}`);
    expect(devices).to.include(`device for copier: recharge:/${printers.copier!.uri}`);
    const discovery = await run(path.join(cupsd.serverBin, 'backend/recharge'), [], { env: cupsd.env });
    expect(discovery.stdout).to.match(/^direct recharge /);
  });

  it('refuses to install a backend that root would run with a Node another account can replace', async () => {
    const shared = path.join(cupsd.root, 'shared-tools');
    await mkdir(shared);
    await chmod(shared, 0o777);
    const node = path.join(shared, 'node');
    await writeFile(node, '#!/bin/sh\nexec /usr/bin/node "$@"\n', { mode: 0o755 });
    const refused = await run(installScript, ['--serverbin', path.join(cupsd.root, 'other-serverbin'), '--prefix', path.join(cupsd.root, 'other-prefix'), '--node', node, '--no-cron'], { env: cupsd.env }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).to.equal(1);
    expect(refused?.stderr).to.include(`${shared} is writable by others than root`);
  });

  it('debits a printed job once, per page and copy, at the queue\'s price, with its printer and options', async () => {
    const alice = await api.person('alice', 1000);
    const before = jobsReceived('mono');
    const job = await cupsd.print('mono', threePages, { user: 'Alice@Example.org', options: ['copies=2'] });
    await cupsd.waitForJob(job, printed);
    expect(jobsReceived('mono')).to.equal(before + 1);
    const [debit, ...others] = await debitsOf(alice.accountId);
    expect(others).to.have.length(0);
    expect(debit).to.include({ category: 'print', pages: 6, printer: 'mono', reference: `print1:mono:${job}` });
    expect(Number(debit.amount)).to.equal(60);
    expect(await api.balanceOf(alice.accountId)).to.equal(940);
  });

  it('prices colour and two-sided pages from the queue\'s table, and copies as copies', async () => {
    const bob = await api.person('bob', 1000);
    await cupsd.waitForJob(await cupsd.print('colour', threePages, { user: 'bob', options: ['sides=two-sided-long-edge'] }), printed);
    await cupsd.waitForJob(await cupsd.print('colour', threePages, { user: 'bob', options: ['print-color-mode=monochrome'] }), printed);
    await cupsd.waitForJob(await cupsd.print('copier', threePages, { user: 'bob' }), printed);
    const debits = await debitsOf(bob.accountId);
    expect(debits.map((debit) => [debit.printer, debit.category, Number(debit.amount), Boolean(debit.colour), Boolean(debit.duplex)])).to.deep.equal([
      ['colour', 'print', 135, true, true],
      ['colour', 'print', 30, false, false],
      ['copier', 'copy', 15, false, false],
    ]);
    expect(await api.balanceOf(bob.accountId)).to.equal(1000 - 135 - 30 - 15);
  });

  it('refuses a job the balance does not cover: nothing printed, nothing debited, the reason in the job and the person\'s history', async () => {
    const carol = await api.person('carol', 10);
    const before = jobsReceived('mono');
    const job = await cupsd.print('mono', threePages, { user: 'carol' });
    const refused = await cupsd.waitForJob(job, printed);
    expect(refused.status).to.match(/not enough units/i);
    expect(jobsReceived('mono')).to.equal(before);
    expect(await debitsOf(carol.accountId)).to.have.length(0);
    expect(await api.balanceOf(carol.accountId)).to.equal(10);
    const refusals = await api.portal.db.knex('usage_refusals').where('account_id', carol.accountId);
    expect(refusals.map((refusal) => [refusal.reason, Number(refusal.amount), refusal.printer])).to.deep.equal([['insufficient_balance', 30, 'mono']]);
  });

  it('holds a job on a "hold" queue until the person has topped up and the job is released', async () => {
    const dave = await api.person('dave', 10);
    const before = jobsReceived('colour');
    const job = await cupsd.print('colour', threePages, { user: 'dave' });
    const waiting = await cupsd.waitForHold(job);
    expect(waiting.status).to.match(/not enough units/i);
    expect(waiting.completed).to.equal(false);
    expect(jobsReceived('colour')).to.equal(before);
    const topUps = await getAccountByCode(api.portal.db.knex, SystemAccount.topUps);
    await api.portal.ledger.post({ idempotencyKey: 'cups-test-dave-top-up', kind: 'top_up', lines: [{ accountId: dave.accountId, amount: 500 }, { accountId: topUps.id, amount: -500 }] });
    await cupsd.command('lp', ['-i', `colour-${job}`, '-H', 'resume']);
    await cupsd.waitForJob(job, printed);
    expect(jobsReceived('colour')).to.equal(before + 1);
    expect(await api.balanceOf(dave.accountId)).to.equal(510 - 150);
  });

  it('lets a person whose account may go below zero print anyway', async () => {
    const erin = await api.person('erin', 0, { allowNegative: true });
    await cupsd.waitForJob(await cupsd.print('mono', threePages, { user: 'erin' }), printed);
    expect(await api.balanceOf(erin.accountId)).to.equal(-30);
  });

  it('debits once a job CUPS runs again because its backend crashed after the portal had debited it', async () => {
    const frank = await api.person('frank', 1000);
    let crashed = false;
    link.onAnswered = async (method, requestPath) => {
      if (crashed || method !== 'POST' || !requestPath.includes('/debits')) return;
      crashed = true;
      // A crash, which CUPS answers with the queue's error policy (here: run the job again at once).
      await run('pkill', ['-SEGV', '-f', 'recharge-cups/main.js']);
    };
    const before = jobsReceived('mono');
    const job = await cupsd.print('mono', threePages, { user: 'frank' });
    await cupsd.waitForJob(job, printed);
    expect(crashed).to.equal(true);
    // Printed twice (the first run's paper was out before its debit), debited once.
    expect(jobsReceived('mono'), await cupsd.log(job)).to.equal(before + 2);
    expect(await debitsOf(frank.accountId)).to.have.length(1);
    expect(await api.balanceOf(frank.accountId)).to.equal(970);
    expect(await spooled()).to.deep.equal([]);
  });

  it('debits once, from the spool, a job whose backend was killed while it printed', async () => {
    const grace = await api.person('grace', 1000);
    const printer = printers.mono!;
    printer.pause();
    const job = await cupsd.print('mono', threePages, { user: 'grace' });
    for (let tries = 0; !printer.hasWaitingJob; tries += 1) {
      if (tries > 200) throw new Error(`the job never reached the printer\n${await cupsd.log(job)}`);
      await sleep(50);
    }
    // CUPS takes a backend killed with SIGKILL for a job cancelled: it does not run it again. The
    // printer's own backend, orphaned, still sends the job.
    await run('pkill', ['-KILL', '-f', 'recharge-cups/main.js']);
    printer.resume();
    await cupsd.waitForJob(job, printed);
    await run(replayCommand, []);
    await run(replayCommand, []);
    expect(await debitsOf(grace.accountId)).to.have.length(1);
    expect(await api.balanceOf(grace.accountId)).to.equal(970);
    expect(await spooled()).to.deep.equal([]);
  });

  it('prints while the portal is unreachable on a "print" queue, and debits each job once, in order, when it is back', async () => {
    const heidi = await api.person('heidi', 1000);
    const ivan = await api.person('ivan', 1000);
    link.down = true;
    const first = await cupsd.print('mono', threePages, { user: 'heidi' });
    await cupsd.waitForJob(first, printed);
    const second = await cupsd.print('mono', threePages, { user: 'ivan', options: ['sides=two-sided-long-edge'] });
    await cupsd.waitForJob(second, printed);
    expect(await debitsOf(heidi.accountId)).to.have.length(0);
    expect(await spooled()).to.have.length(2);

    link.down = false;
    await run(replayCommand, []);
    await run(replayCommand, []);
    const debits = await api.portal.db.knex('usage_debits').whereIn('account_id', [heidi.accountId, ivan.accountId]).orderBy('id');
    expect(debits.map((debit) => debit.reference)).to.deep.equal([`print1:mono:${first}`, `print1:mono:${second}`]);
    expect(await api.balanceOf(heidi.accountId)).to.equal(970);
    expect(await api.balanceOf(ivan.accountId)).to.equal(1000 - 24);
    expect(await spooled()).to.deep.equal([]);
  });

  it('holds a job on a "hold" queue while the portal is unreachable, and prints and debits it once released', async () => {
    const judy = await api.person('judy', 1000);
    link.down = true;
    const before = jobsReceived('colour');
    const job = await cupsd.print('colour', threePages, { user: 'judy' });
    const waiting = await cupsd.waitForHold(job);
    expect(waiting.status).to.match(/unreachable/i);
    expect(waiting.completed).to.equal(false);
    expect(jobsReceived('colour')).to.equal(before);
    link.down = false;
    await cupsd.command('lp', ['-i', `colour-${job}`, '-H', 'resume']);
    await cupsd.waitForJob(job, printed);
    expect(await debitsOf(judy.accountId)).to.have.length(1);
    expect(await api.balanceOf(judy.accountId)).to.equal(850);
  });

  it('speaks the API as its OpenAPI document says: every request the backend made, and every answer', () => {
    const operations = new Set<string>();
    for (const exchange of link.exchanges) {
      const headers = Object.fromEntries(Object.entries(exchange.headers).map(([name, value]) => [name, String(value)]));
      const call = { method: exchange.method as 'GET' | 'POST', path: exchange.path.replace(/^\/api\/v1/, ''), headers, body: exchange.body === '' ? undefined : (JSON.parse(exchange.body) as unknown) };
      const answerHeaders = Object.fromEntries(Object.entries(exchange.answerHeaders).map(([name, value]) => [name, String(value)]));
      expect(api.contract.verify(call, { status: exchange.status, headers: answerHeaders, body: JSON.parse(exchange.answer) as unknown, text: exchange.answer }), `${exchange.method} ${exchange.path}`).to.equal(true);
      operations.add(`${exchange.method} ${call.path.replace(/\/accounts\/[^/]+/, '/accounts/{username}')} ${exchange.status}`);
    }
    expect([...operations].sort()).to.include.members(['GET /accounts/{username} 200', 'POST /accounts/{username}/debits 201', 'POST /accounts/{username}/refusals 201']);
  });

  it('stops a queue the configuration does not describe, with the reason', async () => {
    await cupsd.command('lpadmin', ['-p', 'unlisted', '-E', '-v', `recharge:/${printers.mono!.uri}`]);
    const before = jobsReceived('mono');
    const job = await cupsd.print('unlisted', threePages, { user: 'alice' });
    const deadline = Date.now() + 20_000;
    let queue = '';
    while (!/disabled/.test(queue)) {
      if (Date.now() > deadline) throw new Error(`the queue was not stopped: ${queue}\n${await cupsd.log(job)}`);
      await sleep(100);
      queue = await cupsd.command('lpstat', ['-p', 'unlisted', '-l']);
    }
    expect(queue).to.match(/"unlisted" is not in the configuration/);
    expect((await cupsd.job(job)).completed).to.equal(false);
    expect(jobsReceived('mono')).to.equal(before);
  });
});
