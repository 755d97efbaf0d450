import { expect } from 'chai';
import fc from 'fast-check';
import { Secret, TOTP } from 'otpauth';
import { pageAccess, stepUpDue, type SecondFactorPolicy } from '../../src/domain/second-factors/policy.js';
import { newRecoveryCode, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from '../../src/domain/second-factors/recovery-codes.js';
import { PRODUCTION_ENV } from '../helpers/config-problems.js';
import { secretBox } from '../../src/domain/second-factors/secret-box.js';
import { newTotpSecret, totpStepOf, totpUri } from '../../src/domain/second-factors/totp.js';
import { checkWaitMs, factorName } from '../../src/services/second-factors/second-factors.js';
import type { Role } from '../../src/domain/people/users.js';
import { loadConfig } from '../../src/config.js';

const ROLES: Role[] = ['user', 'admin', 'it'];
const STEP_UP_MS = 5 * 60_000;
const policyOf = (required: boolean): SecondFactorPolicy => ({ required, stepUpMs: STEP_UP_MS });
const codeAt = (secret: string, at: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: at });

describe('second factors: the pure rules', () => {
  describe('policy: pageAccess', () => {
    it('lets everyone through when the policy is off, whatever the factors and the session', () => {
      fc.assert(
        fc.property(fc.constantFrom(...ROLES), fc.nat(5), fc.option(fc.nat(), { nil: undefined }), (role, factorCount, secondFactorAt) => {
          expect(pageAccess(policyOf(false), { role, factorCount }, secondFactorAt === undefined ? {} : { secondFactorAt })).to.equal('allowed');
        }),
      );
    });

    it('with the policy on: a plain user passes, admin and IT must enrol (no factor) or check (a factor) until the session checked one', () => {
      const policy = policyOf(true);
      expect(pageAccess(policy, { role: 'user', factorCount: 0 }, {})).to.equal('allowed');
      for (const role of ['admin', 'it'] as const) {
        expect(pageAccess(policy, { role, factorCount: 0 }, {}), role).to.equal('enrol');
        expect(pageAccess(policy, { role, factorCount: 2 }, {}), role).to.equal('check');
        expect(pageAccess(policy, { role, factorCount: 1 }, { secondFactorAt: 0 }), `${role} checked at epoch 0`).to.equal('allowed');
        expect(pageAccess(policy, { role, factorCount: 1 }, { secondFactorAt: Date.parse('2026-11-23T10:00:00Z') }), role).to.equal('allowed');
      }
    });
  });

  describe('policy: stepUpDue', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');

    it('is never due for someone with no factor while the policy is off', () => {
      fc.assert(
        fc.property(fc.constantFrom(...ROLES), fc.option(fc.integer({ min: 0, max: now }), { nil: undefined }), (role, at) => {
          expect(stepUpDue(policyOf(false), { role, factorCount: 0 }, at === undefined ? {} : { secondFactorAt: at }, now)).to.equal(false);
        }),
      );
    });

    it('is due for an admin or IT person of a required policy, even without a factor, and for anyone with a factor, when never checked', () => {
      expect(stepUpDue(policyOf(true), { role: 'admin', factorCount: 0 }, {}, now)).to.equal(true);
      expect(stepUpDue(policyOf(true), { role: 'it', factorCount: 0 }, {}, now)).to.equal(true);
      expect(stepUpDue(policyOf(true), { role: 'user', factorCount: 0 }, {}, now)).to.equal(false);
      expect(stepUpDue(policyOf(false), { role: 'admin', factorCount: 1 }, {}, now)).to.equal(true);
    });

    it('is due exactly when the last check is older than the window', () => {
      fc.assert(
        fc.property(fc.boolean(), fc.constantFrom<Role>('admin', 'it'), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 * STEP_UP_MS }), (required, role, factorCount, age) => {
          expect(stepUpDue(policyOf(required), { role, factorCount }, { secondFactorAt: now - age }, now)).to.equal(age > STEP_UP_MS);
        }),
      );
      expect(stepUpDue(policyOf(true), { role: 'admin', factorCount: 1 }, { secondFactorAt: now - STEP_UP_MS }, now), 'at the edge').to.equal(false);
      expect(stepUpDue(policyOf(true), { role: 'admin', factorCount: 1 }, { secondFactorAt: now - STEP_UP_MS - 1 }, now), 'one ms later').to.equal(true);
    });
  });

  describe('recovery codes', () => {
    const codeArbitrary = fc.constant(null).map(() => newRecoveryCode());
    const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const issuedForm = fc.array(fc.constantFrom(...CROCKFORD), { minLength: 10, maxLength: 10 }).map((characters) => `${characters.slice(0, 5).join('')}-${characters.slice(5).join('')}`);

    it('issues ten distinct-looking codes XXXXX-XXXXX of Crockford base32', () => {
      expect(RECOVERY_CODE_COUNT).to.equal(10);
      const codes = Array.from({ length: 200 }, newRecoveryCode);
      for (const code of codes) expect(code).to.match(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}$/);
      expect(new Set(codes).size).to.equal(codes.length);
    });

    it('normalises a code back to its issued form, whatever the case, spaces and dashes typed', () => {
      fc.assert(
        fc.property(
          fc.oneof(codeArbitrary, issuedForm),
          fc.boolean(),
          fc.constantFrom('', ' ', '-', '  ', ' - '),
          fc.constantFrom('', ' ', '\t'),
          (code, lower, separator, padding) => {
            const plain = code.replace('-', '');
            const typed = `${padding}${lower ? plain.slice(0, 5).toLowerCase() : plain.slice(0, 5)}${separator}${lower ? plain.slice(5).toLowerCase() : plain.slice(5)}${padding}`;
            expect(normaliseRecoveryCode(typed)).to.equal(code);
            expect(normaliseRecoveryCode(code)).to.equal(code);
          },
        ),
      );
    });

    it('reads O as 0 and I or L as 1, as copied from paper', () => {
      expect(normaliseRecoveryCode('oo1il-LIoo0')).to.equal('00111-11000');
    });

    it('refuses codes of the wrong length or with characters outside the alphabet', () => {
      for (const typed of ['', 'ABCDE', 'ABCDE-FGHJ', 'ABCDE-FGHJKM', 'ABCDE-FGHJU', 'ABCDE_FGHJK', 'ABCDÉ-FGHJK', '12345-6789!']) {
        expect(normaliseRecoveryCode(typed), typed).to.equal(null);
      }
    });

    it('keeps a keyed digest of 64 hex characters, never the code, and another key gives another digest', () => {
      const box = secretBox({ sessionSecret: 'one session secret, at least 32 characters long', sessionSecretGenerated: false });
      const other = secretBox({ sessionSecret: 'another session secret, at least 32 characters', sessionSecretGenerated: false });
      fc.assert(
        fc.property(issuedForm, (code) => {
          const digest = box.digest(code);
          expect(digest).to.match(/^[0-9a-f]{64}$/);
          expect(digest).to.not.include(code.toLowerCase());
          expect(digest).to.equal(box.digest(code));
          expect(other.digest(code)).to.not.equal(digest);
        }),
      );
    });
  });

  describe('secret box', () => {
    const box = secretBox({ sessionSecret: 'a-session-secret-0123456789abcdef0123456789', sessionSecretGenerated: false });

    it('opens what it sealed, each seal different (a fresh nonce)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (plain) => {
          const first = box.seal(plain);
          const second = box.seal(plain);
          expect(first).to.not.equal(second);
          expect(first.startsWith('v1.')).to.equal(true);
          expect(box.open(first)).to.equal(plain);
          expect(box.open(second)).to.equal(plain);
        }),
      );
    });

    it('never shows the plain secret in the sealed text', () => {
      const secret = newTotpSecret();
      expect(box.seal(secret)).to.not.include(secret);
    });

    it('refuses what another key sealed: SECOND_FACTOR_KEY and the session secret are two keys', () => {
      const own = secretBox({ key: 'k'.repeat(32), sessionSecret: 'a-session-secret-0123456789abcdef0123456789', sessionSecretGenerated: false });
      const other = secretBox({ key: 'l'.repeat(32), sessionSecret: 'a-session-secret-0123456789abcdef0123456789', sessionSecretGenerated: false });
      const sealed = own.seal('JBSWY3DPEHPK3PXP');
      expect(other.open(sealed)).to.equal(null);
      expect(box.open(sealed)).to.equal(null);
      expect(own.open(box.seal('JBSWY3DPEHPK3PXP'))).to.equal(null);
    });

    it('never opens an altered seal to another text: null, or (base64url decoding being lenient) the same text', () => {
      const plain = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      const sealed = box.seal(plain);
      fc.assert(
        fc.property(fc.nat(sealed.length - 1), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), (at, character) => {
          const altered = `${sealed.slice(0, at)}${character}${sealed.slice(at + 1)}`;
          const opened = box.open(altered);
          expect(opened === null || opened === plain, altered).to.equal(true);
        }),
      );
    });

    it('outside production without a session secret, seals with a fixed development key: it survives a restart, and opens nothing a real secret sealed', () => {
      const before = secretBox({ sessionSecret: 'random-at-start-1', sessionSecretGenerated: true });
      const after = secretBox({ sessionSecret: 'random-at-start-2', sessionSecretGenerated: true });
      expect(after.open(before.seal('JBSWY3DPEHPK3PXP'))).to.equal('JBSWY3DPEHPK3PXP');
      expect(after.open(box.seal('JBSWY3DPEHPK3PXP'))).to.equal(null);
      expect(box.open(after.seal('JBSWY3DPEHPK3PXP'))).to.equal(null);
      // SECOND_FACTOR_KEY wins over both.
      const keyed = secretBox({ key: 'k'.repeat(32), sessionSecret: 'random-at-start-1', sessionSecretGenerated: true });
      expect(keyed.open(before.seal('x'))).to.equal(null);
    });

    it('refuses a body changed by one byte, a wrong version, and pieces missing', () => {
      const sealed = box.seal('JBSWY3DPEHPK3PXP');
      const [version, nonce, tag, body] = sealed.split('.') as [string, string, string, string];
      const flipped = Buffer.from(body, 'base64url');
      flipped[0] = flipped[0]! ^ 1;
      expect(box.open([version, nonce, tag, flipped.toString('base64url')].join('.'))).to.equal(null);
      expect(box.open(['v2', nonce, tag, body].join('.'))).to.equal(null);
      expect(box.open([version, nonce, tag].join('.'))).to.equal(null);
      expect(box.open([version, '', tag, body].join('.'))).to.equal(null);
      expect(box.open('')).to.equal(null);
      expect(box.open('not sealed at all')).to.equal(null);
    });

    // AES-GCM in Node accepts tags of 4 to 16 bytes unless the length is fixed, so a
    // seal whose tag was cut to its first 4 bytes still opens; forging one takes 2^32 tries, not 2^128.
    it('refuses a seal whose authentication tag was truncated (only full 16-byte tags)', () => {
      const sealed = box.seal('JBSWY3DPEHPK3PXP');
      const [version, nonce, tag, body] = sealed.split('.') as [string, string, string, string];
      for (const length of [4, 8, 12]) {
        const truncated = Buffer.from(tag, 'base64url').subarray(0, length).toString('base64url');
        expect(box.open([version, nonce, truncated, body].join('.')), `a ${length}-byte tag`).to.equal(null);
      }
    });
  });

  describe('checkWaitMs', () => {
    const limits = { maxFailures: 5, lockMs: 15 * 60_000 };
    const now = Date.parse('2026-11-23T10:00:00Z');

    it('does not wait below the limit of the person, nor below ten times it for the address', () => {
      expect(checkWaitMs({ person: [], address: [] }, limits, now)).to.equal(0);
      expect(checkWaitMs({ person: [now - 4, now - 3, now - 2, now - 1], address: Array.from({ length: 49 }, (_, index) => now - index) }, limits, now)).to.equal(0);
    });

    it('waits, at the limit, until the oldest failure that keeps the person at it leaves the lock period', () => {
      const person = [now - 60_000, now - 50_000, now - 40_000, now - 30_000, now - 20_000];
      expect(checkWaitMs({ person, address: person }, limits, now)).to.equal(limits.lockMs - 60_000);
      // Failures in any order: the same answer.
      expect(checkWaitMs({ person: [...person].reverse(), address: [] }, limits, now)).to.equal(limits.lockMs - 60_000);
      // Beyond the limit, the fifth newest counts.
      expect(checkWaitMs({ person: [now - 120_000, ...person], address: [] }, limits, now)).to.equal(limits.lockMs - 60_000);
    });

    it('waits for the address once ten times the limit fail from it, whoever they were for', () => {
      const address = Array.from({ length: 50 }, (_, index) => now - 1000 * (index + 1));
      expect(checkWaitMs({ person: [], address }, limits, now)).to.equal(limits.lockMs - 50_000);
    });

    it('never waits more than the lock period, nor less than nothing, for failures within it', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: now - limits.lockMs + 1, max: now }), { maxLength: 12 }), fc.integer({ min: 1, max: 8 }), (person, maxFailures) => {
          const wait = checkWaitMs({ person, address: [] }, { maxFailures, lockMs: limits.lockMs }, now);
          expect(wait).to.be.within(0, limits.lockMs);
          expect(wait > 0).to.equal(person.length >= maxFailures);
        }),
      );
    });
  });

  describe('TOTP', () => {
    const secret = newTotpSecret();
    const now = Date.parse('2026-11-23T10:00:10Z');
    const step = Math.floor(now / 30_000);

    it('draws a 160-bit base32 secret, and an otpauth address with the issuer and the person', () => {
      expect(secret).to.match(/^[A-Z2-7]{32}$/);
      const uri = totpUri({ secret, issuer: 'Reprographie', label: 'gestion' });
      expect(uri).to.match(/^otpauth:\/\/totp\//);
      expect(uri).to.include(`secret=${secret}`).and.include('issuer=Reprographie').and.include('gestion').and.include('digits=6').and.include('period=30');
    });

    it('gives the step of a code of this step, the one before and the one after; none further', () => {
      expect(totpStepOf(secret, codeAt(secret, now), now)).to.equal(step);
      expect(totpStepOf(secret, codeAt(secret, now - 30_000), now)).to.equal(step - 1);
      expect(totpStepOf(secret, codeAt(secret, now + 30_000), now)).to.equal(step + 1);
      const far = [codeAt(secret, now - 60_000), codeAt(secret, now + 60_000)].filter((code) => ![-1, 0, 1].some((delta) => codeAt(secret, now + delta * 30_000) === code));
      for (const code of far) expect(totpStepOf(secret, code, now), code).to.equal(null);
    });

    it('reads a code typed with spaces, refuses anything but six digits', () => {
      const code = codeAt(secret, now);
      expect(totpStepOf(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now)).to.equal(step);
      expect(totpStepOf(secret, ` ${code} `, now)).to.equal(step);
      for (const typed of ['', '12345', '1234567', 'abcdef', `${code}0`, `+${code.slice(1)}`]) expect(totpStepOf(secret, typed, now), typed).to.equal(null);
    });

    it('the step of an accepted code is always within one of the step of now', () => {
      fc.assert(
        fc.property(fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2040-01-01') }), fc.integer({ min: -1, max: 1 }), (at, delta) => {
          const found = totpStepOf(secret, codeAt(secret, at + delta * 30_000), at);
          expect(found).to.not.equal(null);
          expect(Math.abs(found! - Math.floor(at / 30_000))).to.be.at.most(1);
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('configuration', () => {
    const SECRET = PRODUCTION_ENV.SESSION_SECRET;
    const PRODUCTION = PRODUCTION_ENV;

    it('requires a second factor in production by default, not elsewhere; the environment decides over both', () => {
      expect(loadConfig({ env: PRODUCTION }).secondFactor).to.deep.include({ required: true, stepUpMinutes: 5, stepUpAdjustmentUnits: 1000, maxFailures: 5, lockMinutes: 15 });
      expect(loadConfig({ env: { NODE_ENV: 'test' } }).secondFactor.required).to.equal(false);
      expect(loadConfig({ env: { NODE_ENV: 'development' } }).secondFactor.required).to.equal(false);
      expect(loadConfig({ env: { ...PRODUCTION, SECOND_FACTOR_REQUIRED: 'false' } }).secondFactor.required).to.equal(false);
      const tuned = loadConfig({ env: { NODE_ENV: 'test', SECOND_FACTOR_STEP_UP_MINUTES: '2', SECOND_FACTOR_STEP_UP_ADJUSTMENT_UNITS: '50', SECOND_FACTOR_MAX_FAILURES: '3', SECOND_FACTOR_LOCK_MINUTES: '30' } });
      expect(tuned.secondFactor).to.deep.include({ stepUpMinutes: 2, stepUpAdjustmentUnits: 50, maxFailures: 3, lockMinutes: 30 });
    });

    it('refuses out-of-range limits and a short SECOND_FACTOR_KEY', () => {
      for (const env of [{ SECOND_FACTOR_STEP_UP_MINUTES: '0' }, { SECOND_FACTOR_MAX_FAILURES: '0' }, { SECOND_FACTOR_LOCK_MINUTES: '0' }, { SECOND_FACTOR_KEY: 'too-short' }]) {
        expect(() => loadConfig({ env: { NODE_ENV: 'test', ...env } }), JSON.stringify(env)).to.throw();
      }
      expect(() => loadConfig({ env: { ...PRODUCTION, SECOND_FACTOR_KEY: SECRET } }), 'the session secret again').to.throw(/SECOND_FACTOR_KEY|secondFactor/);
      expect(loadConfig({ env: { ...PRODUCTION, SECOND_FACTOR_KEY: SECRET.split('').reverse().join('') } }).secondFactor.key).to.have.length(64);
    });
  });

  describe('factorName', () => {
    it('trims and folds spaces, keeps 1 to 60 characters, refuses what is not text', () => {
      expect(factorName('  Mon   téléphone ')).to.equal('Mon téléphone');
      expect(factorName('x'.repeat(60))).to.equal('x'.repeat(60));
      expect(factorName('x'.repeat(61))).to.equal(null);
      expect(factorName('   ')).to.equal(null);
      expect(factorName(['a'])).to.equal(null);
      expect(factorName(undefined)).to.equal(null);
    });
  });
});
