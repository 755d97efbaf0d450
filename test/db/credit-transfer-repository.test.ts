import { expect } from 'chai';
import {
  claimTransfer,
  finishTransferAttempt,
  findTransfer,
  listAbandonedTransfers,
  listDueTransferIds,
  resolveTransfer,
  takeOverAbandonedTransfer,
  writeCreditDestination,
  type CreditTransfer,
} from '../../src/db/credit-transfers/transfer-repository.js';
import { getAccountByCode, postTransaction } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount, type TransactionKind } from '../../src/domain/ledger/ledger.js';
import type { TransferState } from '../../src/domain/credit-transfers/transfers.js';
import { createArgon2Hasher } from '../../src/domain/people/passwords.js';
import type { User } from '../../src/domain/people/users.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { createUserManagement } from '../../src/services/people/user-management.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';

const LEASE_MS = 60_000;
const PAPERCUT = { kind: 'papercut' as const, label: 'PaperCut at print.example.edu' };

describe(`credit transfers in the database (${testDialect})`, () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let ana: User;
  let ben: User;
  let time = Date.parse('2026-11-23T10:00:00Z');
  const clock = { now: () => new Date(time) };
  let key = 0;

  const knex = () => database.db.knex;
  const accountOf = async (user: User) => (await ledger.userAccount(user.id)).id;
  const systemAccount = async (code: string) => (await getAccountByCode(knex(), code)).id;

  /** Moves `amount` between the person and a system account, as a posting of `kind` does. */
  async function post(kind: TransactionKind, user: User, amount: number, idempotencyKey = `test:${(key += 1)}`) {
    const counterpart = { top_up: SystemAccount.topUps, usage: SystemAccount.usage('print'), adjustment: SystemAccount.adjustments, quote_payment: SystemAccount.quotePayments, voucher: SystemAccount.vouchers, reversal: SystemAccount.adjustments }[kind];
    return ledger.post({ idempotencyKey, kind, lines: [{ accountId: await accountOf(user), amount }, { accountId: await systemAccount(counterpart), amount: -amount }], allowOverdraft: true });
  }
  const transfersOf = async (ledgerTransactionId: number) =>
    ((await knex()('credit_transfers').where('ledger_transaction_id', ledgerTransactionId).orderBy('user_id').select('user_id', 'amount', 'state', 'destination')) as Array<Record<string, unknown>>).map((row) => ({
      userId: Number(row.user_id),
      amount: Number(row.amount),
      state: row.state,
      destination: row.destination,
    }));
  const transferCount = async () => Number((await knex()('credit_transfers').count({ count: '*' }).first())?.count);

  /** A new transfer, queued by a top-up now. */
  async function queuedTransfer(amount = 500): Promise<CreditTransfer> {
    const { transactionId } = await post('top_up', ana, amount);
    const row = await knex()('credit_transfers').where('ledger_transaction_id', transactionId).first('id');
    return (await findTransfer(knex(), Number(row.id)))!;
  }
  /** A transfer brought to `state` by one attempt that ended so. */
  async function transferIn(state: 'parked' | 'unknown' | 'delivered'): Promise<CreditTransfer> {
    const claimed = (await claimTransfer(knex(), (await queuedTransfer()).id, clock.now(), LEASE_MS))!;
    const end = state === 'delivered' ? { state } : { state, error: `ended ${state}` };
    expect(await finishTransferAttempt(knex(), claimed, end, clock.now())).to.equal(true);
    return (await findTransfer(knex(), claimed.id))!;
  }
  const due = (at: Date) => listDueTransferIds(knex(), 'papercut', at, 1000);
  const abandoned = async (at: Date) => (await listAbandonedTransfers(knex(), at, 1000)).map((transfer) => transfer.id);
  const stateOf = async (id: number): Promise<TransferState | undefined> => (await findTransfer(knex(), id))?.state;

  before(async () => {
    database = await createTestDatabase();
    ledger = createLedger({ db: database.db, clock });
    const users = createUserManagement({ db: database.db, hasher: createArgon2Hasher(), clock });
    const person = (username: string) => users.addUser({ username, password: null, displayName: username, email: `${username}@example.edu`, role: 'user', locale: null });
    ana = await person('ana');
    ben = await person('ben');
  });
  afterEach(() => expectLedgerConsistent(database.db));
  after(() => database.cleanup());

  describe('queued with the posting', () => {
    it('queues nothing while no destination is recorded', async () => {
      await writeCreditDestination(knex(), null, clock.now());
      const before = await transferCount();
      for (const kind of ['top_up', 'adjustment', 'quote_payment'] as const) await post(kind, ana, 300);
      expect(await transferCount()).to.equal(before);
    });

    describe('with a destination', () => {
      before(() => writeCreditDestination(knex(), PAPERCUT, clock.now()));

      for (const kind of ['top_up', 'adjustment', 'quote_payment'] as const) {
        it(`queues a ${kind} once, pending for the destination, with the person's line`, async () => {
          const { transactionId } = await post(kind, ana, 1250);
          expect(await transfersOf(transactionId)).to.deep.equal([{ userId: ana.id, amount: 1250, state: 'pending', destination: 'papercut' }]);
        });
      }

      it('queues one transfer per person of a transaction, with each one’s signed line', async () => {
        const lines = [
          { accountId: await accountOf(ana), amount: 700 },
          { accountId: await accountOf(ben), amount: -200 },
          { accountId: await systemAccount(SystemAccount.adjustments), amount: -500 },
        ];
        const { transactionId } = await ledger.post({ idempotencyKey: `test:${(key += 1)}`, kind: 'adjustment', lines, allowOverdraft: true });
        expect((await transfersOf(transactionId)).map(({ userId, amount }) => ({ userId, amount }))).to.deep.equal([
          { userId: ana.id, amount: 700 },
          { userId: ben.id, amount: -200 },
        ]);
      });

      it('queues the reversal of a top-up as a take-back, and a refund’s take-back posted as a reversal', async () => {
        const { transactionId: topUp } = await post('top_up', ben, 900);
        const { transactionId: reversal } = await ledger.reverse({ transactionId: topUp, idempotencyKey: `test:${(key += 1)}`, allowOverdraft: true });
        expect(await transfersOf(reversal)).to.deep.equal([{ userId: ben.id, amount: -900, state: 'pending', destination: 'papercut' }]);
        const { transactionId: takeBack } = await post('reversal', ben, -300);
        expect((await transfersOf(takeBack)).map((transfer) => transfer.amount)).to.deep.equal([-300]);
      });

      it('queues nothing for usage, nor for the reversal of a usage: the print system charged it itself', async () => {
        const { transactionId: usage } = await post('usage', ana, -150);
        const { transactionId: cancelled } = await ledger.reverse({ transactionId: usage, idempotencyKey: `test:${(key += 1)}` });
        expect(await transfersOf(usage)).to.deep.equal([]);
        expect(await transfersOf(cancelled)).to.deep.equal([]);
      });

      it('queues nothing more when a posting is replayed with its idempotency key', async () => {
        const first = await post('top_up', ana, 400, 'replayed-top-up');
        const before = await transferCount();
        const again = await post('top_up', ana, 400, 'replayed-top-up');
        expect(again).to.deep.equal({ transactionId: first.transactionId, replayed: true });
        const reversal = await ledger.reverse({ transactionId: first.transactionId, idempotencyKey: 'replayed-reversal' });
        expect(await ledger.reverse({ transactionId: first.transactionId, idempotencyKey: 'replayed-reversal' })).to.deep.equal({ ...reversal, replayed: true });
        expect(await transferCount()).to.equal(before + 1);
        expect(await transfersOf(first.transactionId)).to.have.length(1);
      });

      it('rolls a transfer back with its posting', async () => {
        const before = await transferCount();
        const transactions = Number((await knex()('ledger_transactions').count({ count: '*' }).first())?.count);
        const lines = [
          { accountId: await accountOf(ana), amount: 600 },
          { accountId: await systemAccount(SystemAccount.topUps), amount: -600 },
        ];
        const failure = await database.db
          .transaction(async (trx) => {
            const { transactionId } = await postTransaction(trx, { idempotencyKey: `test:${(key += 1)}`, kind: 'top_up', lines }, clock.now());
            // Queued inside the transaction, then the caller fails (an order's status could not move).
            expect(Number((await trx('credit_transfers').where('ledger_transaction_id', transactionId).count({ count: '*' }).first())?.count)).to.equal(1);
            throw new Error('the caller failed after posting');
          })
          .catch((error: unknown) => error);
        expect((failure as Error).message).to.equal('the caller failed after posting');
        expect(await transferCount()).to.equal(before);
        expect(Number((await knex()('ledger_transactions').count({ count: '*' }).first())?.count)).to.equal(transactions);
      });
    });
  });

  describe('claimed, finished, taken over, resolved', () => {
    before(() => writeCreditDestination(knex(), PAPERCUT, clock.now()));

    it('lets one of two claims at once have a due transfer, counting the attempt', async () => {
      const transfer = await queuedTransfer();
      expect(await due(clock.now())).to.include(transfer.id);
      const claims = await Promise.all([1, 2].map(() => claimTransfer(knex(), transfer.id, clock.now(), LEASE_MS)));
      const won = claims.filter((claim) => claim !== undefined);
      expect(won).to.have.length(1);
      expect(won[0]).to.include({ id: transfer.id, state: 'delivering', attempts: 1 });
      expect(won[0]!.leaseUntil).to.deep.equal(new Date(time + LEASE_MS));
      expect(await claimTransfer(knex(), transfer.id, clock.now(), LEASE_MS)).to.equal(undefined);
      expect(await due(clock.now())).not.to.include(transfer.id);
    });

    it('claims no transfer before its next attempt is due', async () => {
      const claimed = (await claimTransfer(knex(), (await queuedTransfer()).id, clock.now(), LEASE_MS))!;
      const nextAttemptAt = new Date(time + 5 * 60_000);
      expect(await finishTransferAttempt(knex(), claimed, { state: 'pending', nextAttemptAt, error: 'refused' }, clock.now())).to.equal(true);
      expect(await claimTransfer(knex(), claimed.id, new Date(time + 5 * 60_000 - 1), LEASE_MS)).to.equal(undefined);
      expect(await claimTransfer(knex(), claimed.id, nextAttemptAt, LEASE_MS)).to.include({ state: 'delivering', attempts: 2 });
    });

    it('finishes an attempt only for the claim that holds it: a stale attempts count changes nothing', async () => {
      const claimed = (await claimTransfer(knex(), (await queuedTransfer()).id, clock.now(), LEASE_MS))!;
      expect(await finishTransferAttempt(knex(), { id: claimed.id, attempts: claimed.attempts - 1 }, { state: 'delivered' }, clock.now())).to.equal(false);
      expect(await findTransfer(knex(), claimed.id)).to.include({ state: 'delivering', attempts: 1, deliveredAt: null });
      expect(await finishTransferAttempt(knex(), claimed, { state: 'delivered' }, clock.now())).to.equal(true);
      expect(await findTransfer(knex(), claimed.id)).to.include({ state: 'delivered', leaseUntil: null });
      // Finished once: the same claim cannot end it a second time.
      expect(await finishTransferAttempt(knex(), claimed, { state: 'unknown', error: 'late' }, clock.now())).to.equal(false);
      expect(await stateOf(claimed.id)).to.equal('delivered');
    });

    it('takes over only an attempt whose lease ran out, once, and the late holder then changes nothing', async () => {
      const claimed = (await claimTransfer(knex(), (await queuedTransfer()).id, clock.now(), LEASE_MS))!;
      const during = new Date(time + LEASE_MS - 1);
      expect(await abandoned(during)).not.to.include(claimed.id);
      expect(await takeOverAbandonedTransfer(knex(), claimed.id, 'unknown', 'interrupted', during)).to.equal(false);
      expect(await stateOf(claimed.id)).to.equal('delivering');

      const after = new Date(time + LEASE_MS + 1);
      expect(await abandoned(after)).to.include(claimed.id);
      expect(await takeOverAbandonedTransfer(knex(), claimed.id, 'unknown', 'interrupted', after)).to.equal(true);
      expect(await findTransfer(knex(), claimed.id)).to.include({ state: 'unknown', lastError: 'interrupted', leaseUntil: null });
      expect(await takeOverAbandonedTransfer(knex(), claimed.id, 'pending', 'interrupted', after)).to.equal(false);
      expect(await finishTransferAttempt(knex(), claimed, { state: 'delivered' }, after)).to.equal(false);
      expect(await stateOf(claimed.id)).to.equal('unknown');
    });

    it('never takes over a transfer that is not being delivered', async () => {
      const later = new Date(time + 10 * LEASE_MS);
      for (const transfer of [await queuedTransfer(), await transferIn('delivered'), await transferIn('parked'), await transferIn('unknown')]) {
        expect(await takeOverAbandonedTransfer(knex(), transfer.id, 'unknown', 'interrupted', later)).to.equal(false);
        expect(await stateOf(transfer.id)).to.equal(transfer.state);
      }
    });

    it('lets an admin resolve only a parked or unknown transfer, and only from the state they saw', async () => {
      const pending = await queuedTransfer();
      const delivering = (await claimTransfer(knex(), (await queuedTransfer()).id, clock.now(), LEASE_MS))!;
      const delivered = await transferIn('delivered');
      for (const transfer of [pending, delivering, delivered]) {
        for (const to of ['delivered', 'pending'] as const) expect(await resolveTransfer(knex(), transfer, to, clock.now())).to.equal(false);
        expect(await stateOf(transfer.id)).to.equal(transfer.state);
      }

      const parked = await transferIn('parked');
      const unknown = await transferIn('unknown');
      expect(await resolveTransfer(knex(), { ...parked, state: 'unknown' }, 'delivered', clock.now())).to.equal(false);
      expect(await resolveTransfer(knex(), { ...unknown, state: 'parked' }, 'pending', clock.now())).to.equal(false);
      expect(await stateOf(parked.id)).to.equal('parked');
      expect(await stateOf(unknown.id)).to.equal('unknown');

      time += 3 * 3600_000;
      expect(await resolveTransfer(knex(), { ...unknown, state: 'unknown' }, 'delivered', clock.now())).to.equal(true);
      expect(await findTransfer(knex(), unknown.id)).to.include({ state: 'delivered' }).and.to.have.deep.property('deliveredAt', clock.now());
      // A second admin who saw it unknown too: the first decision stands.
      expect(await resolveTransfer(knex(), { ...unknown, state: 'unknown' }, 'pending', clock.now())).to.equal(false);
      expect(await stateOf(unknown.id)).to.equal('delivered');

      expect(await resolveTransfer(knex(), { ...parked, state: 'parked' }, 'pending', clock.now())).to.equal(true);
      const sentAgain = (await findTransfer(knex(), parked.id))!;
      expect(sentAgain).to.include({ state: 'pending', deliveredAt: null });
      // Due now, and retried for a new give-up period from now.
      expect(sentAgain.nextAttemptAt).to.deep.equal(clock.now());
      expect(sentAgain.triesSince).to.deep.equal(clock.now());
      expect(await resolveTransfer(knex(), { ...parked, state: 'parked' }, 'delivered', clock.now())).to.equal(false);
      // An attempt made since the admin looked: a decision on the older attempt's evidence changes nothing.
      const unknownAgain = await transferIn('unknown');
      expect(await resolveTransfer(knex(), { ...unknownAgain, attempts: unknownAgain.attempts - 1 }, 'pending', clock.now())).to.equal(false);
      expect(await stateOf(unknownAgain.id)).to.equal('unknown');
      expect(await claimTransfer(knex(), parked.id, clock.now(), LEASE_MS)).to.include({ state: 'delivering', attempts: 2 });
    });
  });
});
