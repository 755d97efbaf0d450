import type { Knex } from 'knex';

/**
 * Work that only one process at a time should do, across every instance sharing a PostgreSQL database.
 * The values are the locks' second key; never renumber one while an older version may still run.
 */
export const ADVISORY_LOCKS = { migrations: 1, demoData: 2, reconciler: 3, retention: 4 } as const;
export type AdvisoryLockName = keyof typeof ADVISORY_LOCKS;

/** The first key of the portal's locks ('RECH'), so that another application's advisory locks on the same database never collide. */
const LOCK_CLASS = 0x52454348;

export type LockedRun<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `work` only if no other session holds the lock, and never waits for it: `{ ran: false }`
 * means another process is doing this work right now. On SQLite (one instance by design) it just runs.
 */
export async function runIfLockFree<T>(knex: Knex, name: AdvisoryLockName, work: () => Promise<T>): Promise<LockedRun<T>> {
  if (!isPostgres(knex)) return { ran: true, value: await work() };
  return holding(knex, name, 'SELECT pg_try_advisory_lock($1, $2) AS locked', work);
}

/** Runs `work` once no other session holds the lock, waiting as long as that takes. On SQLite it just runs. */
export async function runHoldingLock<T>(knex: Knex, name: AdvisoryLockName, work: () => Promise<T>): Promise<T> {
  if (!isPostgres(knex)) return work();
  const run = await holding(knex, name, 'SELECT pg_advisory_lock($1, $2) IS NOT NULL AS locked', work);
  if (!run.ran) throw new Error(`the ${name} lock was not taken`);
  return run.value;
}

const isPostgres = (knex: Knex) => knex.client.dialect === 'postgresql';

/**
 * A session-level lock on a connection of its own, outside the pool, that `work` never uses: the lock
 * lasts as long as the work whatever the work does with the pool, and nothing sits idle in a
 * transaction meanwhile. Closing that connection afterwards ends the session, which releases the lock
 * after an error as well. If that connection dies during the work, the lock goes with it: a sweep
 * then may overlap another one, which costs duplicate look-ups and nothing else (its effects are
 * exactly-once on their own).
 */
async function holding<T>(knex: Knex, name: AdvisoryLockName, sql: string, work: () => Promise<T>): Promise<LockedRun<T>> {
  const connection = (await knex.client.acquireRawConnection()) as { query(sql: string, values: unknown[]): Promise<{ rows: Array<{ locked: boolean }> }> };
  try {
    const { rows } = await connection.query(sql, [LOCK_CLASS, ADVISORY_LOCKS[name]]);
    if (rows[0]?.locked !== true) return { ran: false };
    return { ran: true, value: await work() };
  } finally {
    // A connection that cannot even be closed is already broken, and its session (with the lock) gone.
    await knex.client.destroyRawConnection(connection).catch(() => undefined);
  }
}
