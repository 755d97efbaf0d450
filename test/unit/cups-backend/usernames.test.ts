import { expect } from 'chai';
import { isPortalUsername, mapUsername } from '../../../src/cups-backend/usernames.js';

describe('CUPS backend: user names', () => {
  it('keeps the name as is without rules', () => {
    expect(mapUsername('Alice@EXAMPLE.org', [])).to.equal('Alice@EXAMPLE.org');
  });

  it('strips a Kerberos or e-mail domain and a Windows domain', () => {
    expect(mapUsername('alice@example.org', ['strip-domain'])).to.equal('alice');
    expect(mapUsername('EXAMPLE\\alice', ['strip-domain'])).to.equal('alice');
    expect(mapUsername('EXAMPLE\\Alice@example.org', ['strip-domain'])).to.equal('Alice');
  });

  it('applies the rules in order', () => {
    expect(mapUsername('EXAMPLE\\Alice', ['strip-domain', 'lower-case'])).to.equal('alice');
    expect(mapUsername('Alice@Example.org', ['lower-case'])).to.equal('alice@example.org');
  });

  it('tells names the portal may have from names no account has', () => {
    for (const name of ['alice', 'Alice', 'j.doe+print@example.org', '0x', ' bob ']) expect(isPortalUsername(name), name).to.equal(true);
    for (const name of ['..', '.', '', '-x', 'a/b', 'a b', 'x'.repeat(101), 'é']) expect(isPortalUsername(name), name).to.equal(false);
    expect(isPortalUsername(mapUsername('@evil.org', ['strip-domain']))).to.equal(false);
  });
});
