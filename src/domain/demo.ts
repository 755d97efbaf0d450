import type { Database } from '../db/database.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../db/ledger-repository.js';
import { loadPriceList, replacePriceList } from '../db/price-list-repository.js';
import { currentTerms, publishTerms } from '../db/terms-repository.js';
import type { Clock } from './clock.js';
import { SystemAccount, type TransactionKind, type UsageCategory } from './ledger.js';
import { validatePriceList, type PriceList } from './pricing.js';
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
  { username: 'informatique', password: 'informatique-demo', displayName: 'Sam Leroy', email: 'informatique@example.edu', role: 'it' },
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

/** 1 unit = 1,00 €, VAT 20 %: four packs (bonus from 20 €), a free amount from 2 to 150 € with +5 % from 20 € and +10 % from 50 €. */
export const DEMO_PRICE_LIST: PriceList = validatePriceList({
  settings: { currency: 'EUR', vatRateBasisPoints: 2000, unitPriceCents: 100 },
  packs: [
    { id: 'pack-5', priceCents: 500, units: 500, bonusUnits: 0, enabled: true, validFrom: null, validUntil: null },
    { id: 'pack-10', priceCents: 1000, units: 1000, bonusUnits: 0, enabled: true, validFrom: null, validUntil: null },
    { id: 'pack-20', priceCents: 2000, units: 2000, bonusUnits: 200, enabled: true, validFrom: null, validUntil: null },
    { id: 'pack-50', priceCents: 5000, units: 5000, bonusUnits: 750, enabled: true, validFrom: null, validUntil: null },
  ],
  freeAmount: { minCents: 200, maxCents: 15_000, stepCents: 50 },
  bonusTiers: [
    { minCents: 2000, bonusBasisPoints: 500, validFrom: null, validUntil: null },
    { minCents: 5000, bonusBasisPoints: 1000, validFrom: null, validUntil: null },
  ],
});

export const DEMO_TERMS = {
  fr: `Les présentes conditions régissent le rechargement du crédit d'impression et de copie.

Le crédit acheté est exprimé en unités, crédité sur votre compte dès la confirmation du paiement par PayPal, et utilisable sur les imprimantes et copieurs de l'établissement. Il n'est ni remboursable ni transférable, sauf erreur de notre part.

Les prix sont indiqués toutes taxes comprises. Un reçu imprimable est disponible pour chaque paiement.`,
  en: `These terms govern top-ups of print and copy credit.

Credit is counted in units, credited to your account as soon as PayPal confirms the payment, and can be used on the printers and copiers of the institution. It is neither refundable nor transferable, except in case of our error.

Prices include VAT. A printable receipt is available for every payment.`,
};

/** Idempotent: people are created once, history entries carry fixed idempotency keys. */
export async function seedDemoData({ db, clock, users }: { db: Database; clock: Clock; users: UserManagement }): Promise<readonly DemoLogin[]> {
  if ((await loadPriceList(db.knex)).packs.length === 0) await db.transaction((trx) => replacePriceList(trx, DEMO_PRICE_LIST));
  if (!(await currentTerms(db.knex))) await publishTerms(db.knex, DEMO_TERMS, clock.now());
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
