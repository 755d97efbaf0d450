import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { migrateDownAll, migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';

const TABLES = [
  'users',
  'accounts',
  'ledger_transactions',
  'ledger_entries',
  'sessions',
  'login_throttle',
  'price_settings',
  'packs',
  'bonus_tiers',
  'terms_versions',
  'orders',
  'order_events',
  'webhook_events',
];
const MIGRATIONS = readdirSync(path.join(projectRoot, 'migrations')).filter((name) => name.endsWith('.ts'));

describe(`migrations (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  const existing = async () => {
    const present = [];
    for (const table of TABLES) if (await database.db.knex.schema.hasTable(table)) present.push(table);
    return present;
  };

  it('goes all the way down and up again', async () => {
    expect(await existing()).to.deep.equal(TABLES);
    const undone = await migrateDownAll(database.db.knex);
    expect(undone).to.have.members(MIGRATIONS);
    expect(await existing()).to.deep.equal([]);
    expect(await migrateToLatest(database.db.knex)).to.deep.equal([...undone].reverse());
    expect(await existing()).to.deep.equal(TABLES);
    const systemAccounts = await database.db.knex('accounts').where('kind', 'system').pluck('code');
    expect(systemAccounts).to.include.members(['system:top-ups', 'system:bonuses', 'system:usage:print', 'system:adjustments']);
  });

  it('applies nothing when already up to date', async () => {
    expect(await migrateToLatest(database.db.knex)).to.deep.equal([]);
  });
});
