import { attemptCounter } from '../attempt-counters.js';

/**
 * Failed redemptions ('VCHR' locks): a redemption is counted as a failure of its person and its address
 * before the code is looked at, so that parallel guesses cannot outrun the limits; one that succeeds
 * takes its rows back (db/attempt-counters.ts).
 */
export const {
  count: countRedemptionAttempt,
  forgive: forgiveRedemptionAttempt,
  purge: purgeRedemptionAttempts,
} = attemptCounter({ table: 'voucher_redemption_attempts', lockClass: 0x56434852 });
