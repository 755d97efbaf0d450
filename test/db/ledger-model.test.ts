import { expect } from 'chai';
import fc from 'fast-check';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { createAccount, findAccountByCode, getAccountByCode, type Account } from '../../src/db/ledger/ledger-repository.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { systemClock } from '../../src/system-clock.js';
import { LedgerError, SystemAccount, type PostingLine, type TransactionRequest } from '../../src/domain/ledger/ledger.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';

/** What the ledger should hold, kept by plain arithmetic. */
interface Model {
  balances: number[];
  /** Posted requests by idempotency key, in order. */
  posted: Array<{ request: TransactionRequest; transactionId: number }>;
  /** Reversal key by reversed transaction id. */
  reversals: Map<number, string>;
}

interface Real {
  ledger: Ledger;
  accounts: Account[];
  counterparts: { adjustments: number; print: number };
  run: string;
  database: TestDatabase;
}

type Command = fc.AsyncCommand<Model, Real>;

async function expectRefusal(action: Promise<unknown>, code: string): Promise<void> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}`).to.be.instanceOf(LedgerError);
  expect((error as LedgerError).code).to.equal(code);
}

async function expectMatchesModel(model: Model, real: Real): Promise<void> {
  for (const [index, account] of real.accounts.entries()) {
    const stored = await findAccountByCode(real.database.db.knex, account.code);
    expect(stored?.balance, `balance of account ${index}`).to.equal(model.balances[index]);
  }
  const report = await checkLedger(real.database.db.knex);
  expect(report.ok, JSON.stringify(report)).to.equal(true);
}

const apply = (model: Model, real: Real, lines: PostingLine[]) => {
  for (const line of lines) {
    const index = real.accounts.findIndex((account) => account.id === line.accountId);
    if (index >= 0) model.balances[index] = (model.balances[index] ?? 0) + line.amount;
  }
};

class Credit implements Command {
  constructor(readonly account: number, readonly amount: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const request: TransactionRequest = {
      idempotencyKey: `${real.run}:tx${model.posted.length}`,
      kind: 'adjustment',
      lines: [
        { accountId: real.accounts[this.account]!.id, amount: this.amount },
        { accountId: real.counterparts.adjustments, amount: -this.amount },
      ],
    };
    const result = await real.ledger.post(request);
    expect(result.replayed).to.equal(false);
    model.posted.push({ request, transactionId: result.transactionId });
    apply(model, real, request.lines);
    await expectMatchesModel(model, real);
  }
  toString = () => `credit(${this.account}, ${this.amount})`;
}

class Debit implements Command {
  constructor(readonly account: number, readonly amount: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const request: TransactionRequest = {
      idempotencyKey: `${real.run}:tx${model.posted.length}`,
      kind: 'usage',
      lines: [
        { accountId: real.accounts[this.account]!.id, amount: -this.amount },
        { accountId: real.counterparts.print, amount: this.amount },
      ],
    };
    if ((model.balances[this.account] ?? 0) < this.amount) {
      await expectRefusal(real.ledger.post(request), 'insufficient_balance');
    } else {
      const result = await real.ledger.post(request);
      model.posted.push({ request, transactionId: result.transactionId });
      apply(model, real, request.lines);
    }
    await expectMatchesModel(model, real);
  }
  toString = () => `debit(${this.account}, ${this.amount})`;
}

class Reverse implements Command {
  constructor(readonly pick: number, readonly attempt: number, readonly allowOverdraft: boolean) {}
  check = (model: Readonly<Model>) => model.posted.some((item) => item.request.kind !== 'reversal');
  async run(model: Model, real: Real) {
    const candidates = model.posted.filter((item) => item.request.kind !== 'reversal');
    const target = candidates[this.pick % candidates.length]!;
    const key = `${real.run}:reverse${this.attempt}:${target.transactionId}`;
    const reverse = () => real.ledger.reverse({ transactionId: target.transactionId, idempotencyKey: key, allowOverdraft: this.allowOverdraft });
    const earlier = model.reversals.get(target.transactionId);
    if (earlier !== undefined && earlier !== key) {
      await expectRefusal(reverse(), 'already_reversed');
      return expectMatchesModel(model, real);
    }
    if (earlier === key) {
      expect((await reverse()).replayed).to.equal(true);
      return expectMatchesModel(model, real);
    }
    const lines = target.request.lines.map((line) => ({ ...line, amount: -line.amount }));
    const overdraws = lines.some((line) => {
      const index = real.accounts.findIndex((account) => account.id === line.accountId);
      return index >= 0 && line.amount < 0 && (model.balances[index] ?? 0) + line.amount < 0;
    });
    if (overdraws && !this.allowOverdraft) {
      await expectRefusal(reverse(), 'insufficient_balance');
    } else {
      const result = await reverse();
      expect(result.replayed).to.equal(false);
      model.reversals.set(target.transactionId, key);
      model.posted.push({ request: { idempotencyKey: key, kind: 'reversal', lines }, transactionId: result.transactionId });
      apply(model, real, lines);
    }
    await expectMatchesModel(model, real);
  }
  toString = () => `reverse(#${this.pick}, attempt ${this.attempt}, overdraft ${this.allowOverdraft})`;
}

class Replay implements Command {
  constructor(readonly pick: number, readonly conflicting: boolean) {}
  check = (model: Readonly<Model>) => model.posted.some((item) => item.request.kind !== 'reversal');
  async run(model: Model, real: Real) {
    const candidates = model.posted.filter((item) => item.request.kind !== 'reversal');
    const { request, transactionId } = candidates[this.pick % candidates.length]!;
    if (this.conflicting) {
      const changed = { ...request, lines: request.lines.map((line) => ({ ...line, amount: line.amount * 2 })) };
      await expectRefusal(real.ledger.post(changed), 'idempotency_conflict');
    } else {
      expect(await real.ledger.post(request)).to.deep.equal({ transactionId, replayed: true });
    }
    await expectMatchesModel(model, real);
  }
  toString = () => `replay(#${this.pick}${this.conflicting ? ', conflicting' : ''})`;
}

const ACCOUNTS = 3;
const account = fc.integer({ min: 0, max: ACCOUNTS - 1 });
const amount = fc.integer({ min: 1, max: 5_000 });
const commands = fc.commands(
  [
    fc.tuple(account, amount).map(([a, n]) => new Credit(a, n)),
    fc.tuple(account, amount).map(([a, n]) => new Debit(a, n)),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 1 }), fc.boolean()).map(([p, t, o]) => new Reverse(p, t, o)),
    fc.tuple(fc.nat(), fc.boolean()).map(([p, c]) => new Replay(p, c)),
  ],
  { maxCommands: 25 },
);

describe(`ledger against a model, property-based (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('keeps balances equal to the model and the ledger balanced after every credit, debit, reversal and replay', async () => {
    const knex = database.db.knex;
    const counterparts = {
      adjustments: (await getAccountByCode(knex, SystemAccount.adjustments)).id,
      print: (await getAccountByCode(knex, SystemAccount.usage('print'))).id,
    };
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        runs += 1;
        const run = `run${runs}`;
        const accounts: Account[] = [];
        for (let index = 0; index < ACCOUNTS; index += 1) {
          accounts.push(await createAccount(knex, { code: `test:${run}:${index}`, kind: 'user' }, new Date()));
        }
        const setup = () => ({
          model: { balances: accounts.map(() => 0), posted: [], reversals: new Map() } satisfies Model,
          real: { ledger: createLedger({ db: database.db, clock: systemClock }), accounts, counterparts, run, database } satisfies Real,
        });
        await fc.asyncModelRun(setup, sequence);
      }),
      { numRuns: 30 },
    );
  });
});
