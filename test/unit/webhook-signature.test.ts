import { expect } from 'chai';
import { signWebhook } from '../../src/print-systems/webhook/webhook-signature.js';

const SECRET = 'whsec-test-0123456789abcdef0123456789';
const BODY = '{"id":"recharge-transfer-42","type":"credit.transferred"}';

describe('webhook signature', () => {
  // The expected values come from `printf '%s' '<timestamp>.<body>' | openssl dgst -sha256 -hmac '<secret>'`,
  // the computation docs/credit-webhook.md asks receivers to make.
  it('is v1= and the hex HMAC-SHA256 of the timestamp, a dot and the body, keyed by the secret', () => {
    expect(signWebhook(SECRET, 1795428125, BODY)).to.equal('v1=f99f73a0e47f5b6ebc81a13a4d2ee7e4cfbd115d800189e17da53d5b94182ee5');
  });

  it('changes with the timestamp, so an old request cannot be sent again with a new time', () => {
    expect(signWebhook(SECRET, 1795428126, BODY)).to.equal('v1=e22c2e0dd4a4869fb7ac8e26a994fc30a63501e02d9742321d2b09947b82443f');
  });

  it('signs the body\'s UTF-8 bytes', () => {
    expect(signWebhook(SECRET, 1795428125, '{"username":"zoé"}')).to.equal('v1=6d7b7e547534c9107190a98796973689e4097c1a6a0d0e29d6ae11479b518c92');
  });
});
