import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { PortalAnswer, PortalClient, PortalDebit } from '../../../src/cups-backend/portal-client.js';
import { thisProcess } from '../../../src/cups-backend/process-identity.js';
import { replaySpool } from '../../../src/cups-backend/replay-spool.js';
import { createSpool, type PendingDebit, type Spool } from '../../../src/cups-backend/spool.js';

const debitFor = (jobId: number, printer = 'b112'): PendingDebit => ({
  username: 'alice',
  idempotencyKey: `print1:${printer}:${jobId}`,
  body: { category: 'print', units: 0.3, pages: 3, reference: `print1:${printer}:${jobId}`, printer, colour: false, duplex: false, afterPrinting: true },
  ...thisProcess(),
  savedAt: '2026-12-07T10:00:00.000Z',
});

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('CUPS backend: spool', () => {
  let folder: string;
  let spool: Spool;
  /** A job saved before printing, then printed. */
  const printed = async (debit: PendingDebit, jobId: number, now: Date) => {
    const name = await spool.savePrinting(debit, jobId, now);
    await spool.markPrinted(name);
    return name;
  };
  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-cups-spool-'));
    spool = createSpool(folder);
    await spool.prepare();
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  it('lists debits in print order: by time, then by job id (job 9 before job 10 in the same millisecond)', async () => {
    await printed(debitFor(10), 10, new Date(1_000));
    await printed(debitFor(7), 7, new Date(2_000));
    await printed(debitFor(9), 9, new Date(1_000));
    await printed(debitFor(3, 'a/b%c'), 3, new Date(99_999_999_999));
    expect((await spool.list()).entries.map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:9', 'print1:b112:10', 'print1:b112:7', 'print1:a/b%c:3']);
  });

  it('keeps each debit as it will be sent', async () => {
    const name = await printed(debitFor(1), 1, new Date(1_000));
    expect(JSON.parse(await readFile(path.join(folder, 'pending', name), 'utf8'))).to.deep.equal(debitFor(1));
  });

  it('never reads a file still being written, and leaves none behind', async () => {
    // What a backend killed while writing leaves (the process of another run, still writing, looks the same).
    const halfWritten = '000000000000001-0000000001-b112.json.0123456789abcdef.writing';
    await writeFile(path.join(folder, 'printing', halfWritten), '{"username": "al');
    await printed(debitFor(1), 1, new Date(1_000));
    expect((await spool.adoptOrphans()).adopted).to.deep.equal([]);
    expect((await spool.list()).entries.map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:1']);
    expect(await readdir(path.join(folder, 'printing'))).to.deep.equal([halfWritten]);
    expect(await readdir(path.join(folder, 'pending'))).to.have.length(1);
    expect(await spool.failedNames()).to.deep.equal([]);
  });

  it('removes sent debits (twice is fine) and moves refused ones to failed/', async () => {
    const [first, second] = [await printed(debitFor(1), 1, new Date(1_000)), await printed(debitFor(2), 2, new Date(2_000))];
    await spool.remove(first);
    await spool.remove(first);
    await spool.moveToFailed(second);
    await spool.moveToFailed(second);
    expect((await spool.list()).entries).to.deep.equal([]);
    expect(await spool.failedNames()).to.deep.equal([second]);
  });

  it('forgets a job that failed to print, and sends one whose backend died while it printed', async () => {
    const failedToPrint = await spool.savePrinting(debitFor(1), 1, new Date(1_000));
    const stillPrinting = await spool.savePrinting(debitFor(2), 2, new Date(2_000));
    const orphan = await spool.savePrinting({ ...debitFor(3), pid: await deadPid() }, 3, new Date(3_000));
    await spool.forgetPrinting(failedToPrint);
    expect((await spool.list()).entries).to.deep.equal([]);
    expect((await spool.adoptOrphans()).adopted).to.deep.equal([orphan]);
    expect((await spool.list()).entries.map((entry) => entry.name)).to.deep.equal([orphan]);
    expect(await readdir(path.join(folder, 'printing'))).to.deep.equal([stillPrinting]);
  });

  it('sets a damaged file aside rather than block the debits after it', async () => {
    await writeFile(path.join(folder, 'pending', '000000000000500-0000000001-b112.json'), '{ damaged');
    await printed(debitFor(2), 2, new Date(1_000));
    expect((await spool.list()).entries.map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:2']);
    expect(await spool.failedNames()).to.deep.equal(['000000000000500-0000000001-b112.json']);
  });

  it('takes an entry whose pid now names another process (other boot, other start time) for a dead backend\'s', async () => {
    const living = await spool.savePrinting(debitFor(1), 1, new Date(1_000));
    const otherBoot = await spool.savePrinting({ ...debitFor(2), bootId: 'a boot before this one' }, 2, new Date(2_000));
    const otherStart = await spool.savePrinting({ ...debitFor(3), startTime: '1' }, 3, new Date(3_000));
    expect((await spool.adoptOrphans()).adopted).to.deep.equal([otherBoot, otherStart]);
    expect(await readdir(path.join(folder, 'printing'))).to.deep.equal([living]);
  });

  it('sets aside a file that is JSON but not a debit, and says so', async () => {
    const names = ['000000000000500-0000000001-b112.json', '000000000000600-0000000002-b112.json'];
    await writeFile(path.join(folder, 'pending', names[0] as string), 'null');
    await writeFile(path.join(folder, 'pending', names[1] as string), JSON.stringify({ ...debitFor(2), username: '..' }));
    await printed(debitFor(3), 3, new Date(1_000));
    const { entries, setAside } = await spool.list();
    expect(entries.map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:3']);
    expect(setAside).to.deep.equal(names.map((name) => ({ name, reason: 'not a debit this backend wrote' })));
    expect(await spool.failedNames()).to.deep.equal(names);
  });

  it('gives a job that printed already the next free reference, and forgets printed jobs after 7 days', async () => {
    const now = new Date();
    expect(await spool.referenceFor('print1:b112:7', now)).to.equal('print1:b112:7');
    await spool.markDone('print1:b112:7', now);
    expect(await spool.referenceFor('print1:b112:7', now)).to.equal('print1:b112:7~2');
    await spool.markDone('print1:b112:7~2', now);
    expect(await spool.referenceFor('print1:b112:7', now)).to.equal('print1:b112:7~3');
    expect(await spool.referenceFor(`${'x'.repeat(99)}7`, now)).to.equal(`${'x'.repeat(99)}7`);
    await spool.markDone(`${'x'.repeat(99)}7`, now);
    expect(await spool.referenceFor(`${'x'.repeat(99)}7`, now)).to.equal(null);

    const eightDaysAgo = new Date(now.getTime() - 8 * 24 * 3600 * 1000);
    await utimes(path.join(folder, 'done', encodeURIComponent('print1:b112:7')), eightDaysAgo, eightDaysAgo);
    // Another job that had this id: not pruned yet, no longer taken into account.
    expect(await spool.referenceFor('print1:b112:7', now)).to.equal('print1:b112:7');
    await spool.markDone('print1:b112:8', now);
    expect(await readdir(path.join(folder, 'done'))).to.not.include(encodeURIComponent('print1:b112:7'));
    expect(await spool.referenceFor('print1:b112:7', now)).to.equal('print1:b112:7');
    expect(await spool.referenceFor('print1:b112:8', now)).to.equal('print1:b112:8~2');
  });

  describe('replayed', () => {
    /** A portal answering each debit by its reference, and each look-up of a debit by reference. */
    const portalAnswering = (debits: Record<string, PortalAnswer<PortalDebit>>, found: Record<string, PortalAnswer<PortalDebit>> = {}): PortalClient => ({
      account: () => Promise.reject(new Error('not asked')),
      refusal: () => Promise.reject(new Error('not asked')),
      debit: (_username, body) => Promise.resolve(debits[body.reference] ?? { outcome: 'ok', value: { ...body, account: { username: 'alice' } } }),
      findDebit: (_username, reference) => Promise.resolve(found[reference] ?? { outcome: 'foreign', reason: 'HTTP 404 debit-not-found' }),
    });
    const refused = (status: number, problemType: string): PortalAnswer<PortalDebit> => ({ outcome: 'refused', status, problemType, detail: null });

    it('sets aside what is not "try later" (another 404, a proxy\'s page), and goes on with the next debits', async () => {
      const [first, second] = [await printed(debitFor(1), 1, new Date(1_000)), await printed(debitFor(2), 2, new Date(2_000))];
      const report = await replaySpool(spool, portalAnswering({ 'print1:b112:1': { outcome: 'foreign', reason: 'HTTP 404 at http://portal/api/v1/debits' } }));
      expect(report).to.deep.include({ sent: [second], failed: [{ name: first, reason: 'HTTP 404 at http://portal/api/v1/debits' }], left: [], stoppedBecause: null });
      expect(await spool.failedNames()).to.deep.equal([first]);
    });

    it('stops, in order, at what may work later', async () => {
      const names = [await printed(debitFor(1), 1, new Date(1_000)), await printed(debitFor(2), 2, new Date(2_000))];
      const report = await replaySpool(spool, portalAnswering({ 'print1:b112:1': { outcome: 'unreachable', reason: 'HTTP 503' } }));
      expect(report).to.deep.include({ sent: [], failed: [], left: names, stoppedBecause: 'Recharge unreachable (HTTP 503)' });
    });

    it('takes a reference used already for this debit only when the portal\'s debit is the same (account, units, pages, printer, colour, duplex)', async () => {
      const names = [];
      for (let jobId = 1; jobId <= 5; jobId += 1) names.push(await printed(debitFor(jobId), jobId, new Date(jobId * 1_000)));
      const [same, other, gone, otherPrinter, otherMode] = names;
      const theirs = (jobId: number, changes: Partial<PortalDebit> = {}): PortalAnswer<PortalDebit> => ({
        outcome: 'ok',
        value: { reference: `print1:b112:${jobId}`, units: 0.3, pages: 3, printer: 'b112', colour: false, duplex: false, account: { username: 'alice' }, ...changes },
      });
      const portal = portalAnswering(
        { 'print1:b112:1': refused(422, 'idempotency-key-reused'), 'print1:b112:2': refused(409, 'reference-in-use'), 'print1:b112:3': refused(422, 'idempotency-key-reused'), 'print1:b112:4': refused(409, 'reference-in-use'), 'print1:b112:5': refused(409, 'reference-in-use') },
        { 'print1:b112:1': theirs(1), 'print1:b112:2': theirs(2, { units: 1.5, pages: 15, account: { username: 'bob' } }), 'print1:b112:4': theirs(4, { printer: 'b113' }), 'print1:b112:5': theirs(5, { colour: true, duplex: null }) },
      );
      const report = await replaySpool(spool, portal);
      expect(report.alreadyDebited).to.deep.equal([same]);
      const ours = '0.3 units, 3 pages on b112, black and white, one-sided, to "alice"';
      expect(report.failed).to.deep.equal([
        { name: other, reason: `the reference print1:b112:2 is another job's in Recharge: 1.5 units, 15 pages on b112, black and white, one-sided, to "bob"; this one: ${ours}` },
        { name: gone, reason: `the reference print1:b112:3 is used in Recharge, but not by a debit of "alice"; this one: ${ours}` },
        { name: otherPrinter, reason: `the reference print1:b112:4 is another job's in Recharge: 0.3 units, 3 pages on b113, black and white, one-sided, to "alice"; this one: ${ours}` },
        { name: otherMode, reason: `the reference print1:b112:5 is another job's in Recharge: 0.3 units, 3 pages on b112, colour, ?, to "alice"; this one: ${ours}` },
      ]);
      expect(await spool.failedNames()).to.deep.equal([other, gone, otherPrinter, otherMode]);
    });

    it('stops at a 2xx that is not this debit (a maintenance page): kept in pending/, sent once the portal answers', async () => {
      const names = [await printed(debitFor(1), 1, new Date(1_000)), await printed(debitFor(2), 2, new Date(2_000))];
      const report = await replaySpool(spool, portalAnswering({ 'print1:b112:1': { outcome: 'unreachable', reason: 'the answer is not this job\'s Recharge debit' } }));
      expect(report).to.deep.include({ sent: [], failed: [], left: names, stoppedBecause: 'Recharge unreachable (the answer is not this job\'s Recharge debit)' });
      expect((await spool.list()).entries.map((entry) => entry.name)).to.deep.equal(names);
    });

    it('leaves marking a job printed to the job\'s own run: a replay, sending its debit or finding it sent, marks nothing', async () => {
      await printed(debitFor(1), 1, new Date(1_000));
      await printed(debitFor(2), 2, new Date(2_000));
      const report = await replaySpool(spool, portalAnswering({ 'print1:b112:2': refused(422, 'idempotency-key-reused') }, { 'print1:b112:2': { outcome: 'ok', value: { reference: 'print1:b112:2', units: 0.3, pages: 3, printer: 'b112', colour: false, duplex: false, account: { username: 'alice' } } } }));
      expect(report.sent.length + report.alreadyDebited.length).to.equal(2);
      const now = new Date();
      expect([await spool.referenceFor('print1:b112:1', now), await spool.referenceFor('print1:b112:2', now)]).to.deep.equal(['print1:b112:1', 'print1:b112:2']);
      expect(await readdir(path.join(folder, 'done'))).to.deep.equal([]);
    });
  });
});
