import { optionalDate, toDate, toSafeInteger, type Queryable } from '../database.js';

export type FactorKind = 'passkey' | 'totp';

/** A factor as its owner's page lists it. */
export interface FactorSummary {
  id: number;
  kind: FactorKind;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface StoredPasskey extends FactorSummary {
  kind: 'passkey';
  /** base64url, as WebAuthn names it. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  signCount: number;
  transports: string[];
}

export interface StoredTotp extends FactorSummary {
  kind: 'totp';
  /** Sealed with the SecretBox (domain/second-factors/secret-box.ts). */
  sealedSecret: string;
  lastStep: number;
}

type Row = Record<string, unknown>;

const summaryOf = (row: Row): FactorSummary => ({
  id: toSafeInteger(row.id),
  kind: String(row.kind) as FactorKind,
  name: String(row.name),
  createdAt: toDate(row.created_at),
  lastUsedAt: optionalDate(row.last_used_at),
});

const passkeyOf = (row: Row): StoredPasskey => ({
  ...summaryOf(row),
  kind: 'passkey',
  credentialId: String(row.credential_id),
  publicKey: String(row.public_key),
  signCount: toSafeInteger(row.sign_count),
  transports: row.transports ? String(row.transports).split(',') : [],
});

const totpOf = (row: Row): StoredTotp => ({ ...summaryOf(row), kind: 'totp', sealedSecret: String(row.totp_secret), lastStep: toSafeInteger(row.totp_last_step) });

export async function listFactors(db: Queryable, userId: number): Promise<FactorSummary[]> {
  const rows: Row[] = await db('second_factors').where('user_id', userId).orderBy('id').select('id', 'kind', 'name', 'created_at', 'last_used_at');
  return rows.map(summaryOf);
}

export async function countFactors(db: Queryable, userId: number): Promise<number> {
  const row = await db('second_factors').where('user_id', userId).count({ count: '*' }).first();
  return toSafeInteger(row?.count ?? 0);
}

export async function listPasskeys(db: Queryable, userId: number): Promise<StoredPasskey[]> {
  const rows: Row[] = await db('second_factors').where({ user_id: userId, kind: 'passkey' }).orderBy('id');
  return rows.map(passkeyOf);
}

export async function findPasskey(db: Queryable, userId: number, credentialId: string): Promise<StoredPasskey | null> {
  const row: Row | undefined = await db('second_factors').where({ user_id: userId, kind: 'passkey', credential_id: credentialId }).first();
  return row ? passkeyOf(row) : null;
}

export async function listTotps(db: Queryable, userId: number): Promise<StoredTotp[]> {
  const rows: Row[] = await db('second_factors').where({ user_id: userId, kind: 'totp' }).orderBy('id');
  return rows.map(totpOf);
}

export const isNameTaken = async (db: Queryable, userId: number, name: string) => (await db('second_factors').where({ user_id: userId, name }).first('id')) !== undefined;

export async function insertPasskey(
  db: Queryable,
  factor: { userId: number; name: string; credentialId: string; publicKey: string; signCount: number; transports: string[] },
  now: Date,
): Promise<number> {
  const [row] = await db('second_factors')
    .insert({
      user_id: factor.userId,
      kind: 'passkey',
      name: factor.name,
      credential_id: factor.credentialId,
      public_key: factor.publicKey,
      sign_count: factor.signCount,
      transports: factor.transports.join(',') || null,
      created_at: now.toISOString(),
    })
    .returning('id');
  return toSafeInteger((row as Row).id);
}

export async function insertTotp(db: Queryable, factor: { userId: number; name: string; sealedSecret: string; lastStep: number }, now: Date): Promise<number> {
  const [row] = await db('second_factors')
    .insert({ user_id: factor.userId, kind: 'totp', name: factor.name, totp_secret: factor.sealedSecret, totp_last_step: factor.lastStep, created_at: now.toISOString() })
    .returning('id');
  return toSafeInteger((row as Row).id);
}

/**
 * Records a TOTP code's step as used, only if it is later than every step used before: false when
 * the code (or an earlier one) was already accepted, so a code seen over a shoulder cannot be replayed
 * within its window, even by two requests at once.
 */
export async function claimTotpStep(db: Queryable, factorId: number, step: number, now: Date): Promise<boolean> {
  const updated = await db('second_factors').where('id', factorId).where('totp_last_step', '<', step).update({ totp_last_step: step, last_used_at: now.toISOString() });
  return updated === 1;
}

/**
 * Records a passkey's new signature counter, only if it still holds the one the check was made
 * against: false when another sign-in with the same counter got there first (a cloned authenticator).
 */
export async function advancePasskeyCounter(db: Queryable, factorId: number, checked: number, next: number, now: Date): Promise<boolean> {
  const updated = await db('second_factors').where({ id: factorId, sign_count: checked }).update({ sign_count: next, last_used_at: now.toISOString() });
  return updated === 1;
}

export async function deleteFactor(db: Queryable, userId: number, factorId: number): Promise<FactorSummary | null> {
  const row: Row | undefined = await db('second_factors').where({ id: factorId, user_id: userId }).first('id', 'kind', 'name', 'created_at', 'last_used_at');
  if (!row) return null;
  await db('second_factors').where('id', factorId).del();
  return summaryOf(row);
}

/** Every factor and recovery code of a person: a reset by an admin or the command line. */
export async function deleteEveryFactor(db: Queryable, userId: number): Promise<{ factors: number; recoveryCodes: number }> {
  const factors = await db('second_factors').where('user_id', userId).del();
  const recoveryCodes = await db('recovery_codes').where('user_id', userId).del();
  return { factors, recoveryCodes };
}

export async function replaceRecoveryCodes(db: Queryable, userId: number, hashes: readonly string[], now: Date): Promise<void> {
  await db('recovery_codes').where('user_id', userId).del();
  await db('recovery_codes').insert(hashes.map((hash) => ({ user_id: userId, code_hash: hash, created_at: now.toISOString() })));
}

/** Marks an unused code used; false when it is unknown or already used (two requests at once: one wins). */
export async function useRecoveryCode(db: Queryable, userId: number, hash: string, now: Date): Promise<boolean> {
  const updated = await db('recovery_codes').where({ user_id: userId, code_hash: hash }).whereNull('used_at').update({ used_at: now.toISOString() });
  return updated === 1;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: number): Promise<number> {
  const row = await db('recovery_codes').where('user_id', userId).whereNull('used_at').count({ count: '*' }).first();
  return toSafeInteger(row?.count ?? 0);
}

/** The kinds of factor a person has, for the check page to offer. */
export async function listFactorKinds(db: Queryable, userId: number): Promise<Set<FactorKind>> {
  const rows: Row[] = await db('second_factors').where('user_id', userId).distinct('kind');
  return new Set(rows.map((row) => String(row.kind) as FactorKind));
}

/** The person's TOTP app stored with this very sealed secret (the same enrolment form sent again), or null. */
export async function findTotpBySealedSecret(db: Queryable, userId: number, sealedSecret: string): Promise<number | null> {
  const row: Row | undefined = await db('second_factors').where({ user_id: userId, kind: 'totp', totp_secret: sealedSecret }).first('id');
  return row ? toSafeInteger(row.id) : null;
}
