import { expect } from 'chai';
import fc from 'fast-check';
import { deviceTokens } from '../../src/domain/people/device-token.js';

describe('device tokens', () => {
  const devices = deviceTokens('a-session-secret-of-at-least-32-characters');

  it('gives the device id back for the username the token was made for, and nothing for another username or secret', () => {
    const token = devices.issue('camille');
    const id = token.split('.')[0];
    expect(devices.deviceOf(token, 'camille')).to.equal(id).and.have.length(22);
    expect(devices.deviceOf(token, 'camille2')).to.equal(undefined);
    expect(deviceTokens('another-session-secret-of-32-characters!').deviceOf(token, 'camille')).to.equal(undefined);
    expect(devices.issue('camille')).not.to.equal(token);
  });

  it('recognizes nothing that it did not make: absent, truncated, extended or arbitrary tokens', () => {
    const token = devices.issue('camille');
    for (const altered of [undefined, '', token.slice(0, -2), `${token}.x`, `x${token}`, token.split('.')[0]]) expect(devices.deviceOf(altered, 'camille'), altered).to.equal(undefined);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 40 }), (anything, username) => {
        expect(devices.deviceOf(anything, username)).to.equal(undefined);
      }),
    );
  });
});
