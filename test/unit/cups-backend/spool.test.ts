import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createSpool, type PendingDebit, type Spool } from '../../../src/cups-backend/spool.js';

const debitFor = (jobId: number, printer = 'b112'): PendingDebit => ({
  username: 'alice',
  idempotencyKey: `print1:${printer}:${jobId}`,
  body: { category: 'print', units: 0.3, pages: 3, reference: `print1:${printer}:${jobId}`, printer, colour: false, duplex: false, afterPrinting: true },
  pid: process.pid,
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
    await printed(debitFor(3, 'a/b c'), 3, new Date(99_999_999_999));
    expect((await spool.list()).map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:9', 'print1:b112:10', 'print1:b112:7', 'print1:a/b c:3']);
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
    expect(await spool.adoptOrphans()).to.deep.equal([]);
    expect((await spool.list()).map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:1']);
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
    expect(await spool.list()).to.deep.equal([]);
    expect(await spool.failedNames()).to.deep.equal([second]);
  });

  it('forgets a job that failed to print, and sends one whose backend died while it printed', async () => {
    const failedToPrint = await spool.savePrinting(debitFor(1), 1, new Date(1_000));
    const stillPrinting = await spool.savePrinting(debitFor(2), 2, new Date(2_000));
    const orphan = await spool.savePrinting({ ...debitFor(3), pid: await deadPid() }, 3, new Date(3_000));
    await spool.forgetPrinting(failedToPrint);
    expect(await spool.list()).to.deep.equal([]);
    expect(await spool.adoptOrphans()).to.deep.equal([orphan]);
    expect((await spool.list()).map((entry) => entry.name)).to.deep.equal([orphan]);
    expect(await readdir(path.join(folder, 'printing'))).to.deep.equal([stillPrinting]);
  });

  it('sets a damaged file aside rather than block the debits after it', async () => {
    await writeFile(path.join(folder, 'pending', '000000000000500-0000000001-b112.json'), '{ damaged');
    await printed(debitFor(2), 2, new Date(1_000));
    expect((await spool.list()).map((entry) => entry.debit.body.reference)).to.deep.equal(['print1:b112:2']);
    expect(await spool.failedNames()).to.deep.equal(['000000000000500-0000000001-b112.json']);
  });
});
