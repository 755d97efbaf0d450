import type { Knex } from 'knex';
import { findActiveApiKey, recordApiKeyUse } from '../../db/print-api/api-key-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { restartTransferClocks } from '../../db/credit-transfers/transfer-repository.js';
import { findAccountByUserId, getAccountByCode, isTransactionRecorded, postTransaction, reverseTransaction, type Account } from '../../db/ledger/ledger-repository.js';
import { loadPriceList, replacePriceList } from '../../db/pricing/price-list-repository.js';
import { currentTerms, publishTerms } from '../../db/pricing/terms-repository.js';
import { createApiKeyManagement } from '../print-api/api-key-management.js';
import { hashApiKey } from '../../domain/print-api/api-keys.js';
import type { Clock } from '../../domain/time/clock.js';
import { SystemAccount, type Hundredths, type UsageCategory } from '../../domain/ledger/ledger.js';
import { validatePriceList, type PriceList } from '../../domain/pricing/pricing.js';
import { recordUsage } from '../print-api/usage-debits.js';
import type { UserManagement } from '../people/user-management.js';
import { DEMO_API_KEY, DEMO_LOGINS, type DemoLogin } from './demo-logins.js';
import { seedDemoQuotes, type DemoQuoteDependencies, type DemoQuotes } from './demo-quotes.js';

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

export const DEMO_API_KEY_NAME = 'Imprimantes de démonstration';

/** When something happened: so many days before the day the demo is seeded (UTC), at so many seconds past midnight. */
export interface DemoTime {
  daysAgo: number;
  second: number;
}

export type DemoEvent =
  | { type: 'top_up'; number: number; at: DemoTime; units: Hundredths; bonusUnits: Hundredths }
  | { type: 'job'; number: number; at: DemoTime; category: UsageCategory; pages: number; amount: Hundredths }
  | { type: 'cancel'; job: number; at: DemoTime };

/** mulberry32: a tiny seeded generator, so that the demo history is the same on every start and machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const HISTORY_DAYS = 182;
/**
 * How often each category comes up (printing far more than copying, then scanning, faxing rarely),
 * a job's most pages, and the price of a page (the unit is 1 €).
 */
const JOB_KINDS: ReadonlyArray<{ category: UsageCategory; odds: number; maxPages: number; pagePrice: Hundredths }> = [
  { category: 'print', odds: 0.72, maxPages: 40, pagePrice: 5 },
  { category: 'copy', odds: 0.17, maxPages: 25, pagePrice: 5 },
  { category: 'scan', odds: 0.08, maxPages: 12, pagePrice: 5 },
  { category: 'fax', odds: 0.03, maxPages: 4, pagePrice: 15 },
];
/** One print in five is in colour, at three times the price of black and white. */
const COLOUR_PRINTS = 0.2;
const COLOUR_PRICE_FACTOR = 3;
/** Print jobs (counted from 1) stuck in the queue and cancelled by the print server. */
const CANCELLED_PRINT_JOBS = new Set([6, 41]);
/** Below this after a job, the student tops up first. */
const LOW_BALANCE: Hundredths = 100;
/** Jobs start in ten-minute slots from 7:00 to 17:00 UTC (office hours in Europe), one job per slot at most. */
const SLOT_SECONDS = 600;
const FIRST_SLOT = 42;
const SLOTS = 60;

function demoJob(random: () => number): { category: UsageCategory; pages: number; amount: Hundredths } {
  const draw = random();
  let odds = 0;
  const kind = JOB_KINDS.find((candidate) => (odds += candidate.odds) > draw) ?? JOB_KINDS[0]!;
  // Mostly short documents, now and then a long one.
  const pages = 1 + Math.floor(random() * random() * kind.maxPages);
  const colour = kind.category === 'print' && random() < COLOUR_PRINTS;
  return { category: kind.category, pages, amount: pages * kind.pagePrice * (colour ? COLOUR_PRICE_FACTOR : 1) };
}

/**
 * The student's last six months, oldest first: print, copy, scan and fax jobs on about two days in
 * five, a top-up (one of the demo packs) whenever the balance would run low, and two print jobs
 * cancelled. It depends on nothing but a fixed seed: each numbered event is always the same, which
 * keeps the seeding idempotent whatever the day it runs.
 */
export function demoStudentHistory(): DemoEvent[] {
  const random = seededRandom(20_261_126);
  const packs = DEMO_PRICE_LIST.packs;
  const events: DemoEvent[] = [];
  let balance = 0;
  let jobs = 0;
  let printJobs = 0;
  let topUps = 0;
  for (let daysAgo = HISTORY_DAYS; daysAgo >= 1; daysAgo -= 1) {
    if (random() >= 0.42) continue;
    const count = 1 + Math.floor(random() * random() * 4);
    const slots = new Set<number>();
    while (slots.size < count) slots.add(FIRST_SLOT + Math.floor(random() * SLOTS));
    for (const slot of [...slots].sort((one, other) => one - other)) {
      const job = demoJob(random);
      const start = slot * SLOT_SECONDS;
      if (balance - job.amount < LOW_BALANCE) {
        // The first top-up is the 20 € pack, later ones any pack.
        const pack = topUps === 0 ? packs[2]! : packs[Math.floor(random() * packs.length)]!;
        topUps += 1;
        balance += pack.units + pack.bonusUnits;
        events.push({ type: 'top_up', number: topUps, at: { daysAgo, second: start - 300 }, units: pack.units, bonusUnits: pack.bonusUnits });
      }
      jobs += 1;
      balance -= job.amount;
      const at = { daysAgo, second: start + Math.floor(random() * 120) };
      events.push({ type: 'job', number: jobs, at, ...job });
      if (job.category === 'print' && CANCELLED_PRINT_JOBS.has((printJobs += 1))) {
        balance += job.amount;
        events.push({ type: 'cancel', job: jobs, at: { daysAgo, second: at.second + 90 } });
      }
    }
  }
  return events;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The demo key: created the first time (dated `createdAt`, before the jobs it records), or null when an admin has revoked it. */
async function demoApiKey(db: Database, createdAt: Date): Promise<{ id: number; name: string; lastUsedAt: Date | null } | null> {
  const active = await findActiveApiKey(db.knex, hashApiKey(DEMO_API_KEY));
  if (active) return active;
  try {
    const { id } = await createApiKeyManagement({ db, clock: { now: () => createdAt } }).create({ name: DEMO_API_KEY_NAME, actor: null, secret: DEMO_API_KEY });
    return { id, name: DEMO_API_KEY_NAME, lastUsedAt: null };
  } catch (error) {
    // Its secret is taken by a revoked key: the history it recorded stays, nothing more is recorded with it.
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** The ledger's idempotency key of a history event: fixed, so that seeding again replays it. */
function demoLedgerKey(event: DemoEvent): string {
  if (event.type === 'top_up') return `demo:etudiant:top-up:${event.number}`;
  if (event.type === 'job') return `demo:etudiant:job:${event.number}`;
  return `demo:etudiant:cancel:${event.job}`;
}

/** Records the student's history through the demo key, as the print servers would have; fixed keys make it a replay the next time. */
async function seedStudentHistory(trx: Knex.Transaction, history: DemoEvent[], account: Account, apiKeyId: number, instant: (at: DemoTime) => Date): Promise<void> {
  const topUps = await getAccountByCode(trx, SystemAccount.topUps);
  const bonuses = await getAccountByCode(trx, SystemAccount.bonuses);
  const jobTransactions = new Map<number, number>();
  for (const event of history) {
    const at = instant(event.at);
    if (event.type === 'top_up') {
      const lines = [
        { accountId: account.id, amount: event.units + event.bonusUnits },
        { accountId: topUps.id, amount: -event.units },
        ...(event.bonusUnits > 0 ? [{ accountId: bonuses.id, amount: -event.bonusUnits }] : []),
      ];
      await postTransaction(trx, { idempotencyKey: demoLedgerKey(event), kind: 'top_up', lines }, at);
    } else if (event.type === 'job') {
      const { category, pages, amount, number } = event;
      const reference = `demo-job-${String(number).padStart(4, '0')}`;
      const debit = await recordUsage(trx, { apiKeyId, accountId: account.id, category, amount, pages, reference, ledgerKey: demoLedgerKey(event) }, at);
      jobTransactions.set(number, debit.transactionId);
    } else {
      await reverseTransaction(trx, { transactionId: jobTransactions.get(event.job)!, idempotencyKey: demoLedgerKey(event) }, at);
    }
  }
}

/** Who gave the demo desk person the desk, in the audit log: the seeding, a name no person can have (like the command line's `cli:`). */
export const DEMO_SEED_ACTOR = { id: null, username: 'demo:seed' } as const;

/**
 * Idempotent: people and the demo key are created once, history entries carry fixed idempotency keys.
 * A demo person of the desk is given it when created only: an admin who takes it away later is obeyed.
 */
export async function seedDemoData({ db, clock, users }: { db: Database; clock: Clock; users: UserManagement }): Promise<readonly DemoLogin[]> {
  if ((await loadPriceList(db.knex)).packs.length === 0) await db.transaction((trx) => replacePriceList(trx, DEMO_PRICE_LIST));
  if (!(await currentTerms(db.knex))) await publishTerms(db.knex, DEMO_TERMS, clock.now());
  for (const { quoteDesk, ...login } of DEMO_LOGINS) {
    if (await users.findUser(login.username)) continue;
    await users.addUser({ ...login, locale: null });
    if (quoteDesk) await users.setQuoteDesk(login.username, true, DEMO_SEED_ACTOR);
  }
  const student = await users.findUser('etudiant');
  const account = student && (await findAccountByUserId(db.knex, student.id));
  if (!account) return DEMO_LOGINS;
  const now = clock.now();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const instant = (at: DemoTime) => new Date(today - at.daysAgo * DAY_MS + at.second * 1000);
  const history = demoStudentHistory();
  // The history is written in one transaction, its last event last: recorded, the whole history is,
  // and replaying it (about 650 statements at every start in demo mode) would change nothing.
  if (await isTransactionRecorded(db.knex, demoLedgerKey(history[history.length - 1]!))) return DEMO_LOGINS;
  const key = await demoApiKey(db, instant(history[0]!.at));
  if (!key) return DEMO_LOGINS;
  await db.transaction(async (trx) => {
    await seedStudentHistory(trx, history, account, key.id, instant);
    // The history's postings are dated in the past, and so are their transfers (with a print system):
    // their retries count from now, or the first failure would find them past the give-up time.
    await restartTransferClocks(trx, now);
  });
  // A new key was last used for the last job; a key in use since keeps its own date.
  if (key.lastUsedAt === null) await recordApiKeyUse(db.knex, key, instant(history[history.length - 1]!.at));
  return DEMO_LOGINS;
}

/** What `npm start` seeded and prints: the demo logins, and the demo quotes (null when they could not be made). */
export interface DemoData {
  logins: readonly DemoLogin[];
  quotes: DemoQuotes | null;
}

/** The demo people, prices, terms and history (seedDemoData), then the demo desk's quotes. */
export async function seedDemo(deps: DemoQuoteDependencies): Promise<DemoData> {
  const logins = await seedDemoData(deps);
  return { logins, quotes: await seedDemoQuotes(deps) };
}
