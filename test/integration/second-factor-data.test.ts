import { expect } from 'chai';
import { strFromU8, unzipSync } from 'fflate';
import supertest from 'supertest';
import { anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { enrolTotp } from '../helpers/second-factors.js';

const PASSWORD = 'a good long password';

describe(`second factors in a person's data (${testDialect})`, function () {
  this.timeout(30_000);
  let portal: TestPortal;
  let agent: ReturnType<typeof supertest.agent>;
  let secret: string;

  beforeEach(async () => {
    portal = await createTestPortal();
    await portal.addUser('regie', PASSWORD, { role: 'admin' });
    agent = supertest.agent(portal.app);
    expect((await logIn(agent, 'regie', PASSWORD)).status).to.equal(303);
    ({ secret } = await enrolTotp(agent, portal.clock.now(), 'Téléphone pro'));
  });
  afterEach(() => portal.cleanup());

  it('lists the factors in the download by kind, name and dates, never their secret', async () => {
    const files = unzipSync(new Uint8Array((await download(agent, '/account/data/download').expect(200)).body as Buffer));
    const factors = JSON.parse(strFromU8(files['second-factors.json']!)) as Array<Record<string, unknown>>;
    expect(factors.map(({ kind, name }) => ({ kind, name }))).to.deep.equal([{ kind: 'totp', name: 'Téléphone pro' }]);
    const everything = Object.values(files).map((bytes) => Buffer.from(bytes).toString('latin1')).join('\n');
    expect(everything, 'the TOTP secret').to.not.include(secret);
    const stored = (await portal.db.knex('second_factors').first('totp_secret')) as { totp_secret: string };
    expect(everything, 'the sealed secret').to.not.include(stored.totp_secret);
  });

  it('deletes the factors and recovery codes of an anonymised account', async () => {
    const admin = await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    const deps = { db: portal.db, clock: portal.clock };
    await portal.users.setRole('regie', 'user', admin);
    await closeAccount(deps, 'regie', admin);
    expect(await portal.db.knex('second_factors').select('id'), 'kept while only closed').to.have.length(1);
    await anonymiseAccount(deps, 'regie', admin);
    expect(await portal.db.knex('second_factors').select('id')).to.have.length(0);
    expect(await portal.db.knex('recovery_codes').select('id')).to.have.length(0);
  });
});
