import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { advancePasskeyCounter, findPasskey, insertPasskey, isNameTaken, listPasskeys, type StoredPasskey } from '../../db/second-factors/second-factor-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import { factorName, type CheckResult, type CheckSource, type EnrolResult, type Person, type SecondFactors } from './second-factors.js';

/** A challenge is good this long after its options were given; the browser's own timeout is shorter. */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;
const CEREMONY_TIMEOUT_MS = 2 * 60_000;

/** What the browser may say a passkey is reached through; anything else is dropped rather than stored. */
const TRANSPORTS: readonly AuthenticatorTransportFuture[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

/** An enrolment refused because the browser's answer did not prove a new credential for this site and challenge. */
export type PasskeyEnrolResult = EnrolResult | { outcome: 'refused' };

/** A challenge waiting in the session, and what it was given for. */
export interface WaitingChallenge {
  challenge: string;
  purpose: 'register' | 'authenticate';
  startedAt: number;
}

export interface PasskeysDependencies {
  db: Database;
  clock: Clock;
  factors: SecondFactors;
  /** PUBLIC_URL: its host is the relying party's id, its origin the only one answers may come from. */
  publicUrl: string;
  /** What the browser's prompt calls the portal. */
  rpName: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const transportsOf = (value: unknown) => (Array.isArray(value) ? TRANSPORTS.filter((transport) => value.includes(transport)) : []);
const descriptorOf = (passkey: StoredPasskey) => ({ id: passkey.credentialId, transports: transportsOf(passkey.transports) });

/**
 * Passkeys and security keys (WebAuthn) as second factors, beside TOTP apps (second-factors.ts), whose
 * throttle, audit and recovery codes they share. Checks are made as a second factor after the
 * password: the authenticator's presence is required, its user verification (PIN, fingerprint) only
 * preferred, so that a plain USB key without a PIN works too.
 */
export function createPasskeys({ db, clock, factors, publicUrl, rpName }: PasskeysDependencies) {
  const rpID = new URL(publicUrl).hostname;
  const origin = new URL(publicUrl).origin;

  /** The challenge a ceremony may be checked against: the right purpose, and not too old; null otherwise (refused). */
  const usable = (waiting: WaitingChallenge | undefined, purpose: WaitingChallenge['purpose']) =>
    waiting && waiting.purpose === purpose && clock.now().getTime() - waiting.startedAt < CHALLENGE_LIFETIME_MS ? waiting.challenge : null;

  /**
   * Whether `credential` (the browser's answer) is a passkey of the person signing `challenge` for this
   * site: its name when it is, null otherwise. Its signature counter must have moved on (a copied
   * authenticator replays old ones) and is recorded only if nobody recorded another meanwhile.
   */
  async function verifiedPasskey(person: Person, credential: unknown, challenge: string | null): Promise<string | null> {
    if (challenge === null || !isObject(credential) || typeof credential.id !== 'string' || credential.id.length > 1400) return null;
    const stored = await findPasskey(db.knex, person.id, credential.id);
    if (!stored) return null;
    let newCounter: number;
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: credential as unknown as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: { id: stored.credentialId, publicKey: isoBase64URL.toBuffer(stored.publicKey), counter: stored.signCount },
        requireUserVerification: false,
      });
      if (!verified) return null;
      newCounter = authenticationInfo.newCounter;
    } catch {
      // A malformed answer, another site's, another challenge, or a counter the library refuses.
      return null;
    }
    // The library refuses such a counter too (13.x); checked here as well so the rule does not hang on
    // its version: counters of 0 on both sides are authenticators that keep none (synced passkeys).
    if ((newCounter > 0 || stored.signCount > 0) && newCounter <= stored.signCount) return null;
    return (await advancePasskeyCounter(db.knex, stored.id, stored.signCount, newCounter, clock.now())) ? stored.name : null;
  }

  return {
    usable,

    /** What navigator.credentials.create() needs; the person's passkeys are excluded, so one device is not added twice. */
    async registrationOptions(person: Person): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const passkeys = await listPasskeys(db.knex, person.id);
      return generateRegistrationOptions({
        rpName,
        rpID,
        userID: new TextEncoder().encode(String(person.id)),
        userName: person.username,
        attestationType: 'none',
        excludeCredentials: passkeys.map(descriptorOf),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        timeout: CEREMONY_TIMEOUT_MS,
      });
    },

    /** Whether `typed` would be refused as the name of a new factor: asked before the ceremony too, so no credential is made for nothing. */
    async nameProblem(person: Person, typed: unknown): Promise<'invalid_name' | 'name_taken' | null> {
      const name = factorName(typed);
      if (!name) return 'invalid_name';
      return (await isNameTaken(db.knex, person.id, name)) ? 'name_taken' : null;
    },

    /** Adds the passkey the browser made for `challenge`, named by the person; the first factor comes with recovery codes. */
    async register(person: Person, { credential, name: typedName, challenge }: { credential: unknown; name: unknown; challenge: string | null }): Promise<PasskeyEnrolResult> {
      const name = factorName(typedName);
      if (!name) return { outcome: 'invalid_name' };
      if (await isNameTaken(db.knex, person.id, name)) return { outcome: 'name_taken' };
      const refused = async (reason: string): Promise<PasskeyEnrolResult> => {
        // Another site's answer or a replayed one is a phishing proxy or a bug: either is worth a line in the log.
        await factors.audit(person, 'second_factor.enrol_failure', person.username, { kind: 'passkey', reason });
        return { outcome: 'refused' };
      };
      if (challenge === null || !isObject(credential)) return refused('no_challenge_or_answer');
      let info;
      try {
        const result = await verifyRegistrationResponse({
          response: credential as unknown as RegistrationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
        });
        if (!result.verified) return refused('attestation');
        info = result.registrationInfo;
      } catch {
        return refused('verification');
      }
      const response = isObject(credential.response) ? credential.response : {};
      try {
        return await factors.enrolFactor(person, 'passkey', name, async (trx) => {
          if (await isNameTaken(trx, person.id, name)) return 'name_taken';
          const factorId = await insertPasskey(
            trx,
            {
              userId: person.id,
              name,
              credentialId: info.credential.id,
              publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
              signCount: info.credential.counter,
              transports: transportsOf(response.transports),
            },
            clock.now(),
          );
          return { factorId, added: true };
        });
      } catch (error) {
        // The same name added meanwhile, or a credential id already stored (someone else's, sent again).
        if (isUniqueViolation(error)) return (await isNameTaken(db.knex, person.id, name)) ? { outcome: 'name_taken' } : refused('credential_taken');
        throw error;
      }
    },

    /** What navigator.credentials.get() needs: the person's passkeys only. */
    async authenticationOptions(person: Person): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const passkeys = await listPasskeys(db.knex, person.id);
      return generateAuthenticationOptions({ rpID, allowCredentials: passkeys.map(descriptorOf), userVerification: 'preferred', timeout: CEREMONY_TIMEOUT_MS });
    },

    /** A passkey's answer as a second factor, under the throttle and audit that codes go through. */
    check(person: Person, credential: unknown, challenge: string | null, source: CheckSource): Promise<CheckResult> {
      return factors.throttled(person, source, 'passkey', () => verifiedPasskey(person, credential, challenge), { guessable: false });
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
