import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

/** What a browser gives navigator.credentials.create/get, as JSON (the options' binary fields in base64url). */
interface CreationOptions {
  challenge: string;
  rp: { id?: string };
}
interface RequestOptions {
  challenge: string;
  rpId?: string;
}

/** A ceremony made on another site (a phishing proxy) or for another RP id: the test's way to produce each refusal. */
export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
}

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_DATA = 0x40;

const sha256 = (data: Uint8Array | string): Uint8Array<ArrayBuffer> => new Uint8Array(createHash('sha256').update(data).digest());
const uint32 = (value: number) => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
};
const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.concat(parts));
const clientData = (type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string) =>
  new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

/**
 * A passkey authenticator in software: real attestation ('none') and assertion objects, signed with an
 * ES256 key of node:crypto, as a browser would hand them over (RegistrationResponseJSON,
 * AuthenticationResponseJSON). `counter` is its signature counter: each assertion adds one unless the
 * test sets it (a clone replays an old one); `origin` is the page it believes it is on.
 */
export class SoftwareAuthenticator {
  readonly credentialId = isoBase64URL.fromBuffer(new Uint8Array(randomBytes(32)));
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;

  constructor(public origin: string) {}

  /** The COSE form of the public key (kty EC2, alg ES256, crv P-256, x, y). */
  private coseKey(): Uint8Array {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const coordinate = (value: string | undefined) => new Uint8Array(Buffer.from(value ?? '', 'base64url'));
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, coordinate(jwk.x)],
        [-3, coordinate(jwk.y)],
      ]),
    );
  }

  private authenticatorData(rpId: string, withCredential: boolean): Uint8Array<ArrayBuffer> {
    const flags = FLAG_USER_PRESENT | FLAG_USER_VERIFIED | (withCredential ? FLAG_ATTESTED_DATA : 0);
    const head = concat(sha256(rpId), new Uint8Array([flags]), uint32(this.counter));
    if (!withCredential) return head;
    const id = isoBase64URL.toBuffer(this.credentialId);
    const length = new Uint8Array([id.length >> 8, id.length & 0xff]);
    // An AAGUID of zeros: what authenticators say under attestation 'none'.
    return concat(head, new Uint8Array(16), length, id, this.coseKey());
  }

  /** navigator.credentials.create(): a new credential for the options' RP, attested with format 'none'. */
  register(options: CreationOptions, overrides: CeremonyOverrides = {}) {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', this.authenticatorData(rpId, true)],
      ]),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: isoBase64URL.fromBuffer(clientData('webauthn.create', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin)),
        attestationObject: isoBase64URL.fromBuffer(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge, its counter moved on first (unless `keepCounter`). */
  assert(options: RequestOptions, overrides: CeremonyOverrides & { keepCounter?: boolean } = {}) {
    if (!overrides.keepCounter) this.counter += 1;
    const rpId = overrides.rpId ?? options.rpId ?? new URL(this.origin).hostname;
    const authenticatorData = this.authenticatorData(rpId, false);
    const clientDataJSON = clientData('webauthn.get', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin);
    // ECDSA over SHA-256 of authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded as authenticators send it.
    const signature = sign('sha256', concat(authenticatorData, sha256(clientDataJSON)), this.keys.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: isoBase64URL.fromBuffer(clientDataJSON),
        authenticatorData: isoBase64URL.fromBuffer(authenticatorData),
        signature: isoBase64URL.fromBuffer(new Uint8Array(signature)),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
