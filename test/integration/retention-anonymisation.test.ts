import { expect } from 'chai';
import pino from 'pino';
import supertest from 'supertest';
import { retentionJobDeps } from '../../src/cli/retention.js';
import { createRetentionJob } from '../../src/services/retention/retention-job.js';
import { AccountClosureError, anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { BUYER_PASSWORD, orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';

const YEAR_MS = 365.25 * 24 * 3600_000;

describe(`closing and anonymising an account (${testDialect})`, () => {
  let shop: Shop;
  let admin: ReturnType<typeof supertest.agent>;
  useShop((opened) => (shop = opened));

  before(async () => {
    await shop.portal.addUser('alix', BUYER_PASSWORD, { role: 'admin' });
    admin = supertest.agent(shop.portal.app);
    await logIn(admin, 'alix', BUYER_PASSWORD);
  });

  const knex = () => shop.portal.db.knex;
  async function post(username: string, action: string) {
    const page = await admin.get(`/admin/people/${username}`).expect(200);
    return admin.post(`/admin/people/${username}/${action}`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
  }
  const ledgerRows = async () => ({ entries: await knex()('ledger_entries').orderBy('id').select(), transactions: await knex()('ledger_transactions').orderBy('id').select() });

  it('refuses to anonymise an open account, closes it, then anonymises it, audited, keeping the ledger and the documents', async () => {
    const { paypalOrderId } = await orderSentToPayPal(shop);
    await shop.agent.get(pathOf(shop.portal.simulator.approve(paypalOrderId))).expect(303);
    await shop.portal.simulator.flushWebhooks();
    const receipt = (await knex()('documents').where('kind', 'receipt').first('id', 'number')) as { id: number; number: string };
    await download(shop.agent, `/documents/${receipt.number}.pdf`).expect(200);
    const before = await ledgerRows();

    const refused = await post('camille', 'anonymise');
    expect(refused.status).to.equal(409);
    expect(await knex()('users').where('id', shop.camille.id).first('username', 'anonymised_at')).to.deep.equal({ username: 'camille', anonymised_at: null });

    const closed = await post('camille', 'close');
    expect(closed.status).to.equal(303);
    expect(closed.headers.location).to.equal('/admin/people/camille?notice=closed');
    expect((await shop.agent.get('/account')).status).to.not.equal(200); // the session ended with the closure

    const anonymised = await post('camille', 'anonymise');
    const newName = `closed-${shop.camille.id}`;
    expect(anonymised.status).to.equal(303);
    expect(anonymised.headers.location).to.equal(`/admin/people/${newName}?notice=anonymised`);
    const row = await knex()('users').where('id', shop.camille.id).first('username', 'display_name', 'email', 'password_hash', 'disabled');
    expect({ ...row, disabled: Boolean(row.disabled) }).to.deep.equal({ username: newName, display_name: '', email: '', password_hash: null, disabled: true });
    for (const table of ['login_sessions', 'login_familiar_sources', 'user_identities']) {
      expect(await knex()(table).where('user_id', shop.camille.id), table).to.deep.equal([]);
    }
    const page = await admin.get(`/admin/people/${newName}`).expect(200);
    expect(page.text).to.include('Compte anonymisé le').and.not.include('camille@example.edu');

    const audit = await knex()('audit_log').whereIn('action', ['person.close', 'person.anonymise']).orderBy('id').select('action', 'actor_username', 'target', 'before_json', 'after_json');
    expect(audit.map((entry) => [entry.action, entry.actor_username, entry.target])).to.deep.equal([
      ['person.close', 'alix', 'camille'],
      ['person.anonymise', 'alix', newName],
    ]);
    expect(JSON.stringify(audit[1])).to.not.include('camille');

    // Anonymising again changes nothing; the ledger and the documents are as they were.
    expect((await post(newName, 'anonymise')).headers.location).to.equal(`/admin/people/${newName}?notice=unchanged`);
    expect(await ledgerRows()).to.deep.equal(before);
    expect(await knex()('documents').where('id', receipt.id).first('buyer_username', 'buyer_email')).to.deep.equal({ buyer_username: 'camille', buyer_email: 'camille@example.edu' });
    await expectLedgerConsistent(shop.portal.db);

    // Once the accounting period is over, the retention job detaches the documents from the person.
    const job = createRetentionJob(retentionJobDeps(shop.portal.config, shop.portal.db, shop.portal.clock, pino({ level: 'silent' })));
    await job.run();
    expect(await knex()('document_files').where('document_id', receipt.id)).to.have.length(1);
    await knex()('documents').where('id', receipt.id).update({ issued_at: new Date(Date.now() - 11 * YEAR_MS).toISOString() });
    const run = await job.run();
    expect(run.ran && run.removed.accountingDocuments).to.equal(1);
    expect(await knex()('documents').where('id', receipt.id).first('buyer_name', 'buyer_username', 'buyer_email')).to.deep.equal({ buyer_name: '', buyer_username: newName, buyer_email: '' });
    expect(await knex()('document_files').where('document_id', receipt.id)).to.deep.equal([]);
    expect(await ledgerRows()).to.deep.equal(before);
    await expectLedgerConsistent(shop.portal.db);
  });

  it('anonymises once when two admins press at once: one audit entry, the other told the name is gone', async () => {
    const dora = await shop.portal.addUser('dora', BUYER_PASSWORD);
    const deps = { db: shop.portal.db, clock: shop.portal.clock };
    const actor = { id: null, username: 'cli:test' };
    await closeAccount(deps, 'dora', actor);
    const results = await Promise.allSettled([anonymiseAccount(deps, 'dora', actor), anonymiseAccount(deps, 'dora', actor)]);
    const changed = results.filter((result) => result.status === 'fulfilled' && result.value.outcome === 'changed');
    expect(changed).to.have.length(1);
    for (const other of results.filter((result) => !changed.includes(result))) {
      if (other.status === 'fulfilled') expect(other.value.outcome).to.equal('unchanged');
      else expect(other.reason).to.be.instanceOf(AccountClosureError).and.have.property('code', 'user_not_found');
    }
    expect(await knex()('audit_log').where({ action: 'person.anonymise', target: `closed-${dora.id}` })).to.have.length(1);
  });

  it('refuses an admin closing their own account, and people who are not admins', async () => {
    const own = await post('alix', 'close');
    expect(own.status).to.equal(400);
    expect(await knex()('users').where('username', 'alix').first('closed_at')).to.deep.equal({ closed_at: null });
    await shop.portal.addUser('bastien', BUYER_PASSWORD);
    const person = supertest.agent(shop.portal.app);
    await logIn(person, 'bastien', BUYER_PASSWORD);
    const page = await person.get('/account').expect(200);
    const forbidden = await person.post('/admin/people/bastien/close').type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(forbidden.status).to.equal(403);
    expect(await knex()('users').where('username', 'bastien').first('closed_at')).to.deep.equal({ closed_at: null });
  });
});
