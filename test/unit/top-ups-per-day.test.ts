import { expect } from 'chai';
import fc from 'fast-check';
import { dayOf, daysBetween } from '../../src/domain/time/calendar.js';
import { tallyTopUpsPerDay } from '../../src/domain/reports/top-ups-per-day.js';

const ZONE = 'Europe/Paris';

describe('top-ups per day', () => {
  it('has every day of the range, zero when nothing was paid, in the price list currency', () => {
    const [series, ...others] = tallyTopUpsPerDay({ from: '2026-11-01', to: '2026-11-30' }, ZONE).result('EUR');
    expect(others).to.deep.equal([]);
    expect(series!.currency).to.equal('EUR');
    expect(series!.days.map((day) => day.day)).to.deep.equal(daysBetween('2026-11-01', '2026-11-30'));
    expect(series!.days.every((day) => day.count === 0 && day.amountCents === 0)).to.equal(true);
    expect(series).to.include({ count: 0, amountCents: 0 });
  });

  it('puts a payment on its day in the portal time zone, and leaves out what is outside the range', () => {
    const tally = tallyTopUpsPerDay({ from: '2026-10-24', to: '2026-10-26' }, ZONE);
    const paid = (iso: string, priceCents = 1000, currency = 'EUR') => tally.add({ paidAt: new Date(iso), currency, priceCents });
    paid('2026-10-23T21:59:59Z'); // 23:59:59 on the 23rd in Paris: before the range
    paid('2026-10-23T22:00:00Z'); // midnight on the 24th
    paid('2026-10-25T22:59:59Z', 2000); // 23:59:59 on the 25th (a 25-hour day: winter time)
    paid('2026-10-25T23:00:00Z', 500); // midnight on the 26th
    paid('2026-10-26T23:00:00Z'); // the 27th: after
    paid('2026-10-24T12:00:00Z', 700, 'CHF');
    const [chf, eur] = tally.result('EUR');
    expect(eur!.days).to.deep.equal([
      { day: '2026-10-24', count: 1, amountCents: 1000 },
      { day: '2026-10-25', count: 1, amountCents: 2000 },
      { day: '2026-10-26', count: 1, amountCents: 500 },
    ]);
    expect(eur).to.include({ currency: 'EUR', count: 3, amountCents: 3500 });
    expect(chf).to.include({ currency: 'CHF', count: 1, amountCents: 700 });
  });

  it('counts each payment in the range exactly once, on the day dayOf gives it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: Date.parse('2026-03-20T00:00:00Z'), max: Date.parse('2026-04-10T00:00:00Z') }), cents: fc.integer({ min: 1, max: 100_000 })}), { maxLength: 60 }),
        (payments) => {
          const tally = tallyTopUpsPerDay({ from: '2026-03-25', to: '2026-04-02' }, ZONE);
          for (const payment of payments) tally.add({ paidAt: new Date(payment.at), currency: 'EUR', priceCents: payment.cents });
          const [series] = tally.result('EUR');
          for (const day of series!.days) {
            const that = payments.filter((payment) => dayOf(new Date(payment.at), ZONE) === day.day);
            expect(day.count).to.equal(that.length);
            expect(day.amountCents).to.equal(that.reduce((sum, payment) => sum + payment.cents, 0));
          }
        },
      ),
    );
  });
});
