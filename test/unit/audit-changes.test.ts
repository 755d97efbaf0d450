import { expect } from 'chai';
import fc from 'fast-check';
import { auditChanges, compactValue } from '../../src/domain/audit/audit-changes.js';

describe('audit log: before → after', () => {
  it('shows only the keys that changed, added or removed', () => {
    expect(auditChanges({ price: 1000, units: 10, enabled: true, old: 'x' }, { price: 1200, units: 10, enabled: true, added: [1, 2] })).to.deep.equal([
      { key: 'price', before: '1000', after: '1200' },
      { key: 'old', before: 'x', after: undefined },
      { key: 'added', before: undefined, after: '[1,2]' },
    ]);
  });

  it('compares nested values by content, not by key order', () => {
    expect(auditChanges({ tier: { a: 1, b: 2 } }, { tier: { b: 2, a: 1 } })).to.deep.equal([]);
    expect(auditChanges({ tier: { a: 1 } }, { tier: { a: 2 } })).to.deep.equal([{ key: 'tier', before: '{"a":1}', after: '{"a":2}' }]);
  });

  it('shows whole values when they are not both objects', () => {
    expect(auditChanges(null, { role: 'admin' })).to.deep.equal([{ key: null, before: undefined, after: '{"role":"admin"}' }]);
    expect(auditChanges('user', 'admin')).to.deep.equal([{ key: null, before: 'user', after: 'admin' }]);
    expect(auditChanges(null, null)).to.deep.equal([]);
    expect(auditChanges(undefined, null)).to.deep.equal([]);
    expect(auditChanges(3, 3)).to.deep.equal([]);
  });

  it('does not mistake inherited names for keys', () => {
    expect(auditChanges({}, { constructor: 'x', toString: 1 })).to.deep.equal([
      { key: 'constructor', before: undefined, after: 'x' },
      { key: 'toString', before: undefined, after: '1' },
    ]);
  });

  it('cuts long values with an ellipsis', () => {
    expect(compactValue('a'.repeat(200))).to.equal(`${'a'.repeat(79)}…`);
    expect(compactValue('é'.repeat(80))).to.equal('é'.repeat(80));
    expect(compactValue({ text: 'b'.repeat(100) }, 10)).to.equal('{"text":"…');
  });

  it('lists exactly the keys whose values differ, each shown within the length limit', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), (before, after) => {
        const changes = auditChanges(before, after, 20);
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
        const unchanged = (key: string) => Object.hasOwn(before, key) && Object.hasOwn(after, key) && sameContent(before[key], after[key]);
        expect(changes.map((change) => change.key)).to.deep.equal(keys.filter((key) => !unchanged(key)));
        for (const change of changes) for (const side of [change.before, change.after]) if (side !== undefined) expect([...side].length).to.be.at.most(20);
      }),
    );
  });
});

/** Equal JSON up to key order. */
function sameContent(a: unknown, b: unknown): boolean {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(sorted) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, sorted(v)])) : value;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
