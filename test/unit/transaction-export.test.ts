import { expect } from 'chai';
import { decimalText } from '../../src/domain/shared/decimal.js';
import fc from 'fast-check';
import {
  csvConventionsFor,
  dateTimeText,
  EXPORT_COLUMNS,
  exportKind,
  exportRecord,
  guardFormula,
  type ExportedTransaction,
} from '../../src/domain/reports/transaction-export.js';

const ORDER = {
  id: 7,
  createdAt: new Date('2026-11-23T09:00:00Z'),
  currency: 'EUR',
  priceCents: 2000,
  netCents: 1667,
  vatCents: 333,
  vatRateBasisPoints: 2000,
  paypalOrderId: 'PAYPAL-ORDER',
  paypalCaptureId: 'PAYPAL-CAPTURE',
  ledgerTransactionId: 10,
};

function transaction(overrides: Partial<ExportedTransaction>): ExportedTransaction {
  return {
    transactionId: 10,
    kind: 'top_up',
    idempotencyKey: 'paypal-capture:PAYPAL-CAPTURE',
    description: 'R-2026-000007',
    createdAt: new Date('2026-11-23T10:00:05Z'),
    units: 2200,
    username: 'camille',
    displayName: 'Camille Martin',
    authorUsername: null,
    counterpart: 'system:top-ups',
    order: null,
    refund: null,
    ...overrides,
  };
}

const frenchFormat = { decimalSeparator: ',' as const, timeZone: 'Europe/Paris', kindLabel: (kind: string) => `<${kind}>` };
const row = (record: string[]) => Object.fromEntries(EXPORT_COLUMNS.map((column, index) => [column, record[index]]));

describe('transactions export rows', () => {
  it('names what each posting is for an accountant', () => {
    const kind = (overrides: Partial<ExportedTransaction>) => exportKind(transaction(overrides));
    expect(kind({})).to.equal('top_up');
    expect(kind({ kind: 'adjustment' })).to.equal('adjustment');
    expect(kind({ kind: 'usage', counterpart: 'system:usage:print' })).to.equal('usage_print');
    expect(kind({ kind: 'usage', counterpart: 'system:usage:fax' })).to.equal('usage_fax');
    expect(kind({ kind: 'usage', counterpart: 'system:usage:teleport' })).to.equal('usage');
    expect(kind({ kind: 'usage', counterpart: null })).to.equal('usage');
    expect(kind({ kind: 'reversal', idempotencyKey: 'paypal-refund:R1', refund: { refundId: 'R1', currency: 'EUR', amountCents: 1, netCents: 1, vatCents: 0 } })).to.equal('refund');
    expect(kind({ kind: 'reversal', idempotencyKey: 'paypal-refund-rest:CAP' })).to.equal('refund');
    expect(kind({ kind: 'reversal', idempotencyKey: 'paypal-reversal:CAP' })).to.equal('chargeback');
    expect(kind({ kind: 'reversal', idempotencyKey: 'admin-reverse:12' })).to.equal('reversal');
  });

  it('writes a top-up with what the buyer paid, its VAT and PayPal ids', () => {
    expect(row(exportRecord(transaction({ order: ORDER }), frenchFormat))).to.deep.equal({
      dateTime: '2026-11-23 11:00:05',
      transaction: '10',
      kind: '<top_up>',
      username: 'camille',
      name: 'Camille Martin',
      units: '22,00',
      order: 'R-2026-000007',
      amount: '20,00',
      net: '16,67',
      vat: '3,33',
      vatRate: '20,00',
      currency: 'EUR',
      paypalOrder: 'PAYPAL-ORDER',
      paypalCapture: 'PAYPAL-CAPTURE',
      paypalRefund: '',
      description: 'R-2026-000007',
      author: '',
    });
  });

  it('writes a refund as negative money from the refund, not the order', () => {
    const refund = transaction({
      transactionId: 11,
      kind: 'reversal',
      idempotencyKey: 'paypal-refund:REFUND-1',
      units: -550,
      order: ORDER,
      refund: { refundId: 'REFUND-1', currency: 'EUR', amountCents: 500, netCents: 417, vatCents: 83 },
    });
    const cells = row(exportRecord(refund, { ...frenchFormat, decimalSeparator: '.' }));
    expect(cells).to.include({ kind: '<refund>', units: '-5.50', amount: '-5.00', net: '-4.17', vat: '-0.83', vatRate: '20.00', currency: 'EUR', paypalRefund: 'REFUND-1', order: 'R-2026-000007' });
  });

  it('leaves money empty for postings that moved none (chargebacks, rounding remainders, adjustments, usage)', () => {
    const chargeback = row(exportRecord(transaction({ transactionId: 12, kind: 'reversal', idempotencyKey: 'paypal-reversal:PAYPAL-CAPTURE', units: -1650, order: ORDER }), frenchFormat));
    expect(chargeback).to.include({ kind: '<chargeback>', order: 'R-2026-000007', amount: '', net: '', vat: '', vatRate: '', currency: '', paypalCapture: 'PAYPAL-CAPTURE' });
    const adjustment = row(exportRecord(transaction({ kind: 'adjustment', units: 300, description: 'Geste', authorUsername: 'gestion', idempotencyKey: 'x' }), frenchFormat));
    expect(adjustment).to.include({ kind: '<adjustment>', units: '3,00', order: '', amount: '', paypalOrder: '', author: 'gestion', description: 'Geste' });
  });

  it('keeps texts a spreadsheet would run as formulas as texts, and numbers as numbers', () => {
    for (const dangerous of ['=1+1', '+33 6', '-2+3', '@SUM(A1)', '\tTab', '\rReturn']) expect(guardFormula(dangerous)).to.equal(`'${dangerous}`);
    for (const safe of ['Camille', '', ' =not first', "'quoted", '12']) expect(guardFormula(safe)).to.equal(safe);
    const record = row(
      exportRecord(transaction({ kind: 'adjustment', units: -300, username: '@admin', displayName: '=HYPERLINK("http://evil.example")', description: '+cmd|calc', authorUsername: '-x' }), frenchFormat),
    );
    expect(record).to.include({ units: '-3,00', username: "'@admin", name: `'=HYPERLINK("http://evil.example")`, description: "'+cmd|calc", author: "'-x" });
    fc.assert(
      fc.property(fc.string(), (text) => {
        const guarded = guardFormula(text);
        expect(/^[=+\-@\t\r]/.test(guarded)).to.equal(false);
        expect(guarded.endsWith(text)).to.equal(true);
      }),
    );
  });

  it('writes amounts as plain decimals a spreadsheet reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.constantFrom(',' as const, '.' as const), (hundredths, separator) => {
        const text = decimalText(hundredths, separator);
        expect(text).to.match(separator === ',' ? /^-?\d+,\d{2}$/ : /^-?\d+\.\d{2}$/);
        expect(Math.round(Number(text.replace(',', '.')) * 100)).to.equal(hundredths);
      }),
    );
    expect(decimalText(-5, ',')).to.equal('-0,05');
    expect(decimalText(123456789, '.')).to.equal('1234567.89');
  });

  it('uses ; and decimal commas in French, commas and decimal points in English', () => {
    expect(csvConventionsFor('fr')).to.deep.equal({ delimiter: ';', decimalSeparator: ',' });
    expect(csvConventionsFor('en')).to.deep.equal({ delimiter: ',', decimalSeparator: '.' });
  });

  it('writes times on the portal clock, summer and winter', () => {
    expect(dateTimeText(new Date('2026-07-14T21:59:59Z'), 'Europe/Paris')).to.equal('2026-07-14 23:59:59');
    expect(dateTimeText(new Date('2026-11-30T23:30:00Z'), 'Europe/Paris')).to.equal('2026-12-01 00:30:00');
    expect(dateTimeText(new Date('2026-03-29T01:00:00Z'), 'Europe/Paris')).to.equal('2026-03-29 03:00:00');
    expect(dateTimeText(new Date('2026-11-23T10:00:00Z'), 'UTC')).to.equal('2026-11-23 10:00:00');
  });
});
