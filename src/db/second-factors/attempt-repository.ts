import { attemptCounter } from '../attempt-counters.js';

/**
 * Wrong second-factor checks ('2FAC' locks): a check is counted as a failure of its person and address
 * before the factor is looked at, so that parallel guesses cannot outrun the limit; a right one takes
 * its rows back (db/attempt-counters.ts).
 */
export const {
  count: countSecondFactorAttempt,
  forgive: forgiveSecondFactorAttempt,
  purge: purgeSecondFactorAttempts,
} = attemptCounter({ table: 'second_factor_attempts', lockClass: 0x32464143 });
