import { expect } from 'chai';
import fc from 'fast-check';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import { adjustmentKey, AdjustmentError, REASON_MAX_LENGTH, validateAdjustment, type AdjustmentForm } from '../../src/services/ledger/adjustments.js';

const NONCE = 'abcdefghijklmnop-_0123';
const form = (fields: Partial<AdjustmentForm> = {}): AdjustmentForm => ({ direction: 'credit', amount: '12,50', reason: 'Lost print job', nonce: NONCE, ...fields });

function problemsOf(fields: Partial<AdjustmentForm>): Record<string, string> {
  try {
    validateAdjustment(form(fields));
  } catch (error) {
    expect(error).to.be.instanceOf(AdjustmentError);
    expect((error as AdjustmentError).code).to.equal('invalid_adjustment');
    return { ...(error as AdjustmentError).problems };
  }
  throw new Error('expected a refusal');
}

describe('manual adjustments', () => {
  it('reads the amount in units, trims the reason and keeps the direction and nonce', () => {
    expect(validateAdjustment(form())).to.deep.equal({ direction: 'credit', amount: 1250, reason: 'Lost print job', nonce: NONCE });
    expect(validateAdjustment(form({ direction: 'debit', amount: '3.5', reason: '  Wrong job  ' }))).to.deep.include({ direction: 'debit', amount: 350, reason: 'Wrong job' });
  });

  it('names every bad field at once', () => {
    expect(problemsOf({ direction: 'refund', amount: 'abc', reason: '   ' })).to.deep.equal({ direction: 'direction', amount: 'amount', reason: 'reason' });
    expect(problemsOf({ direction: undefined, amount: undefined, reason: undefined })).to.deep.equal({ direction: 'direction', amount: 'amount', reason: 'reason' });
  });

  it('refuses signs, exponents, zero, too many decimals and too long reasons', () => {
    for (const amount of ['-5', '+5', '1e3', 'abc', '', '12,345', '1 000', 'NaN', 'Infinity', '12345678']) {
      expect(problemsOf({ amount }), amount).to.deep.equal({ amount: 'amount' });
    }
    for (const amount of ['0', '0,00', '0.0']) expect(problemsOf({ amount }), amount).to.deep.equal({ amount: 'amount_zero' });
    expect(problemsOf({ reason: 'x'.repeat(REASON_MAX_LENGTH + 1) })).to.deep.equal({ reason: 'reason_too_long' });
    expect(validateAdjustment(form({ reason: 'x'.repeat(REASON_MAX_LENGTH) })).reason).to.have.length(REASON_MAX_LENGTH);
  });

  it('needs the nonce the form was shown with', () => {
    for (const nonce of [undefined, '', 'short', 'has spaces in it......', 'x'.repeat(65), ['a'.repeat(20)]]) {
      expect(() => validateAdjustment(form({ nonce }))).to.throw(AdjustmentError).with.property('code', 'invalid_nonce');
    }
    const fresh = newFormNonce();
    expect(validateAdjustment(form({ nonce: fresh })).nonce).to.equal(fresh);
    expect(newFormNonce()).not.to.equal(fresh);
  });

  it('derives one ledger key per person and form, within the ledger key length', () => {
    expect(adjustmentKey(7, NONCE)).to.equal(`admin-adjustment:7:${NONCE}`);
    expect(adjustmentKey(7, NONCE)).not.to.equal(adjustmentKey(8, NONCE));
    expect(adjustmentKey(Number.MAX_SAFE_INTEGER, 'x'.repeat(64)).length).to.be.at.most(200);
  });

  it('reads every whole or two-decimal amount exactly, whichever decimal separator', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999 }), fc.constantFrom(',', '.'), (hundredths, separator) => {
        const typed = `${Math.trunc(hundredths / 100)}${separator}${String(hundredths % 100).padStart(2, '0')}`;
        expect(validateAdjustment(form({ amount: typed })).amount).to.equal(hundredths);
      }),
    );
  });
});
