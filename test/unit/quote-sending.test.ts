import { expect } from 'chai';
import { assertResendable, isDueToExpire, QUOTE_RESENDS_PER_DAY, QuoteSendError, sendingOf } from '../../src/domain/quotes/quote-sending.js';
import { QUOTE_STATUSES, QuoteStatusError, type QuoteStatus } from '../../src/domain/quotes/quote-status.js';

const quote = (status: QuoteStatus, validUntil = '2026-12-23') => ({ status, customer: { validUntil } });
const codeOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    if (error instanceof QuoteSendError || error instanceof QuoteStatusError) return error.code;
    throw error;
  }
  return null;
};

describe('sending quotes', () => {
  it('sends a draft valid until today or later, and only a draft; a quote already sent is left alone', () => {
    expect(sendingOf(quote('draft'), '2026-12-23')).to.equal('send');
    expect(sendingOf(quote('draft'), '2026-11-23')).to.equal('send');
    expect(codeOf(() => sendingOf(quote('draft'), '2026-12-24'))).to.equal('validity_passed');
    expect(sendingOf(quote('sent', '2026-01-01'), '2026-12-24')).to.equal('already_sent');
    for (const status of QUOTE_STATUSES.filter((status) => status !== 'draft' && status !== 'sent')) {
      expect(codeOf(() => sendingOf(quote(status), '2026-11-23')), status).to.equal('invalid_transition');
    }
  });

  it('sends a sent quote again while it is valid, at most five times in a day', () => {
    expect(codeOf(() => assertResendable(quote('sent'), '2026-12-23', QUOTE_RESENDS_PER_DAY - 1))).to.equal(null);
    expect(codeOf(() => assertResendable(quote('sent'), '2026-12-23', QUOTE_RESENDS_PER_DAY))).to.equal('too_many_resends');
    expect(codeOf(() => assertResendable(quote('sent'), '2026-12-24', 0))).to.equal('validity_passed');
    for (const status of QUOTE_STATUSES.filter((status) => status !== 'sent')) {
      expect(codeOf(() => assertResendable(quote(status), '2026-11-23', 0)), status).to.equal('invalid_transition');
    }
  });

  it('expires only sent quotes, the day after their last day', () => {
    expect(isDueToExpire(quote('sent'), '2026-12-23')).to.equal(false);
    expect(isDueToExpire(quote('sent'), '2026-12-24')).to.equal(true);
    for (const status of QUOTE_STATUSES.filter((status) => status !== 'sent')) expect(isDueToExpire(quote(status), '2027-06-01'), status).to.equal(false);
  });
});
