import type { Clock } from '../../domain/time/clock.js';
import type { CreditDestination } from '../../print-systems/credit-destination.js';

export interface PrintBalance {
  /** Hundredths of a unit. */
  balance: number;
  /** When the print system said so. */
  readAt: Date;
  /** False: the print system did not answer just now; this is the last value it gave. */
  current: boolean;
}

export interface PrintBalancesOptions {
  destination: CreditDestination;
  clock: Clock;
  /** A balance read this recently is shown without asking again. */
  cacheMs: number;
  /** How long a page waits for the print system before it shows the last known value. */
  waitMs: number;
}

/** People whose last balance is remembered; past it the oldest reading is forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * People's balances in the print system for pages: read with a short cache, and a page never waits long
 * for a slow print system (the reading goes on and fills the cache for the next page). When it does not
 * answer, the last value it gave is shown with its time. Null: the destination cannot tell, or never answered.
 */
export function createPrintBalances(options: PrintBalancesOptions) {
  const { destination, clock } = options;
  const remembered = new Map<string, { balance: number; readAt: Date }>();
  const reading = new Map<string, Promise<void>>();

  const remember = (username: string, balance: number) => {
    remembered.delete(username);
    remembered.set(username, { balance, readAt: clock.now() });
    if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  };

  function startReading(username: string): Promise<void> {
    const readBalance = destination.readBalance;
    if (!readBalance) return Promise.resolve();
    let pending = reading.get(username);
    if (!pending) {
      pending = readBalance(username)
        .then((balance) => remember(username, balance))
        .finally(() => reading.delete(username));
      reading.set(username, pending);
    }
    return pending;
  }

  async function balanceOf(username: string): Promise<PrintBalance | null> {
    if (!destination.readBalance) return null;
    const known = remembered.get(username);
    if (known && clock.now().getTime() - known.readAt.getTime() < options.cacheMs) return { ...known, current: true };
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      startReading(username).then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), options.waitMs))),
    ]).finally(() => clearTimeout(timer));
    const latest = remembered.get(username);
    if (!latest) return null;
    return { ...latest, current: answered };
  }

  /**
   * Whether the person has an account in the print system: false only when it says so for sure; null
   * when it cannot tell (no answer within twice a page's wait, or a destination that does not know its people).
   */
  async function personExists(username: string): Promise<boolean | null> {
    if (!destination.personExists) return null;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      destination.personExists(username).catch(() => null),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 2 * options.waitMs))),
    ]).finally(() => clearTimeout(timer));
  }

  return {
    label: destination.label,
    kind: destination.kind,
    /** Whether the destination can tell a person's balance (PaperCut) or not (a webhook). */
    readsBalances: destination.readBalance !== undefined,
    /** Whether the destination can tell who has an account there. */
    knowsPeople: destination.personExists !== undefined,
    balanceOf,
    /** A transfer to the person was just applied: the balance remembered is no longer theirs. */
    forget: (username: string) => void remembered.delete(username),
    personExists,
    checkHealth: () => destination.checkHealth(),
  };
}

export type PrintBalances = ReturnType<typeof createPrintBalances>;
