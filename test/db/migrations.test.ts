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

  it('migrates past a lock row that a killed migration left taken', async () => {
    await database.db.knex('knex_migrations_lock').update({ is_locked: 1 });
    expect(await migrateToLatest(database.db.knex)).to.deep.equal([]);
    expect(await database.db.knex('knex_migrations_lock').pluck('is_locked')).to.deep.equal([0]);
  });

  if (testDialect === 'sqlite') {
    it('turns SQLite foreign keys back on after rebuilding tables, with every reference whole', async () => {
      const foreignKeys = async () => ((await database.db.knex.raw('PRAGMA foreign_keys')) as Array<{ foreign_keys: number }>)[0]?.foreign_keys;
      await migrateDownAll(database.db.knex);
      expect(await foreignKeys()).to.equal(1);
      await migrateToLatest(database.db.knex);
      expect(await foreignKeys()).to.equal(1);
      expect(await database.db.knex.raw('PRAGMA foreign_key_check')).to.deep.equal([]);
    });
  }

  it("gives a mail's send key no default: every insert names its own", async () => {
    expect(await database.db.knex('mail_outbox').columnInfo('send_key')).to.include({ nullable: false, defaultValue: null });
  });
});
