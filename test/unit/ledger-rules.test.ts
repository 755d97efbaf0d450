import { expect } from 'chai';
import fc from 'fast-check';
import { LedgerError, MAX_ENTRY_AMOUNT, reversalLines, sameLines, validateTransaction, type PostingLine } from '../../src/domain/ledger/ledger.js';

const request = (lines: PostingLine[], extra: Partial<Parameters<typeof validateTransaction>[0]> = {}) => ({
  idempotencyKey: 'key-1',
  kind: 'adjustment' as const,
  lines,
  ...extra,
});

function refusal(lines: PostingLine[], extra = {}): string {
  try {
    validateTransaction(request(lines, extra));
  } catch (error) {
    expect(error).to.be.instanceOf(LedgerError);
    expect((error as LedgerError).code).to.equal('invalid_transaction');
    return (error as Error).message;
  }
  throw new Error('expected the transaction to be refused');
}

/** Random balanced transactions: n-1 random amounts on distinct accounts, the last one balancing them. */
const balancedLines = fc
  .uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 6 })
  .chain((accounts) =>
    fc.array(fc.integer({ min: -100_000, max: 100_000 }).filter((n) => n !== 0), { minLength: accounts.length - 1, maxLength: accounts.length - 1 }).map((amounts) => {
      const last = -amounts.reduce((sum, amount) => sum + amount, 0);
      return { accounts, amounts: [...amounts, last] };
    }),
  )
  .filter(({ amounts }) => amounts.at(-1) !== 0)
  .map(({ accounts, amounts }) => accounts.map((accountId, index) => ({ accountId, amount: amounts[index] as number })));

describe('ledger rules', () => {
  it('accepts every balanced transaction and returns its lines sorted by account', () => {
    fc.assert(
      fc.property(balancedLines, (lines) => {
        const validated = validateTransaction(request(lines));
        expect(validated.map((line) => line.accountId)).to.deep.equal([...lines.map((line) => line.accountId)].sort((a, b) => a - b));
        expect(sameLines(validated, lines)).to.equal(true);
      }),
    );
  });

  it('refuses a transaction whose entries do not sum to zero', () => {
    fc.assert(
      fc.property(balancedLines, fc.integer({ min: 1, max: 1000 }), (lines, skew) => {
        const skewed = lines.map((line, index) => (index === 0 ? { ...line, amount: line.amount + skew } : line));
        if (skewed[0]?.amount === 0) return;
        expect(refusal(skewed)).to.match(/sum to/);
      }),
    );
  });

  it('refuses single entries, zero, fractional, huge amounts and repeated accounts', () => {
    expect(refusal([{ accountId: 1, amount: 0 }])).to.match(/at least two/);
    expect(refusal([{ accountId: 1, amount: 0 }, { accountId: 2, amount: 0 }])).to.match(/non-zero whole number/);
    expect(refusal([{ accountId: 1, amount: 0.5 }, { accountId: 2, amount: -0.5 }])).to.match(/non-zero whole number/);
    expect(refusal([{ accountId: 1, amount: MAX_ENTRY_AMOUNT + 1 }, { accountId: 2, amount: -MAX_ENTRY_AMOUNT - 1 }])).to.match(/up to/);
    expect(refusal([{ accountId: 1, amount: Number.NaN }, { accountId: 2, amount: 5 }])).to.match(/non-zero whole number/);
    expect(refusal([{ accountId: 1, amount: 5 }, { accountId: 1, amount: -5 }])).to.match(/appears twice/);
    expect(refusal([{ accountId: 0, amount: 5 }, { accountId: 1, amount: -5 }])).to.match(/bad account/);
  });

  it('refuses a missing or overlong idempotency key, an unknown kind and an overlong description', () => {
    const lines = [{ accountId: 1, amount: 5 }, { accountId: 2, amount: -5 }];
    expect(refusal(lines, { idempotencyKey: '' })).to.match(/idempotency key/);
    expect(refusal(lines, { idempotencyKey: 'k'.repeat(201) })).to.match(/idempotency key/);
    expect(refusal(lines, { kind: 'gift' })).to.match(/unknown kind/);
    expect(refusal(lines, { description: 'd'.repeat(501) })).to.match(/description/);
  });

  it('builds reversals that cancel the original entry by entry', () => {
    fc.assert(
      fc.property(balancedLines, (lines) => {
        const reversal = reversalLines(lines);
        validateTransaction(request(reversal));
        lines.forEach((line, index) => expect(line.amount + (reversal[index]?.amount ?? 0)).to.equal(0));
      }),
    );
  });

  it('compares lines whatever their order, but not different amounts', () => {
    expect(sameLines([{ accountId: 1, amount: 5 }, { accountId: 2, amount: -5 }], [{ accountId: 2, amount: -5 }, { accountId: 1, amount: 5 }])).to.equal(true);
    expect(sameLines([{ accountId: 1, amount: 5 }, { accountId: 2, amount: -5 }], [{ accountId: 1, amount: 6 }, { accountId: 2, amount: -6 }])).to.equal(false);
  });
});
