import { expect } from 'chai';
import { afterFailure } from '../../src/domain/mail/retry-schedule.js';
import { retryDelayMs } from '../../src/domain/shared/retry-delay.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('mail retry schedule', () => {
  it('waits a minute after the first failure, doubling, at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map(retryDelayMs)).to.deep.equal([1, 2, 4, 8, 16, 32, 60, 60, 60].map((minutes) => minutes * MINUTE));
  });

  it('reads a count of zero or less as the first failure', () => {
    expect(retryDelayMs(0)).to.equal(MINUTE);
    expect(retryDelayMs(-3)).to.equal(MINUTE);
  });

  const triesSince = new Date('2026-11-23T10:00:00Z');
  const at = (ms: number) => new Date(triesSince.getTime() + ms);

  it('schedules a temporary failure for later, keeping its error', () => {
    expect(afterFailure({ permanent: false, error: 'ECONNECTION: refused', attempts: 3, triesSince }, at(10 * MINUTE), 72 * HOUR)).to.deep.equal({
      status: 'pending',
      error: 'ECONNECTION: refused',
      nextAttemptAt: at(14 * MINUTE),
    });
  });

  it('fails a permanent refusal at once, however young the mail', () => {
    expect(afterFailure({ permanent: true, error: '550 No such user', attempts: 1, triesSince }, triesSince, 72 * HOUR)).to.deep.equal({ status: 'failed', error: '550 No such user' });
  });

  it('gives up on temporary failures once the mail is older than the limit, not before', () => {
    const failure = { permanent: false, error: 'ETIMEDOUT', attempts: 40, triesSince };
    expect(afterFailure(failure, at(72 * HOUR), 72 * HOUR).status).to.equal('pending');
    expect(afterFailure(failure, at(72 * HOUR + 1), 72 * HOUR)).to.deep.equal({ status: 'failed', error: 'ETIMEDOUT' });
  });
});
