import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { keptWebhookSigner } from '../../src/payments/paypal/simulator/signing.js';

const DAY_MS = 86_400_000;
/** The permission bits of a file or folder (0o777 for anyone's everything). */
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe('PayPal simulator: the webhook signing key kept between starts (demo mode)', function () {
  // An RSA key is made in some of these tests.
  this.timeout(30_000);
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recharge-signing-'));
    file = path.join(dir, 'data', 'paypal-simulator', 'webhook-signing.pem');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('makes the key once and signs with the same one at the next start', async () => {
    const now = new Date();
    const first = await keptWebhookSigner(file, now);
    const second = await keptWebhookSigner(file, new Date(now.getTime() + 3 * DAY_MS));
    expect(second.certificatePem).to.equal(first.certificatePem);
    expect(second.certificateName).to.equal(first.certificateName);
    expect(first.verify('message', second.sign('message'))).to.equal(true);
  });

  it('keeps it readable by its owner only, in a folder only its owner may open', async () => {
    await keptWebhookSigner(file, new Date());
    expect(await modeOf(file)).to.equal(0o600);
    expect(await modeOf(path.dirname(file))).to.equal(0o700);
  });

  it('replaces a corrupt file with a new key that signs, kept as carefully', async () => {
    const first = await keptWebhookSigner(file, new Date());
    await writeFile(file, (await readFile(file, 'utf8')).replace(/[A-Za-z0-9+/]{64}\n/, `${'A'.repeat(64)}\n`), { mode: 0o644 });
    const replaced = await keptWebhookSigner(file, new Date());
    expect(replaced.certificatePem).not.to.equal(first.certificatePem);
    expect(replaced.verify('message', replaced.sign('message'))).to.equal(true);
    expect((await keptWebhookSigner(file, new Date())).certificatePem).to.equal(replaced.certificatePem);
    expect(await modeOf(file)).to.equal(0o600);
  });

  it('does not trust a key others could read (a file restored as 0644): makes a new one, kept 0600', async () => {
    const first = await keptWebhookSigner(file, new Date());
    await chmod(file, 0o644);
    const replaced = await keptWebhookSigner(file, new Date());
    expect(replaced.certificatePem).not.to.equal(first.certificatePem);
    expect(await modeOf(file)).to.equal(0o600);
  });

  it('makes a new key when the certificate kept is about to expire', async () => {
    const now = new Date();
    const first = await keptWebhookSigner(file, now);
    const validTo = new Date(new X509Certificate(first.certificatePem).validTo);
    const later = await keptWebhookSigner(file, new Date(validTo.getTime() - DAY_MS / 2));
    expect(later.certificatePem).not.to.equal(first.certificatePem);
  });
});
