import { expect } from 'chai';
import { mapUsername } from '../../../src/cups-backend/usernames.js';

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
});
