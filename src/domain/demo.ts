import type { Database } from '../db/database.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../db/ledger-repository.js';
import type { Clock } from './clock.js';
import { SystemAccount, type TransactionKind, type UsageCategory } from './ledger.js';
import type { UserManagement } from './user-management.js';
import type { Role } from './users.js';

export interface DemoLogin {
  username: string;
  password: string;
  displayName: string;
  email: string;
  role: Role;
}

/** Printed at start in demo mode; never seeded in production unless explicitly allowed. */
export const DEMO_LOGINS: readonly DemoLogin[] = [
  { username: 'etudiant', password: 'etudiant-demo', displayName: 'Camille Martin', email: 'camille.martin@example.edu', role: 'user' },
  { username: 'admin', password: 'admin-demo-2026', displayName: 'Alex Dupont', email: 'admin@example.edu', role: 'admin' },
];

const DAY_MS = 24 * 60 * 60 * 1000;

/** The student's past: two top-ups and some usage, ending at 49.60 units. */
const STUDENT_HISTORY: ReadonlyArray<{ daysAgo: number; kind: TransactionKind; category?: UsageCategory; amount: number }> = [
  { daysAgo: 40, kind: 'top_up', amount: 5000 },
  { daysAgo: 35, kind: 'usage', category: 'print', amount: -320 },
  { daysAgo: 30, kind: 'usage', category: 'copy', amount: -150 },
  { daysAgo: 20, kind: 'top_up', amount: 1000 },
  { daysAgo: 12, kind: 'usage', category: 'scan', amount: -40 },
  { daysAgo: 5, kind: 'usage', category: 'print', amount: -470 },
  { daysAgo: 2, kind: 'usage', category: 'fax', amount: -60 },
];

/** Idempotent: people are created once, history entries carry fixed idempotency keys. */
export async function seedDemoData({ db, clock, users }: { db: Database; clock: Clock; users: UserManagement }): Promise<readonly DemoLogin[]> {
  for (const login of DEMO_LOGINS) {
    if (!(await users.findUser(login.username))) await users.addUser({ ...login, locale: null });
  }
  const student = await users.findUser('etudiant');
  const account = student && (await findAccountByUserId(db.knex, student.id));
  if (!account) return DEMO_LOGINS;
  const now = clock.now().getTime();
  for (const [index, item] of STUDENT_HISTORY.entries()) {
    await db.transaction(async (trx) => {
      const counterpart = await getAccountByCode(trx, item.category ? SystemAccount.usage(item.category) : SystemAccount.topUps);
      await postTransaction(
        trx,
        {
          idempotencyKey: `demo:etudiant:${index + 1}`,
          kind: item.kind,
          lines: [
            { accountId: account.id, amount: item.amount },
            { accountId: counterpart.id, amount: -item.amount },
          ],
        },
        new Date(now - item.daysAgo * DAY_MS),
      );
    });
  }
  return DEMO_LOGINS;
}
