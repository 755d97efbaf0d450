import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { expectLedgerConsistent } from '../helpers/database.js';
import { ApiContract, type ApiAnswer, type ApiCall } from '../helpers/openapi-contract.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';

export interface ApiPortal {
  portal: TestPortal;
  contract: ApiContract;
  /** The secret of the print server's key, and its id. */
  secret: string;
  keyId: number;
  /** A call under /api/v1 with the key, checked against the OpenAPI document. */
  api(call: ApiCall): Promise<ApiAnswer>;
  /** A person whose account holds `hundredths`. */
  person(username: string, hundredths: number, options?: { allowNegative?: boolean; disabled?: boolean }): Promise<{ accountId: number }>;
  balanceOf(accountId: number): Promise<number>;
  /** How many rows the API could have written: none may appear after a refused request. */
  counts(): Promise<Record<'transactions' | 'debits' | 'idempotencyKeys', number>>;
  newKey(name?: string): Promise<{ id: number; secret: string }>;
  cleanup(): Promise<void>;
}

/** The portal with one print-server key and the API's contract loaded from the running app. */
export async function createApiPortal(): Promise<ApiPortal> {
  const portal = await createTestPortal();
  const keys = createApiKeyManagement({ db: portal.db, clock: portal.clock });
  const { id: keyId, secret } = await keys.create({ name: 'Imprimantes bibliothèque', actor: null });
  const contract = await ApiContract.load(portal.baseUrl);
  const count = async (table: string) => Number((await portal.db.knex(table).count({ total: '*' }).first())?.total ?? 0);
  let topUps = 0;
  return {
    portal,
    contract,
    secret,
    keyId,
    api: (call) => contract.call(portal.baseUrl, { ...call, headers: { Authorization: `Bearer ${secret}`, ...call.headers } }),
    async person(username, hundredths, options = {}) {
      const user = await portal.addUser(username, `${username}-password-123`);
      await portal.db.knex('users').where('id', user.id).update({ disabled: options.disabled ?? false });
      const account = await portal.db.knex('accounts').where('user_id', user.id).first('id');
      const accountId = Number(account.id);
      await portal.db.knex('accounts').where('id', accountId).update({ allow_negative: options.allowNegative ?? false });
      if (hundredths > 0) {
        const source = await getAccountByCode(portal.db.knex, SystemAccount.topUps);
        topUps += 1;
        await portal.ledger.post({
          idempotencyKey: `test-top-up:${username}:${topUps}`,
          kind: 'top_up',
          lines: [
            { accountId, amount: hundredths },
            { accountId: source.id, amount: -hundredths },
          ],
        });
      }
      return { accountId };
    },
    async balanceOf(accountId) {
      return Number((await portal.db.knex('accounts').where('id', accountId).first('balance')).balance);
    },
    async counts() {
      return { transactions: await count('ledger_transactions'), debits: await count('usage_debits'), idempotencyKeys: await count('api_idempotency_keys') };
    },
    newKey: (name = 'Autre serveur') => keys.create({ name, actor: null }),
    cleanup: () => portal.cleanup(),
  };
}

let keyNumber = 0;
/** A fresh Idempotency-Key. */
export const newIdempotencyKey = () => `test-${process.pid}-${Date.now()}-${(keyNumber += 1)}`;

/**
 * A fresh portal with `alice` holding 10 units for every test of the suite that calls it; after each
 * test the ledger must still balance. Read the fields in the tests (they change with each test).
 */
export function apiPortalPerTest(): { api: ApiPortal; alice: { accountId: number } } {
  const context = {} as { api: ApiPortal; alice: { accountId: number } };
  beforeEach(async () => {
    context.api = await createApiPortal();
    context.alice = await context.api.person('alice', 1000);
  });
  afterEach(async () => {
    await expectLedgerConsistent(context.api.portal.db);
    await context.api.cleanup();
  });
  return context;
}
