import type { SimulatedTransaction } from './types.js';

/** The built-in personal account's name in PaperCut's user methods. */
const BUILT_IN = '';

/**
 * People and their personal accounts' balances (hundredths), and the transaction log adjustments
 * write. Reading the built-in account ('') gives the total of the person's accounts, as PaperCut does
 * with multiple personal accounts.
 */
export class SimulatedAccounts {
  readonly transactions: SimulatedTransaction[] = [];
  private readonly people = new Map<string, Map<string, number>>();

  exists(username: string): boolean {
    return this.people.has(username);
  }

  set(username: string, hundredths: number, accountName = BUILT_IN): void {
    if (!Number.isSafeInteger(hundredths)) throw new RangeError(`${hundredths} is not a whole number of hundredths`);
    const accounts = this.people.get(username) ?? new Map([[BUILT_IN, 0]]);
    accounts.set(accountName, hundredths);
    this.people.set(username, accounts);
  }

  remove(username: string): void {
    this.people.delete(username);
  }

  /** Undefined when the person or the account does not exist. */
  balance(username: string, accountName = BUILT_IN): number | undefined {
    const accounts = this.people.get(username);
    if (!accounts) return undefined;
    if (accountName === BUILT_IN) return [...accounts.values()].reduce((total, balance) => total + balance, 0);
    return accounts.get(accountName);
  }

  /** The account must exist (see `balance`). */
  adjust(username: string, accountName: string, amountHundredths: number, comment: string, at: Date): void {
    const accounts = this.people.get(username);
    const before = accounts?.get(accountName);
    if (!accounts || before === undefined) throw new Error(`${username} has no account ${JSON.stringify(accountName)}`);
    accounts.set(accountName, before + amountHundredths);
    this.transactions.push({ at, username, accountName, amountHundredths, comment, balanceAfterHundredths: before + amountHundredths });
  }
}
