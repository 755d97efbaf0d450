import { createHash } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { REDEMPTION_LIMITS, redemptionKeys, redemptionWaitMs } from '../../src/domain/vouchers/redemption-limits.js';
import { batchReport, checkBatchRequest, voucherRefusal, VoucherBatchError, type VoucherBatch } from '../../src/domain/vouchers/voucher-batches.js';
import { formatVoucherCode, generateVoucherCode, normaliseVoucherCode, VOUCHER_ALPHABET, voucherCodeHash, type CanonicalCode } from '../../src/domain/vouchers/voucher-codes.js';

const HOUR_MS = 3_600_000;
const canonicalCode = fc.array(fc.constantFrom(...VOUCHER_ALPHABET), { minLength: 16, maxLength: 16 }).map((characters) => characters.join('') as CanonicalCode);

describe('top-up codes: the codes', () => {
  it('are 16 characters of an alphabet of 32 without look-alikes: 80 bits', () => {
    expect(VOUCHER_ALPHABET).to.have.length(32);
    expect(new Set(VOUCHER_ALPHABET).size).to.equal(32);
    for (const lookAlike of ['0', 'O', '1', 'I']) expect(VOUCHER_ALPHABET).not.to.include(lookAlike);
    expect(Math.log2(VOUCHER_ALPHABET.length) * 16).to.equal(80);
  });

  it('draw every character of the alphabet from the random bytes, without bias (each byte picks one of 32 by its low 5 bits)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const code = generateVoucherCode(() => bytes);
        expect(code).to.equal([...bytes].map((byte) => VOUCHER_ALPHABET[byte % 32]).join(''));
      }),
    );
    // Each of the 256 byte values picks a character, 8 values each.
    const counts = new Map<string, number>();
    for (let byte = 0; byte < 256; byte += 1) {
      const character = generateVoucherCode(() => new Uint8Array(16).fill(byte))[0]!;
      counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    expect([...counts.values()]).to.deep.equal(new Array(32).fill(8));
  });

  it('are printed in 4 groups of 4 and read back as they were', () => {
    fc.assert(
      fc.property(canonicalCode, (code) => {
        const printed = formatVoucherCode(code);
        expect(printed).to.match(/^(\w{4}-){3}\w{4}$/);
        expect(normaliseVoucherCode(printed)).to.equal(code);
      }),
    );
  });

  it('are read forgiving case, spaces, dashes of any kind and full-width forms', () => {
    const separator = fc.constantFrom('', ' ', '-', '  ', '\t', '\u00a0', '–', '—', '‑', '_', '.');
    fc.assert(
      fc.property(canonicalCode, fc.array(separator, { minLength: 17, maxLength: 17 }), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), (code, separators, lower) => {
        const typed = separators[0] + [...code].map((character, index) => (lower[index] ? character.toLowerCase() : character) + separators[index + 1]).join('');
        expect(normaliseVoucherCode(typed)).to.equal(code);
      }),
    );
    expect(normaliseVoucherCode('ＡＢＣＤ－ＥＦＧＨ－ＪＫＬＭ－ＮＰＱＲ')).to.equal('ABCDEFGHJKLMNPQR');
  });

  it('refuse anything that is not 16 characters of the alphabet, without throwing', () => {
    for (const typed of ['', 'ABCD-EFGH-JKLM-NPQ', 'ABCD-EFGH-JKLM-NPQRS', 'ABCD-EFGH-JKLM-NPQ0', 'OBCD-EFGH-JKLM-NPQR', 'ABCD-EFGH-JKLM-NPQ1', 'ABCD/EFGH/JKLM/NPQR', 'A'.repeat(65), null, 42, ['ABCD-EFGH-JKLM-NPQR']]) {
      expect(normaliseVoucherCode(typed), String(typed)).to.equal(null);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (typed) => {
        const read = normaliseVoucherCode(typed);
        if (read !== null) expect(read).to.match(new RegExp(`^[${VOUCHER_ALPHABET}]{16}$`));
      }),
    );
  });

  it('are stored as the SHA-256 of the canonical form, whatever was typed', () => {
    const code = normaliseVoucherCode('abcd efgh jklm npqr')!;
    expect(voucherCodeHash(code)).to.equal(createHash('sha256').update('ABCDEFGHJKLMNPQR').digest('hex'));
  });
});

describe('top-up codes: batches', () => {
  const today = '2026-11-23';
  const valid = { name: ' Rentrée ', count: '250', value: '12,5', expiresOn: '2027-06-30', format: 'pdf' };

  it('reads the generation form: name trimmed, count, value in hundredths, last day, format', () => {
    expect(checkBatchRequest(valid, today)).to.deep.equal({ name: 'Rentrée', count: 250, value: 1250, expiresOn: '2027-06-30', format: 'pdf' });
    expect(checkBatchRequest({ ...valid, count: '10000', value: '10000', expiresOn: today, format: 'csv' }, today)).to.include({ count: 10_000, value: 1_000_000, expiresOn: today });
  });

  it('reports every broken rule at once', () => {
    const problemsOf = (input: Record<string, unknown>) => {
      try {
        checkBatchRequest(input, today);
        return {};
      } catch (error) {
        if (!(error instanceof VoucherBatchError)) throw error;
        return error.problems;
      }
    };
    expect(problemsOf({})).to.deep.equal({ name: 'required', count: 'required', value: 'required', expiresOn: 'required', format: 'required' });
    expect(problemsOf({ name: 'x'.repeat(101), count: '10001', value: '10000,01', expiresOn: '2026-11-22', format: 'zip' })).to.deep.equal({
      name: 'too_long',
      count: 'out_of_range',
      value: 'out_of_range',
      expiresOn: 'in_the_past',
      format: 'required',
    });
    expect(problemsOf({ ...valid, name: 'a\u202eb', count: '2.5', value: '-3', expiresOn: '2026-02-30' })).to.deep.equal({ name: 'invalid', count: 'invalid', value: 'invalid', expiresOn: 'invalid' });
    expect(problemsOf({ ...valid, count: '0', value: '0' })).to.deep.equal({ count: 'out_of_range', value: 'out_of_range' });
    expect(problemsOf({ ...valid, expiresOn: '2031-11-30' })).to.deep.equal({ expiresOn: 'too_far' });
  });

  const batch = (overrides: Partial<VoucherBatch> = {}): VoucherBatch => ({
    id: 1,
    name: 'Lot',
    count: 100,
    value: 500,
    expiresOn: '2026-12-31',
    createdBy: 'gestion',
    createdAt: new Date('2026-11-01T10:00:00Z'),
    voidedAt: null,
    voidedBy: null,
    redeemedCount: 0,
    redeemedUnits: 0,
    ...overrides,
  });

  it('reports a batch from its counters: every code is redeemed, still redeemable, expired or voided', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(), fc.boolean(), fc.constantFrom('2026-12-30', '2026-12-31', '2027-01-01'), (count, redeemedSeed, voided, day) => {
        const redeemedCount = redeemedSeed % (count + 1);
        const report = batchReport(batch({ count, redeemedCount, redeemedUnits: redeemedCount * 500, voidedAt: voided ? new Date() : null }), day);
        expect(report.redeemed + report.outstanding + report.expired + report.voided).to.equal(count);
        expect(report.unitsCredited).to.equal(redeemedCount * 500);
        expect(report.status).to.equal(voided ? 'voided' : day > '2026-12-31' ? 'expired' : 'active');
        expect([report.outstanding > 0, report.expired > 0, report.voided > 0].filter(Boolean).length).to.be.at.most(1);
      }),
    );
  });

  it('says why a code cannot be redeemed: used (by whom) before voided, voided before expired; valid through its last day', () => {
    const at = (today: string, userId = 7) => ({ today, userId });
    expect(voucherRefusal({ redeemedBy: null, replacedAt: null }, batch(), at('2026-12-31'))).to.equal(null);
    expect(voucherRefusal({ redeemedBy: null, replacedAt: null }, batch(), at('2027-01-01'))).to.equal('expired');
    expect(voucherRefusal({ redeemedBy: null, replacedAt: null }, batch({ voidedAt: new Date() }), at('2027-01-01'))).to.equal('voided');
    expect(voucherRefusal({ redeemedBy: 7, replacedAt: null }, batch({ voidedAt: new Date() }), at('2027-01-01'))).to.equal('used_by_you');
    expect(voucherRefusal({ redeemedBy: 8, replacedAt: null }, batch(), at('2026-12-01'))).to.equal('used');
    expect(voucherRefusal({ redeemedBy: null, replacedAt: new Date() }, batch(), at('2026-12-01'))).to.equal('voided');
    expect(voucherRefusal({ redeemedBy: 7, replacedAt: null }, batch(), at('2026-12-01'))).to.equal('used_by_you');
  });
});

describe('top-up codes: limits on wrong codes', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');
  const times = (count: number, every: number) => Array.from({ length: count }, (_, index) => now - index * every);

  it('lets a person fail 10 times an hour and 20 a day, an address 30 times an hour', () => {
    expect(redemptionWaitMs({ person: times(9, 60_000), address: [] }, now)).to.equal(0);
    expect(redemptionWaitMs({ person: times(10, 60_000), address: [] }, now)).to.equal(HOUR_MS - 9 * 60_000);
    expect(redemptionWaitMs({ person: times(19, 2 * HOUR_MS), address: [] }, now)).to.equal(0);
    expect(redemptionWaitMs({ person: times(20, HOUR_MS), address: [] }, now)).to.equal(24 * HOUR_MS - 19 * HOUR_MS);
    expect(redemptionWaitMs({ person: [], address: times(29, 1000) }, now)).to.equal(0);
    expect(redemptionWaitMs({ person: [], address: times(30, 1000) }, now)).to.equal(HOUR_MS - 29_000);
  });

  it('never waits longer than the longest window, nor lets a full window through', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 * 24 * HOUR_MS }), { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 2 * HOUR_MS }), { maxLength: 40 }), (personAges, addressAges) => {
        const person = personAges.map((age) => now - age);
        const address = addressAges.map((age) => now - age);
        const wait = redemptionWaitMs({ person, address }, now);
        expect(wait).to.be.within(0, 24 * HOUR_MS);
        const full = REDEMPTION_LIMITS.perPerson.some(({ maxFailures, windowMs }) => person.filter((at) => at > now - windowMs).length >= maxFailures) || address.filter((at) => at > now - HOUR_MS).length >= 30;
        expect(wait > 0).to.equal(full);
      }),
    );
  });

  it('counts a person by id and an address by its SHA-256 only', () => {
    const keys = redemptionKeys(42, '198.51.100.7');
    expect(keys.person).to.equal('person:42');
    expect(keys.address).to.equal(`address:${createHash('sha256').update('198.51.100.7').digest('hex')}`);
    expect(keys.address).not.to.include('198.51');
  });
});
