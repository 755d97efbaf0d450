import { expect } from 'chai';
import { migrateDownAll, migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';

const TABLES = ['users', 'accounts', 'ledger_transactions', 'ledger_entries', 'sessions', 'login_throttle'];

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
    expect(undone).to.have.length(4);
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
