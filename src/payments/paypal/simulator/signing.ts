import { createHash, createPrivateKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';

const DAY_MS = 24 * 3600_000;

export interface WebhookSigner {
  /** The certificate PAYPAL-CERT-URL serves (PEM). */
  readonly certificatePem: string;
  /** The file name under /certs/, shaped like PayPal's CERT-… names. */
  readonly certificateName: string;
  /** Base64 SHA256withRSA signature of the message. */
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
}

/**
 * A fresh RSA 2048 key and self-signed certificate per simulator (keptWebhookSigner keeps one across starts). It is valid from a day before the
 * simulator's clock, so a verifier sharing that clock accepts it.
 */
export async function createWebhookSigner(now: Date): Promise<WebhookSigner> {
  return signerOf(await newPems(now));
}

/** What a signer is made of: its private key and its certificate, both PEM. */
interface SignerPems {
  private: string;
  cert: string;
}

const newPems = (now: Date): Promise<SignerPems> =>
  generate([{ name: 'commonName', value: 'PayPal simulator webhook signing' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - DAY_MS),
    notAfterDate: new Date(now.getTime() + 365 * DAY_MS),
  });

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[^-]+-----END \1-----/g;

/** The key and certificate a kept file holds, if they are a pair valid a day from `now`; null for anything else. */
function keptPems(text: string, now: Date): SignerPems | null {
  const blocks = new Map([...text.matchAll(PEM_BLOCK)].map(([block, label]) => [label, block]));
  const [key, cert] = [blocks.get('PRIVATE KEY'), blocks.get('CERTIFICATE')];
  if (!key || !cert) return null;
  try {
    const certificate = new X509Certificate(cert);
    const usable = certificate.checkPrivateKey(createPrivateKey(key)) && new Date(certificate.validTo).getTime() > now.getTime() + DAY_MS;
    return usable ? { private: key, cert } : null;
  } catch {
    return null;
  }
}

/**
 * A signer whose key and certificate are kept in `file` and reused at the next start: making an RSA
 * key takes a noticeable part of a second, which the demo paid at every start. Made anew when the file
 * is missing, unreadable, readable by others, corrupt or its certificate about to expire. The file is the key's only
 * protection, so it is written readable by its owner alone (0600), in a folder of its own (0700).
 */
export async function keptWebhookSigner(file: string, now: Date): Promise<WebhookSigner> {
  // A key others could read (a file restored from a backup as 0644) is not trusted: made anew, kept 0600.
  const kept = await stat(file).then(
    async (found) => ((found.mode & 0o077) === 0 ? keptPems(await readFile(file, 'utf8'), now) : null),
    () => null,
  );
  if (kept) return signerOf(kept);
  const pems = await newPems(now);
  // A folder the process may not write leaves the key unkept: the simulator still starts, as it used to.
  await keep(file, pems).catch(() => undefined);
  return signerOf(pems);
}

async function keep(file: string, pems: SignerPems): Promise<void> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  // A new file renamed over the old one: created with its mode, whatever the old one had, and never read half-written.
  const fresh = `${file}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(fresh, `${pems.private}\n${pems.cert}\n`, { mode: 0o600, flag: 'wx' });
  await rename(fresh, file);
}

function signerOf(pems: SignerPems): WebhookSigner {
  const privateKey: KeyObject = createPrivateKey(pems.private);
  const publicKey = new X509Certificate(pems.cert).publicKey;
  return {
    certificatePem: pems.cert,
    certificateName: `CERT-sim-${createHash('sha256').update(pems.cert).digest('hex').slice(0, 16)}`,
    sign: (message) => sign('sha256', Buffer.from(message), privateKey).toString('base64'),
    verify: (message, signature) => verify('sha256', Buffer.from(message), publicKey, Buffer.from(signature, 'base64')),
  };
}
