import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Encrypts TOTP secrets at rest: AES-256-GCM, a fresh nonce each time, the version first so a new key scheme can come later. */
export interface SecretBox {
  seal(plain: string): string;
  /** The plain text, or null when it was not sealed with this key (or was altered). */
  open(sealed: string): string | null;
  /**
   * A keyed digest (HMAC-SHA-256, hex) for what is kept only to be recognised (recovery codes): a copy
   * of the database alone cannot try every code against it.
   */
  digest(text: string): string;
}

const VERSION = 'v1';

/** Outside production without SESSION_SECRET (a random one each start): apps added in the demo still work after a restart. */
const DEVELOPMENT_MATERIAL = 'recharge development only: set SECOND_FACTOR_KEY or SESSION_SECRET';

/**
 * The box for SECOND_FACTOR_KEY, or a key derived from the session secret (HKDF with its own label,
 * so that neither key reveals the other) when no key of its own is set; production requires one of them.
 */
export function secretBox({ key, sessionSecret, sessionSecretGenerated }: { key?: string; sessionSecret: string; sessionSecretGenerated: boolean }): SecretBox {
  const material = key ?? (sessionSecretGenerated ? DEVELOPMENT_MATERIAL : sessionSecret);
  const aesKey = Buffer.from(hkdfSync('sha256', material, 'recharge', 'second-factor secrets', 32));
  const digestKey = Buffer.from(hkdfSync('sha256', material, 'recharge', 'recovery codes', 32));
  return {
    seal(plain) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', aesKey, nonce);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, nonce, tag, body] = sealed.split('.');
      if (version !== VERSION || !nonce || !tag || body === undefined) return null;
      try {
        // The whole 16-byte tag: Node would accept one cut to 4 bytes, which a forger guesses far sooner.
        const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(nonce, 'base64url'), { authTagLength: 16 });
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
    digest: (text) => createHmac('sha256', digestKey).update(text, 'utf8').digest('hex'),
  };
}
