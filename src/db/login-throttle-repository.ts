import type { ThrottleState } from '../domain/login-throttle.js';
import { toSafeInteger, type Queryable } from './database.js';

export async function loadThrottleStates(db: Queryable, keys: string[]): Promise<Map<string, ThrottleState>> {
  const rows: Array<Record<string, unknown>> = await db('login_throttle').whereIn('key', keys);
  return new Map(
    rows.map((row) => [
      String(row.key),
      {
        failures: toSafeInteger(row.failures),
        windowStartedAt: toSafeInteger(row.window_started_at),
        lockedUntil: row.locked_until == null ? null : toSafeInteger(row.locked_until),
      },
    ]),
  );
}

export async function saveThrottleState(db: Queryable, key: string, state: ThrottleState): Promise<void> {
  await db('login_throttle')
    .insert({ key, failures: state.failures, window_started_at: state.windowStartedAt, locked_until: state.lockedUntil })
    .onConflict('key')
    .merge();
}

export async function clearThrottleState(db: Queryable, key: string): Promise<void> {
  await db('login_throttle').where('key', key).del();
}
