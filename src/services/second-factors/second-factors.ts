import { createHash } from 'node:crypto';
import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database, Queryable } from '../../db/database.js';
import { endEverySession, lockUserRow } from '../../db/people/user-repository.js';
import { countSecondFactorAttempt, forgiveSecondFactorAttempt, purgeSecondFactorAttempts } from '../../db/second-factors/attempt-repository.js';
import {
  claimTotpStep,
  countFactors,
  countUnusedRecoveryCodes,
  deleteEveryFactor,
  deleteFactor,
  findTotpBySealedSecret,
  insertTotp,
  isNameTaken,
  listFactors,
  listTotps,
  replaceRecoveryCodes,
  useRecoveryCode,
  type FactorSummary,
} from '../../db/second-factors/second-factor-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { loginSource } from '../../domain/people/login-throttle.js';
import type { User } from '../../domain/people/users.js';
import { FACTOR_NAME_MAX_LENGTH, mayEnrolSecondFactor, type SecondFactorPolicy } from '../../domain/second-factors/policy.js';
import { newRecoveryCode, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from '../../domain/second-factors/recovery-codes.js';
import type { SecretBox } from '../../domain/second-factors/secret-box.js';
import { newTotpSecret, totpStepOf, totpUri } from '../../domain/second-factors/totp.js';
import type { Clock } from '../../domain/time/clock.js';

export type Person = Pick<User, 'id' | 'username' | 'role'>;

/** Where a check comes from: its address, and the signed-in session of a step-up (none for a sign-in's second step). */
export interface CheckSource {
  ip: string;
  session?: string;
}

/** What a check of a code came to: accepted (by which factor), wrong, or not looked at (too many wrong ones lately). */
export type CheckResult = { outcome: 'accepted'; factor: string } | { outcome: 'wrong' } | { outcome: 'throttled'; retryAfterSeconds: number };

export type EnrolResult = { outcome: 'enrolled'; factorId: number; recoveryCodes: string[] | null } | { outcome: 'wrong_code' } | { outcome: 'name_taken' } | { outcome: 'invalid_name' };

export interface SecondFactorsDependencies {
  db: Database;
  clock: Clock;
  box: SecretBox;
  policy: SecondFactorPolicy;
  /** The issuer TOTP apps list the portal under (the seller's or brand name). */
  issuer: string;
  /** Wrong codes a person may enter within `lockMs` before checks wait. */
  limits: { maxFailures: number; lockMs: number };
}

/** Failed checks are counted per person, and ten times as many per address (one address guessing for several people). */
const ADDRESS_FACTOR = 10;

/** A factor's name as typed: trimmed, within its length, and printable. */
export function factorName(typed: unknown): string | null {
  if (typeof typed !== 'string') return null;
  const name = typed.trim().replace(/\s+/g, ' ');
  return name.length >= 1 && name.length <= FACTOR_NAME_MAX_LENGTH ? name : null;
}

/** How long the next check must wait, given the failures of each key within the lock period. */
export function checkWaitMs(failures: { person: readonly number[]; address: readonly number[] }, limits: { maxFailures: number; lockMs: number }, now: number): number {
  const waitFor = (times: readonly number[], max: number) => {
    if (times.length < max) return 0;
    const newestFirst = [...times].sort((left, right) => right - left);
    return Math.max(0, (newestFirst[max - 1] ?? now) + limits.lockMs - now);
  };
  return Math.max(waitFor(failures.person, limits.maxFailures), waitFor(failures.address, limits.maxFailures * ADDRESS_FACTOR));
}

/**
 * Second factors of admin and IT accounts: TOTP apps and recovery codes here, passkeys beside it
 * (passkeys.ts), sharing its throttle and audit. Every enrolment, removal, success and failure is
 * audited under the person's own name (an admin's reset under the admin's).
 */
export function createSecondFactors({ db, clock, box, policy, issuer, limits }: SecondFactorsDependencies) {
  const audit = (actor: AuditActor, action: string, target: string, after: unknown) => recordAudit(db.knex, { actor, action, target, before: null, after }, clock.now());
  let purgeDueAt = 0;

  /**
   * Runs one check under the throttle: counted as a failure first (parallel guesses cannot outrun the
   * limit), forgiven when `check` accepts it. Every outcome but a throttled one is audited. A sign-in's
   * second step counts against the person, a step-up against its own session: someone who knows the
   * password and sends wrong codes delays the person's next sign-in, never what they do while signed
   * in. A passkey's answer cannot be guessed, so it never waits (its failures still count and are
   * audited): the person's passkey still signs them in while someone else exhausts the codes.
   */
  async function throttled(person: Person, source: CheckSource, method: string, check: () => Promise<string | null>, { guessable = true } = {}): Promise<CheckResult> {
    const now = clock.now().getTime();
    if (now >= purgeDueAt) {
      purgeDueAt = now + limits.lockMs;
      // Housekeeping: its failure must not fail this check.
      await purgeSecondFactorAttempts(db.knex, now - limits.lockMs).catch(() => undefined);
    }
    const keys = {
      person: source.session === undefined ? `person:${person.id}` : `session:${createHash('sha256').update(source.session).digest('hex').slice(0, 32)}`,
      address: `address:${loginSource(source.ip)}`,
    };
    const { waitMs, attemptIds } = await countSecondFactorAttempt(db, [keys.person, keys.address], { now, since: now - limits.lockMs }, (failures) =>
      guessable ? checkWaitMs({ person: failures.get(keys.person) ?? [], address: failures.get(keys.address) ?? [] }, limits, now) : 0,
    );
    if (waitMs > 0) return { outcome: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };
    const factor = await check();
    if (factor === null) {
      await audit(person, 'second_factor.failure', person.username, { method });
      return { outcome: 'wrong' };
    }
    await forgiveSecondFactorAttempt(db.knex, attemptIds);
    await audit(person, 'second_factor.success', person.username, { method, factor });
    return { outcome: 'accepted', factor };
  }

  /** Ten new recovery codes, replacing any earlier ones; shown once, kept as keyed digests. */
  async function issueRecoveryCodesIn(trx: Queryable, person: Person): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await replaceRecoveryCodes(trx, person.id, codes.map(box.digest), clock.now());
    await recordAudit(trx, { actor: person, action: 'second_factor.recovery_codes', target: person.username, before: null, after: { count: codes.length } }, clock.now());
    return codes;
  }

  /**
   * Adds a factor in one transaction under the person's row lock (as removals take it): `insert`
   * checks the name and stores the factor, then it is audited and the first factor's recovery codes
   * are issued, so that a form sent twice at once, or two devices added together, still leave one set
   * of codes. An `insert` that finds this very factor already stored (the same form sent again) says
   * so, and nothing more is done: the codes went with the first answer, and the security page offers
   * new ones.
   */
  async function enrolFactor(person: Person, kind: string, name: string, insert: (trx: Queryable) => Promise<{ factorId: number; added: boolean } | 'name_taken'>): Promise<EnrolResult> {
    return db.transaction(async (trx): Promise<EnrolResult> => {
      await lockUserRow(trx, person.id);
      const inserted = await insert(trx);
      if (inserted === 'name_taken') return { outcome: 'name_taken' };
      const { factorId, added } = inserted;
      if (added) await recordAudit(trx, { actor: person, action: 'second_factor.enrol', target: person.username, before: null, after: { kind, name } }, clock.now());
      const first = added && (await countFactors(trx, person.id)) === 1 && (await countUnusedRecoveryCodes(trx, person.id)) === 0;
      return { outcome: 'enrolled', factorId, recoveryCodes: first ? await issueRecoveryCodesIn(trx, person) : null };
    });
  }

  return {
    throttled,
    enrolFactor,
    issueRecoveryCodes: (person: Person) => db.transaction((trx) => issueRecoveryCodesIn(trx, person)),
    audit,
    mayEnrol: (person: Pick<User, 'role'>) => mayEnrolSecondFactor(person.role),
    /** Seals what must wait in a session a moment (a first passkey's recovery codes until their page is opened). */
    sealText: (text: string) => box.seal(text),
    openText: (sealed: string) => box.open(sealed),

    async overview(person: Person): Promise<{ factors: FactorSummary[]; recoveryCodesLeft: number }> {
      const [factors, recoveryCodesLeft] = await Promise.all([listFactors(db.knex, person.id), countUnusedRecoveryCodes(db.knex, person.id)]);
      return { factors, recoveryCodesLeft };
    },

    factorCount: (userId: number) => countFactors(db.knex, userId),

    /** A new TOTP secret, sealed for the session until the person confirms it with a code, and the address the QR code shows. */
    beginTotp(person: Person): { sealedSecret: string; secret: string; uri: string } {
      const secret = newTotpSecret();
      return { sealedSecret: box.seal(secret), secret, uri: totpUri({ secret, issuer, label: person.username }) };
    },

    /** The secret waiting in a session, opened again to show the same QR code. */
    reopenTotp(person: Person, sealedSecret: string): { sealedSecret: string; secret: string; uri: string } {
      const secret = box.open(sealedSecret);
      if (secret === null) return this.beginTotp(person);
      return { sealedSecret, secret, uri: totpUri({ secret, issuer, label: person.username }) };
    },

    /** The app is added once it shows a right code for the secret; that code's step counts as used. */
    async confirmTotp(person: Person, { sealedSecret, name: typedName, code }: { sealedSecret: string; name: unknown; code: string }): Promise<EnrolResult> {
      const name = factorName(typedName);
      if (!name) return { outcome: 'invalid_name' };
      const secret = box.open(sealedSecret);
      const step = secret === null ? null : totpStepOf(secret, code, clock.now().getTime());
      if (step === null) return { outcome: 'wrong_code' };
      return enrolFactor(person, 'totp', name, async (trx) => {
        const stored = await findTotpBySealedSecret(trx, person.id, sealedSecret);
        if (stored !== null) return { factorId: stored, added: false };
        if (await isNameTaken(trx, person.id, name)) return 'name_taken';
        return { factorId: await insertTotp(trx, { userId: person.id, name, sealedSecret, lastStep: step }, clock.now()), added: true };
      });
    },

    /** A code of any of the person's TOTP apps, each step accepted once. */
    checkTotp(person: Person, code: string, source: CheckSource): Promise<CheckResult> {
      return throttled(person, source, 'totp', async () => {
        const now = clock.now();
        for (const factor of await listTotps(db.knex, person.id)) {
          const secret = box.open(factor.sealedSecret);
          const step = secret === null ? null : totpStepOf(secret, code, now.getTime());
          if (step !== null && (await claimTotpStep(db.knex, factor.id, step, now))) return factor.name;
        }
        return null;
      });
    },

    checkRecoveryCode(person: Person, typed: string, source: CheckSource): Promise<CheckResult> {
      return throttled(person, source, 'recovery_code', async () => {
        const code = normaliseRecoveryCode(typed);
        return code !== null && (await useRecoveryCode(db.knex, person.id, box.digest(code), clock.now())) ? 'recovery_code' : null;
      });
    },

    /**
     * Removes one of the person's factors. The last one is kept while the policy requires one of
     * them (they would be sent to enrol again at once); with it go the recovery codes.
     */
    async removeFactor(person: Person, factorId: number): Promise<'removed' | 'not_found' | 'last_required'> {
      // Under the person's row lock: removals sent at once are counted one after the other.
      const removed = await db.transaction(async (trx) => {
        await lockUserRow(trx, person.id);
        const listed = await listFactors(trx, person.id);
        const count = listed.length;
        const own = listed.some((factor) => factor.id === factorId);
        if (own && count === 1 && policy.required && mayEnrolSecondFactor(person.role)) return 'last_required' as const;
        const factor = await deleteFactor(trx, person.id, factorId);
        if (!factor) return null;
        if (count === 1) await trx('recovery_codes').where('user_id', person.id).del();
        await recordAudit(trx, { actor: person, action: 'second_factor.remove', target: person.username, before: null, after: { kind: factor.kind, name: factor.name } }, clock.now());
        return 'removed' as const;
      });
      return removed ?? 'not_found';
    },

    /** An admin's or the command line's reset: every factor and code goes, and every session of the person ends. */
    async reset(actor: AuditActor, person: Pick<User, 'id' | 'username'>): Promise<{ factors: number; recoveryCodes: number }> {
      // Audited in the same transaction: a reset is never done without its entry.
      return db.transaction(async (trx) => {
        const removed = await deleteEveryFactor(trx, person.id);
        await endEverySession(trx, person.id, clock.now());
        await recordAudit(trx, { actor, action: 'second_factor.reset', target: person.username, before: null, after: removed }, clock.now());
        return removed;
      });
    },
  };
}

export type SecondFactors = ReturnType<typeof createSecondFactors>;
