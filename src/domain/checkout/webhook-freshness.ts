/**
 * How old a webhook transmission may be. PayPal redelivers a notification that did not get a 2xx up to
 * 25 times over 3 days, and does not say whether a redelivery keeps the first PAYPAL-TRANSMISSION-TIME:
 * the window covers those 3 days and one more of margin, so PayPal's own last retry is never refused.
 * Older transmissions can only be replays.
 */
const TRANSMISSION_MAX_AGE_MS = 4 * 24 * 3600_000;
/** Clock skew tolerated between PayPal and us: a transmission dated further ahead is refused. */
const TRANSMISSION_MAX_SKEW_MS = 10 * 60_000;

export function isFreshTransmission(time: Date, now: Date): boolean {
  const age = now.getTime() - time.getTime();
  return age <= TRANSMISSION_MAX_AGE_MS && age >= -TRANSMISSION_MAX_SKEW_MS;
}

/** Transmissions sent before this are refused: their ids need not be remembered any more. */
export const oldestFreshTransmission = (now: Date): Date => new Date(now.getTime() - TRANSMISSION_MAX_AGE_MS);
