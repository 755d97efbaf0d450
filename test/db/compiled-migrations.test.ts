import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { compile, runEntry } from '../helpers/processes.js';

/** The names knex records: the migration files' names, as every database recorded them before the compiled build existed. */
const MIGRATIONS = readdirSync(path.join(projectRoot, 'migrations'))
  .filter((name) => name.endsWith('.ts'))
  .sort();

/**
 * Production migrates with the compiled build (npm start, npm run migrate), the tests and tsx with the
 * TypeScript sources, and knex refuses a database that recorded a migration it cannot find ("The
 * migration directory is corrupt"): each must take the other's databases as they are.
 */
describe(`migrations by the compiled build and by the TypeScript sources (${testDialect})`, function () {
  this.timeout(180_000);
  let database: TestDatabase | undefined;
  before(compile);
  afterEach(async () => {
    await database?.cleanup();
    database = undefined;
  });

  const recorded = (db: TestDatabase) => db.db.knex('knex_migrations').orderBy('id').pluck('name');

  it('a database migrated by the compiled build is up to date for the TypeScript sources, in process and through the CLI', async () => {
    database = await createTestDatabase({ migrated: false });
    const env = { DATABASE_URL: database.url };
    const compiled = await runEntry('src/cli.ts', ['migrate'], { env, compiled: true });
    expect(compiled.code, compiled.stderr).to.equal(0);

    expect(await migrateToLatest(database.db.knex)).to.deep.equal([]);
    expect(await runEntry('src/cli.ts', ['migrate'], { env })).to.deep.include({ code: 0, stdout: 'Database is up to date.\n', stderr: '' });
    expect(compiled.stdout).to.equal(`Applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.join(', ')}\n`);
    expect(await recorded(database)).to.deep.equal(MIGRATIONS);
  });

  it('a database migrated by the TypeScript sources is up to date for the compiled build, which can also undo every migration', async () => {
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url };
    expect(await runEntry('src/cli.ts', ['migrate'], { env, compiled: true })).to.deep.include({ code: 0, stdout: 'Database is up to date.\n', stderr: '' });
    expect(await runEntry('src/cli.ts', ['migrate', 'down'], { env, compiled: true })).to.deep.include({ code: 0, stdout: `Undid ${MIGRATIONS.length} migration(s).\n` });
    expect(await recorded(database)).to.deep.equal([]);
  });
});
