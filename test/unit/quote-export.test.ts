import { expect } from 'chai';
import fc from 'fast-check';
import { quoteExportColumns, quoteExportRecord, type ExportedQuote, type QuoteExportColumn } from '../../src/domain/reports/quote-export.js';
import { MAX_QUANTITY, MAX_UNIT_PRICE_CENTS } from '../../src/domain/quotes/quote-totals.js';

const frenchFormat = { decimalSeparator: ',' as const, timeZone: 'Europe/Paris', statusLabel: (status: string) => `<${status}>`, paidWithLabel: (paidWith: string) => `<${paidWith}>` };

function quote(overrides: Partial<ExportedQuote> = {}): ExportedQuote {
  return {
    number: 'D-2026-000001',
    status: 'sent',
    customerName: 'Élise Bernard',
    customerEmail: 'elise.bernard@example.org',
    postcode: '75005',
    createdAt: new Date('2026-11-23T10:00:00Z'),
    sentAt: new Date('2026-11-23T10:05:00Z'),
    paidAt: null,
    currency: 'EUR',
    lines: [
      { description: 'Impression thèse', quantity: 3, unitPriceCents: 1250, vatRateBasisPoints: 2000 },
      { description: 'Reliure thermocollée', quantity: 3, unitPriceCents: 333, vatRateBasisPoints: 550 },
    ],
    refundedCents: 0,
    paidOrder: null,
    paidInUnits: null,
    ...overrides,
  };
}

/** The cells of a record by column name (a rate's columns as `netAt:550`). */
const cellsOf = (columns: QuoteExportColumn[], record: string[]) =>
  Object.fromEntries(columns.map((column, index) => ['rateBasisPoints' in column ? `${column.key}:${column.rateBasisPoints}` : column.key, record[index]]));
const cents = (text: string) => Math.round(Number(text.replace(',', '.')) * 100);

describe('quotes export rows', () => {
  it('gives each VAT rate a net and a VAT column, once, highest rate first, between the totals and the payment', () => {
    const keys = quoteExportColumns([550, 2000, 550, 1000, 0]).map((column) => ('rateBasisPoints' in column ? `${column.key}:${column.rateBasisPoints}` : column.key));
    expect(keys).to.deep.equal([
      ...['number', 'status', 'customerName', 'customerEmail', 'postcode', 'createdAt', 'sentAt', 'paidAt', 'currency', 'total', 'net', 'vat'],
      ...['netAt:2000', 'vatAt:2000', 'netAt:1000', 'vatAt:1000', 'netAt:550', 'vatAt:550', 'netAt:0', 'vatAt:0'],
      ...['refunded', 'paidWith', 'order', 'paypalOrder', 'paypalCapture', 'units', 'ledgerTransaction'],
    ]);
  });

  it('writes a quote not paid yet with its totals, leaving a rate it has no line at, the refund and the payment empty', () => {
    const columns = quoteExportColumns([2000, 1000, 550]);
    expect(cellsOf(columns, quoteExportRecord(quote(), columns, frenchFormat))).to.deep.equal({
      number: 'D-2026-000001',
      status: '<sent>',
      customerName: 'Élise Bernard',
      customerEmail: 'elise.bernard@example.org',
      postcode: '75005',
      createdAt: '2026-11-23 11:00:00',
      sentAt: '2026-11-23 11:05:00',
      paidAt: '',
      currency: 'EUR',
      total: '47,49',
      net: '40,72',
      vat: '6,77',
      'netAt:2000': '31,25',
      'vatAt:2000': '6,25',
      'netAt:1000': '',
      'vatAt:1000': '',
      'netAt:550': '9,47',
      'vatAt:550': '0,52',
      refunded: '',
      paidWith: '',
      order: '',
      paypalOrder: '',
      paypalCapture: '',
      units: '',
      ledgerTransaction: '',
    });
  });

  it('names the PayPal order and capture, or the units and their transaction, that paid it', () => {
    const columns = quoteExportColumns([2000, 550]);
    const paidAt = new Date('2026-11-24T10:00:00Z');
    const paypal = quote({ status: 'partially_refunded', paidAt, refundedCents: 1000, paidOrder: { id: 7, createdAt: paidAt, paypalOrderId: 'PAYPAL-ORDER', paypalCaptureId: 'PAYPAL-CAPTURE' } });
    expect(cellsOf(columns, quoteExportRecord(paypal, columns, { ...frenchFormat, decimalSeparator: '.' }))).to.include({
      paidAt: '2026-11-24 11:00:00',
      refunded: '10.00',
      paidWith: '<paypal>',
      order: 'R-2026-000007',
      paypalOrder: 'PAYPAL-ORDER',
      paypalCapture: 'PAYPAL-CAPTURE',
      units: '',
      ledgerTransaction: '',
    });
    const units = quote({ status: 'paid', paidAt, paidInUnits: { transactionId: 42, units: 4000 } });
    expect(cellsOf(columns, quoteExportRecord(units, columns, frenchFormat))).to.include({ refunded: '0,00', paidWith: '<units>', order: '', paypalOrder: '', units: '40,00', ledgerTransaction: '42' });
  });

  it('keeps what staff typed as text when a spreadsheet would run it as a formula', () => {
    const columns = quoteExportColumns([]);
    const typed = quote({ customerName: '=HYPERLINK("http://evil.example")', customerEmail: '+cmd@example.org', postcode: '-1', lines: [] });
    expect(cellsOf(columns, quoteExportRecord(typed, columns, frenchFormat))).to.include({ customerName: `'=HYPERLINK("http://evil.example")`, customerEmail: "'+cmd@example.org", postcode: "'-1", total: '0,00' });
  });

  it('writes net and VAT per rate that add up to the net and VAT of the quote, and those to its total', () => {
    const line = fc.record({
      description: fc.constant('ligne'),
      quantity: fc.integer({ min: 1, max: MAX_QUANTITY / 100 }),
      unitPriceCents: fc.integer({ min: 0, max: MAX_UNIT_PRICE_CENTS / 100 }),
      vatRateBasisPoints: fc.constantFrom(0, 210, 550, 1000, 2000),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const columns = quoteExportColumns(lines.map((one) => one.vatRateBasisPoints));
        const cells = cellsOf(columns, quoteExportRecord(quote({ lines }), columns, frenchFormat));
        const sum = (key: string) => columns.filter((column) => column.key === key).reduce((total, column) => total + cents(cells[`${key}:${(column as { rateBasisPoints: number }).rateBasisPoints}`]!), 0);
        expect(sum('netAt')).to.equal(cents(cells.net!));
        expect(sum('vatAt')).to.equal(cents(cells.vat!));
        expect(cents(cells.net!) + cents(cells.vat!)).to.equal(cents(cells.total!));
        expect(cents(cells.total!)).to.equal(lines.reduce((total, one) => total + one.quantity * one.unitPriceCents, 0));
      }),
    );
  });
});
