import { expect } from 'chai';
import supertest from 'supertest';
import { recordAudit } from '../../src/db/audit/audit-repository.js';
import type { User } from '../../src/domain/people/users.js';
import { auditRows } from '../helpers/audit-page.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const HOUR = 3_600_000;

describe(`administration: audit log (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: User;
  let itPerson: User;
  let agent: Agent;

  before(async () => {
    portal = await createTestPortal();
    admin = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    itPerson = await portal.addUser('informatique', 'it-team-password', { role: 'it' });
    // 30 price publications an hour apart from 2026-11-21 22:00 UTC (23:00 in Paris), then a few others.
    portal.clock.advance(-36 * HOUR);
    for (let index = 0; index < 30; index += 1) {
      await recordAudit(portal.db.knex, { actor: admin, action: 'prices.publish', target: `pack-${index}`, before: { priceCents: 1000, units: 10 }, after: { priceCents: 1000 + index, units: 10 } }, portal.clock.now());
      portal.clock.advance(HOUR);
    }
    await recordAudit(
      portal.db.knex,
      { actor: itPerson, action: 'person.role', target: 'camille', before: { role: 'user', note: '<script>alert(1)</script>' }, after: { role: 'admin', note: 'x'.repeat(300) } },
      portal.clock.now(),
    );
    // An action this version does not know a label for still shows, raw.
    await recordAudit(portal.db.knex, { actor: admin, action: 'printers.sync', target: 'version 2', before: null, after: { version: 2 } }, portal.clock.now());
    // The clock now shows 2026-11-23T04:00:00Z (05:00 in Paris).
    agent = supertest.agent(portal.app);
    expect((await logIn(agent, 'gestion', 'admin-password')).status).to.equal(303);
  });
  after(() => portal.cleanup());

  it('lists entries newest first, 25 a page: when, who, the action and its label, the target, what changed', async () => {
    const page = await agent.get('/admin/audit').expect(200);
    expect(page.text).to.include('<h1>Journal d&#39;audit</h1>');
    expect(page.text).to.include('32 entrées');
    const rows = auditRows(page.text);
    expect(rows).to.have.length(25);
    expect(rows[0]!.slice(1)).to.deep.equal(['gestion', 'printers.sync', 'version 2', '(rien) → {&#34;version&#34;:2}']);
    expect(rows[1]!.slice(1, 4)).to.deep.equal(['informatique', 'person.role | Rôle changé', 'camille']);
    expect(rows[2]!.slice(1)).to.deep.equal(['gestion', 'prices.publish | Publication des tarifs', 'pack-29', 'priceCents 1000 → 1029']);
    expect(page.text).to.include('rel="next"');
    expect(page.text).to.include('href="/admin/audit?page=2"');
    const second = await agent.get('/admin/audit?page=2').expect(200);
    expect(auditRows(second.text).map((row) => row[3])).to.deep.equal(['pack-6', 'pack-5', 'pack-4', 'pack-3', 'pack-2', 'pack-1', 'pack-0']);
    // Past the end shows the last page.
    expect(auditRows((await agent.get('/admin/audit?page=9').expect(200)).text)).to.have.length(7);
  });

  it('shows only the keys that changed, escaped and cut short', async () => {
    const page = await agent.get('/admin/audit?action=person.role').expect(200);
    const [row] = auditRows(page.text);
    expect(row![4]).to.equal(`role user → admin note &lt;script&gt;alert(1)&lt;/script&gt; → ${'x'.repeat(79)}…`);
    expect(page.text).not.to.include('<script>alert(1)');
  });

  it('labels the actions it knows, in the reader\'s language, and shows every action raw', async () => {
    const export_ = await agent.get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-23').expect(200);
    expect(export_.headers['content-type']).to.equal('text/csv; charset=utf-8');
    const french = auditRows((await agent.get('/admin/audit?action=reports.export').expect(200)).text);
    expect(french).to.have.length(1);
    expect(french[0]!.slice(1, 4)).to.deep.equal(['gestion', 'reports.export | Export des transactions', '2026-11-23/2026-11-23']);
    const english = await agent.get('/admin/audit?action=reports.export').set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('<h1>Audit log</h1>');
    expect(auditRows(english.text)[0]![2]).to.equal('reports.export | Transactions export');
    expect(english.text).to.match(/<option value="reports.export" selected>Transactions export \(reports.export\)<\/option>/);
  });

  it('filters by action, offering the actions present, and keeps the filters across pages', async () => {
    const page = await agent.get('/admin/audit?action=prices.publish').expect(200);
    expect(page.text).to.include('30 entrées');
    expect(auditRows(page.text).every((row) => row[2] === 'prices.publish | Publication des tarifs')).to.equal(true);
    const options = [...page.text.matchAll(/<option value="([^"]*)"/g)].map((match) => match[1]);
    expect(options).to.deep.equal(['', 'person.role', 'prices.publish', 'printers.sync', 'reports.export']);
    expect(page.text).to.include('<option value="printers.sync">printers.sync</option>');
    expect(page.text).to.include('href="/admin/audit?action=prices.publish&amp;page=2"');
    const second = await agent.get('/admin/audit?action=prices.publish&page=2').expect(200);
    expect(auditRows(second.text)).to.have.length(5);
  });

  it('filters by days in the portal time zone, both ends included', async () => {
    // 2026-11-21 in Paris: only the first entry (23:00); 2026-11-22: the next 24.
    const first = await agent.get('/admin/audit?from=2026-11-21&to=2026-11-21').expect(200);
    expect(auditRows(first.text).map((row) => row[3])).to.deep.equal(['pack-0']);
    const next = await agent.get('/admin/audit?from=2026-11-22&to=2026-11-22&action=prices.publish').expect(200);
    expect(next.text).to.include('24 entrées');
    const since = await agent.get('/admin/audit?from=2026-11-23&action=').expect(200);
    expect(auditRows(since.text).map((row) => row[3])).to.deep.equal(['2026-11-23/2026-11-23', 'version 2', 'camille', 'pack-29', 'pack-28', 'pack-27', 'pack-26', 'pack-25']);
    const none = await agent.get('/admin/audit?to=2026-11-20').expect(200);
    expect(none.text).to.include('Aucune entrée ne correspond.');
  });

  for (const [name, query, field, message] of [
    ['an action that is not in the log', 'action=terms.publish', 'action', 'Choisissez une action de la liste.'],
    ['a repeated action', 'action=prices.publish&action=person.role', 'action', 'Choisissez une action de la liste.'],
    ['a day that does not exist', 'from=2026-11-31', 'from', 'Saisissez un jour qui existe, au format AAAA-MM-JJ.'],
    ['a day at the end of the calendar', 'to=9999-12-31', 'to', 'Saisissez un jour qui existe, au format AAAA-MM-JJ.'],
    ['an end before the start', 'from=2026-11-23&to=2026-11-22', 'to', 'Le dernier jour doit être le premier jour ou un jour après.'],
  ] as const) {
    it(`answers 400 to ${name}, with the message on the field and no entries`, async () => {
      const response = await agent.get(`/admin/audit?${query}`).expect(400);
      expect(response.text).to.include(`<p class="field-error" id="audit-${field}-error">${message}</p>`);
      expect(response.text).to.match(new RegExp(`id="audit-${field}"[^>]* aria-invalid="true"`));
      expect(response.text).not.to.include('<tbody>');
    });
  }

  it('says so in English, and refuses a bad page number', async () => {
    const response = await agent.get('/admin/audit?from=yesterday').set('Accept-Language', 'en').expect(400);
    expect(response.text).to.include('Enter a day that exists, as YYYY-MM-DD.');
    expect(response.text).to.include('value="yesterday"');
    for (const page of ['0', '-1', 'two', '1.5']) await agent.get(`/admin/audit?page=${page}`).expect(400);
  });

  it('cannot be changed or erased, even by the database user', async () => {
    const [entry] = await portal.db.knex('audit_log').orderBy('id').limit(1).select('id');
    let updateError: unknown;
    await portal.db.knex('audit_log').where('id', entry.id).update({ action: 'forged' }).catch((error: unknown) => (updateError = error));
    expect(String(updateError)).to.match(/audit_log is append-only: UPDATE refused/);
    let deleteError: unknown;
    await portal.db.knex('audit_log').where('id', entry.id).delete().catch((error: unknown) => (deleteError = error));
    expect(String(deleteError)).to.match(/audit_log is append-only: DELETE refused/);
    expect(await portal.db.knex('audit_log').where('action', 'forged').select('id')).to.deep.equal([]);
    expect((await portal.db.knex('audit_log').select('id')).length).to.be.at.least(32);
  });
});
