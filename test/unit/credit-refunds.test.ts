import { expect } from 'chai';
import fc from 'fast-check';
import { unitsTakenBack } from '../../src/domain/checkout/refunds.js';
import { createTranslations, SUPPORTED_LOCALES } from '../../src/i18n/index.js';
import { creditRefundNoticeKinds, creditRefundNotices } from '../../src/services/credit-refunds/credit-refund-notices.js';
import {
  AUTOMATIC_PART_ATTEMPTS,
  CreditRefundError,
  PAYPAL_REFUND_WINDOW_DAYS,
  partRetryDue,
  planCreditRefund,
  validateRefusalReason,
  type RefundableTopUp,
} from '../../src/domain/credit-refunds/credit-refunds.js';

const NOW = new Date('2026-12-16T12:00:00Z');
const DAY = 86_400_000;

const topUp = (orderId: number, daysAgo: number, priceCents: number, units: number, bonusUnits = 0, earlierRefundsCents: number[] = []): RefundableTopUp => ({
  orderId,
  orderNumber: `R-2026-${String(orderId).padStart(6, '0')}`,
  capturedAt: new Date(NOW.getTime() - daysAgo * DAY),
  currency: 'EUR',
  priceCents,
  units,
  bonusUnits,
  earlierRefundsCents,
});

/** Top-ups as the checkout makes them: a price, its units and bonus, and refunds that never exceed the price. */
const topUps = fc
  .array(
    fc
      .record({ priceCents: fc.integer({ min: 1, max: 100_000 }), perCent: fc.integer({ min: 1, max: 300 }), bonusPercent: fc.integer({ min: 0, max: 50 }), daysAgo: fc.integer({ min: 0, max: 400 }), refunded: fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 3 }) })
      .map(({ priceCents, perCent, bonusPercent, daysAgo, refunded }) => {
        const units = priceCents * perCent;
        let left = priceCents;
        const earlier = refunded.flatMap((cents) => {
          const taken = Math.min(cents, left);
          left -= taken;
          return taken > 0 ? [taken] : [];
        });
        return { priceCents, units, bonusUnits: Math.floor((units * bonusPercent) / 100), daysAgo, earlier };
      }),
    { maxLength: 6 },
  )
  .map((list) => list.map((entry, index) => topUp(index + 1, entry.daysAgo, entry.priceCents, entry.units, entry.bonusUnits, entry.earlier)));

const remaining = (entry: RefundableTopUp) => entry.priceCents - entry.earlierRefundsCents.reduce((sum, cents) => sum + cents, 0);

describe('credit refunds: what can be paid back', () => {
  it('never takes back more units than are available, nor pays more than remains of a top-up', () => {
    fc.assert(
      fc.property(topUps, fc.integer({ min: -1000, max: 50_000_000 }), (list, available) => {
        const plan = planCreditRefund(available, list, NOW);
        expect(plan.units).to.be.at.most(Math.max(0, available));
        for (const part of plan.parts) {
          const source = list.find((entry) => entry.orderId === part.orderId)!;
          expect(part.amountCents).to.be.within(1, remaining(source));
          expect(part.units).to.be.greaterThan(0);
          expect(part.bonusUnits).to.be.within(0, part.units);
        }
        expect(new Set(plan.parts.map((part) => part.orderId)).size).to.equal(plan.parts.length);
      }),
    );
  });

  it('takes back exactly what checkout would take back for the same refund, and pays no unit above the price paid for it', () => {
    fc.assert(
      fc.property(topUps, fc.integer({ min: 0, max: 50_000_000 }), (list, available) => {
        for (const part of planCreditRefund(available, list, NOW).parts) {
          const source = list.find((entry) => entry.orderId === part.orderId)!;
          expect(part.units).to.equal(unitsTakenBack(source, source.earlierRefundsCents, part.amountCents));
          // Money of the units taken back at the price per unit received (bonus included), less than a cent over at most.
          expect(part.amountCents * (source.units + source.bonusUnits)).to.be.below((part.units + 1) * source.priceCents);
        }
      }),
    );
  });

  it('refunds newest first: an older top-up is touched only once every newer one is wholly refunded', () => {
    fc.assert(
      fc.property(topUps, fc.integer({ min: 0, max: 50_000_000 }), (list, available) => {
        const plan = planCreditRefund(available, list, NOW);
        const oldestTouched = Math.min(...plan.parts.map((part) => list.find((entry) => entry.orderId === part.orderId)!.capturedAt.getTime()));
        for (const entry of list.filter((candidate) => candidate.capturedAt.getTime() > oldestTouched && remaining(candidate) > 0)) {
          const part = plan.parts.find((candidate) => candidate.orderId === entry.orderId);
          expect(part?.amountCents ?? 0, entry.orderNumber).to.equal(remaining(entry));
        }
      }),
    );
  });

  it('gives back exactly the prices paid when nothing was spent: the bonus is never paid out', () => {
    fc.assert(
      fc.property(topUps, (list) => {
        const everything = list.reduce((sum, entry) => sum + entry.units + entry.bonusUnits, 0);
        const plan = planCreditRefund(everything, list.map((entry) => ({ ...entry, earlierRefundsCents: [] })), NOW);
        expect(plan.cents).to.equal(list.reduce((sum, entry) => sum + entry.priceCents, 0));
        expect(plan.units).to.equal(everything);
      }),
    );
  });

  it('refunds across several top-ups with some units spent and some bonus', () => {
    // 20,00 € for 20 + 2 units (10 days ago), 10,00 € for 10 units (5 days ago); 24 units left.
    const plan = planCreditRefund(2400, [topUp(1, 10, 2000, 2000, 200), topUp(2, 5, 1000, 1000)], NOW);
    expect(plan.parts).to.deep.equal([
      { orderId: 2, orderNumber: 'R-2026-000002', currency: 'EUR', method: 'paypal', amountCents: 1000, units: 1000, bonusUnits: 0 },
      // 14 units of 22 at 20,00 €: 12,72 €, taking back 13,99 units (1,27 of them bonus).
      { orderId: 1, orderNumber: 'R-2026-000001', currency: 'EUR', method: 'paypal', amountCents: 1272, units: 1399, bonusUnits: 127 },
    ]);
    expect(plan).to.include({ units: 2399, cents: 2272 });
  });

  it('pays a top-up older than PayPal’s window by transfer', () => {
    const plan = planCreditRefund(3000, [topUp(1, PAYPAL_REFUND_WINDOW_DAYS, 1000, 1000), topUp(2, PAYPAL_REFUND_WINDOW_DAYS - 1, 1000, 1000)], NOW);
    expect(plan.parts.map((part) => [part.orderId, part.method])).to.deep.equal([
      [2, 'paypal'],
      [1, 'transfer'],
    ]);
  });

  it('refunds nothing from an empty balance, and nothing of a top-up already refunded', () => {
    expect(planCreditRefund(0, [topUp(1, 1, 1000, 1000)], NOW).parts).to.deep.equal([]);
    expect(planCreditRefund(5000, [topUp(1, 1, 1000, 1000, 0, [1000])], NOW).parts).to.deep.equal([]);
  });

  it('wants a reason to refuse', () => {
    expect(validateRefusalReason('  Compte en litige ')).to.equal('Compte en litige');
    for (const bad of ['', '   ', 'x'.repeat(501), 'a\u0000b', 42]) expect(() => validateRefusalReason(bad)).to.throw(CreditRefundError);
  });

  it('writes each notice in French and English, with the amounts and the reason', () => {
    const translations = createTranslations();
    const params = { requestId: 7, amountCents: 2090, transferCents: 1000, currency: 'EUR', units: 2199, closeAccount: true, accountClosed: true, reason: 'Compte partagé' };
    for (const locale of SUPPORTED_LOCALES) {
      for (const kind of Object.values(creditRefundNoticeKinds)) {
        const { subject, paragraphs } = creditRefundNotices[kind]!(params, translations(locale), { publicUrl: 'https://recharge.example.edu', locale, timeZone: 'Europe/Paris' });
        const text = paragraphs.flat().join('\n').replace(/[\u202f\u00a0]/g, ' ');
        expect(subject, `${locale} ${kind}`).to.include('7');
        expect(text, `${locale} ${kind}`).not.to.match(/creditRefunds\.|\{\{/);
        if (kind === creditRefundNoticeKinds.refused) expect(text).to.include('Compte partagé');
        else expect(text, `${locale} ${kind}`).to.match(/20[,.]90/);
      }
    }
  });
});

describe('credit refunds: asking PayPal again without an admin', () => {
  const at = new Date('2026-12-07T12:00:00Z');
  const minutesAgo = (minutes: number) => new Date(at.getTime() - minutes * 60_000);
  const part = (extra: Partial<Parameters<typeof partRetryDue>[0]> = {}): Parameters<typeof partRetryDue>[0] => ({
    status: 'pending',
    method: 'paypal',
    attempts: 1,
    lastOutcome: 'unknown',
    createdAt: minutesAgo(20),
    updatedAt: minutesAgo(10),
    ...extra,
  });

  it('asks again 10, 20, 40 and 80 minutes after each attempt, then stops', () => {
    expect(partRetryDue(part({ updatedAt: minutesAgo(9) }), at)).to.equal(false);
    expect(partRetryDue(part(), at)).to.equal(true);
    expect(partRetryDue(part({ attempts: 2, updatedAt: minutesAgo(19) }), at)).to.equal(false);
    expect(partRetryDue(part({ attempts: 2, updatedAt: minutesAgo(20) }), at)).to.equal(true);
    expect(partRetryDue(part({ attempts: 4, updatedAt: minutesAgo(80) }), at)).to.equal(true);
    expect(partRetryDue(part({ attempts: AUTOMATIC_PART_ATTEMPTS, updatedAt: minutesAgo(100) }), at)).to.equal(false);
  });

  it('stops 5 hours after the part was made, before PayPal forgets its request id', () => {
    expect(partRetryDue(part({ createdAt: minutesAgo(299) }), at)).to.equal(true);
    expect(partRetryDue(part({ createdAt: minutesAgo(300) }), at)).to.equal(false);
  });

  it('asks again a part never asked (the process stopped after the approval), never one PayPal refused for certain or not waiting for PayPal', () => {
    expect(partRetryDue(part({ attempts: 0, lastOutcome: null }), at)).to.equal(true);
    expect(partRetryDue(part({ lastOutcome: 'not_refunded' }), at)).to.equal(true);
    expect(partRetryDue(part({ lastOutcome: 'refused', updatedAt: minutesAgo(100) }), at)).to.equal(false);
    expect(partRetryDue(part({ method: 'transfer' }), at)).to.equal(false);
    expect(partRetryDue(part({ status: 'refunded' }), at)).to.equal(false);
  });
});
