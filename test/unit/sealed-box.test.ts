import { expect } from 'chai';
import fc from 'fast-check';
import { sealedBox } from '../../src/domain/shared/sealed-box.js';

describe('sealed box', () => {
  const box = sealedBox('a-secret-of-the-portal-0123456789abcdef', 'pending-sign-in');
  const now = Date.parse('2026-12-07T10:00:00Z');

  it('opens what it sealed, until it expires', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 600_000 }), (value, lifetime) => {
        const sealed = box.seal(value, now + lifetime);
        expect(box.open(sealed, now)).to.deep.equal({ ok: true, value: JSON.parse(JSON.stringify(value)) });
        expect(box.open(sealed, now + lifetime)).to.include({ ok: false });
      }),
    );
  });

  it('refuses a value changed anywhere, sealed for another purpose or secret, truncated or not a string', () => {
    const sealed = box.seal({ providerId: 'cas', returnTo: '/account' }, now + 60_000);
    const bytes = Buffer.from(sealed, 'base64url');
    for (let index = 0; index < bytes.length; index += 1) {
      const changed = Buffer.from(bytes);
      changed[index] = (changed[index] as number) ^ 1;
      expect(box.open(changed.toString('base64url'), now), `byte ${index}`).to.include({ ok: false });
    }
    expect(sealedBox('a-secret-of-the-portal-0123456789abcdef', 'saml-result:cas').open(sealed, now)).to.include({ ok: false });
    expect(sealedBox('another-secret-of-the-portal-0123456789', 'pending-sign-in').open(sealed, now)).to.include({ ok: false });
    expect(box.open(sealed.slice(0, 30), now)).to.include({ ok: false });
    expect(box.open(undefined, now)).to.include({ ok: false });
    expect(box.open('x'.repeat(20_000), now)).to.include({ ok: false });
  });

  it('keeps a large list of groups short enough for a URL', () => {
    const groups = Array.from({ length: 300 }, (_, index) => `cn=group-${index},ou=groups,dc=example,dc=edu`);
    expect(box.seal({ groups }, now + 60_000).length).to.be.below(8_000);
  });
});
