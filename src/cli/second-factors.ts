import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { secretBox } from '../domain/second-factors/secret-box.js';
import type { Clock } from '../domain/time/clock.js';
import type { AuditActor } from '../domain/audit/audit.js';
import { UserError } from '../domain/people/users.js';
import { resetFactorsOf } from '../services/second-factors/factor-reset.js';
import { createSecondFactors, type SecondFactorsDependencies } from '../services/second-factors/second-factors.js';

/** The second factors' settings, the same for the portal and the command line. */
export function secondFactorsDeps(config: Config, db: Database, clock: Clock): SecondFactorsDependencies {
  const { key, required, stepUpMinutes, maxFailures, lockMinutes } = config.secondFactor;
  return {
    db,
    clock,
    box: secretBox({ key, sessionSecret: config.session.secret, sessionSecretGenerated: config.session.secretGenerated }),
    policy: { required, stepUpMs: stepUpMinutes * 60_000 },
    issuer: config.payments.brandName,
    limits: { maxFailures, lockMs: lockMinutes * 60_000 },
  };
}

/**
 * `second-factors reset --username U`: every factor and recovery code of the person goes and every
 * session of theirs ends, audited as `cli:<system user>`. The way back in for an admin who lost their
 * factors when no other admin can reset them from the person page. Returns the exit code.
 */
export async function resetSecondFactorsCommand(deps: SecondFactorsDependencies, actor: AuditActor, username: string, io: { stdout: { write(text: string): unknown } }): Promise<number> {
  const result = await resetFactorsOf({ db: deps.db, factors: createSecondFactors(deps) }, actor, username);
  if (result.outcome === 'user_not_found') throw new UserError('user_not_found', `no user named ${result.username}`);
  // The command line is no person (actor id null): it has no factors of its own to be refused.
  if (result.outcome === 'own_factors') throw new Error('the command line was refused as the owner of the factors');
  if (result.outcome === 'unchanged') {
    io.stdout.write(`${result.username} has no second factor and no recovery code; nothing changed.\n`);
    return 0;
  }
  io.stdout.write(`Reset the second factor of ${result.username}: ${result.factors} factor(s) and ${result.recoveryCodes} recovery code(s) deleted; their sessions are ended.\n`);
  return 0;
}
