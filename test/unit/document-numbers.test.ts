import { expect } from 'chai';
import fc from 'fast-check';
import { ORDER_DOCUMENT_KINDS, formatDocumentNumber, parseDocumentNumber } from '../../src/domain/documents/documents.js';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';

describe('document numbers', () => {
  it('prints receipts and credit notes in their own series, six digits at least', () => {
    expect(formatDocumentNumber('receipt', 1)).to.equal('RC-000001');
    expect(formatDocumentNumber('credit_note', 42)).to.equal('CN-000042');
    expect(formatDocumentNumber('receipt', 1_234_567)).to.equal('RC-1234567');
  });

  it('reads back what it prints, and is never taken for an order number', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORDER_DOCUMENT_KINDS), fc.integer({ min: 1, max: 999_999_999 }), (kind, seriesNumber) => {
        const number = formatDocumentNumber(kind, seriesNumber);
        expect(parseDocumentNumber(number)).to.deep.equal({ kind, seriesNumber });
        expect(parseOrderNumber(number)).to.equal(null);
      }),
    );
  });

  it('refuses anything else', () => {
    for (const text of ['RC-000000', 'RC-1', 'rc-000001', 'XX-000001', 'RC-0000001', ' RC-000001', 'RC-000001.pdf', 'R-2026-000001', '', null, 17, 'RC-1234567890']) {
      expect(parseDocumentNumber(text), String(text)).to.equal(null);
    }
  });
});
