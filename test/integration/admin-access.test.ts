import { expect } from 'chai';
import supertest from 'supertest';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { listRoutes } from '../helpers/routes.js';

/** A value for each route parameter, so that the guard, not the parameter, decides the answer. */
const SAMPLE_PARAMS: Record<string, string> = { number: 'R-2026-000001', username: 'etudiant', id: '1' };
const concrete = (path: string) => path.replace(/:(\w+)/g, (_match, name: string) => SAMPLE_PARAMS[name] ?? '1');

describe('administration: access', function () {
  let portal: TestPortal;
  let routes: Array<{ method: string; path: string }>;

  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('etudiant', 'student-password');
    await portal.addUser('informatique', 'it-team-password', { role: 'it' });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    routes = listRoutes(portal.app).filter((route) => route.path === '/admin' || route.path.startsWith('/admin/'));
  });
  after(() => portal.cleanup());

  it('finds the admin routes to check', () => {
    expect(routes.length).to.be.greaterThan(0);
    expect(routes).to.deep.include({ method: 'GET', path: '/admin' });
  });

  for (const [username, password] of [
    ['etudiant', 'student-password'],
    ['informatique', 'it-team-password'],
  ]) {
    it(`answers 403 to ${username} on every admin route and method, with a valid CSRF token`, async () => {
      const agent = supertest.agent(portal.app);
      expect((await logIn(agent, username!, password!)).status).to.equal(303);
      const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
      const answers = [];
      for (const route of routes) {
        const request = agent[route.method.toLowerCase() as 'get' | 'post'](concrete(route.path));
        const response = route.method === 'GET' ? await request : await request.type('form').send({ _csrf: token });
        answers.push(`${route.method} ${route.path} ${response.status}`);
      }
      expect(answers).to.deep.equal(routes.map((route) => `${route.method} ${route.path} 403`));
      expect((await agent.get('/admin').expect(403)).text).to.match(/Accès refusé/);
    });
  }

  it('sends visitors who are not signed in to the login page, and changes nothing for them', async () => {
    for (const route of routes) {
      const response = await supertest(portal.app)[route.method.toLowerCase() as 'get' | 'post'](concrete(route.path));
      if (route.method === 'GET') expect(response.status, route.path).to.equal(303);
      else expect(response.status, route.path).to.equal(403); // no session, so no CSRF token either
      if (response.status === 303) expect(response.headers.location).to.equal('/login');
    }
    expect(await portal.db.knex('audit_log').select('id')).to.deep.equal([]);
  });

  it('reads large admin forms only for admins: anyone else gets 413 before anything is parsed', async () => {
    const large = { fr: 'é'.repeat(20_000), en: 'e'.repeat(20_000), base: '1', action: 'preview' };
    const anonymous = await supertest(portal.app).post('/admin/terms').type('form').send(large);
    expect(anonymous.status).to.equal(413);
    const student = supertest.agent(portal.app);
    await logIn(student, 'etudiant', 'student-password');
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    expect((await student.post('/admin/terms').type('form').send({ _csrf: token, ...large })).status).to.equal(413);
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    const adminToken = csrfTokenFrom((await admin.get('/admin').expect(200)).text);
    expect((await admin.post('/admin/terms').type('form').send({ _csrf: adminToken, ...large })).status).not.to.equal(413);
  });

  it('answers admins on every admin page without a script and without a server error', async () => {
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    const pages = routes.filter((route) => route.method === 'GET');
    expect(pages.length).to.be.greaterThan(10);
    for (const route of pages) {
      const response = await admin.get(concrete(route.path));
      expect(response.status, route.path).to.be.below(500);
      expect(response.text, route.path).not.to.match(/<script/i);
    }
  });

  it('shows admins the dashboard and a link to it, and users no link', async () => {
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    const account = await admin.get('/account').expect(200);
    expect(account.text).to.include('href="/admin"');
    const dashboard = await admin.get('/admin').expect(200);
    expect(dashboard.text).to.include('Tableau de bord');
    const student = supertest.agent(portal.app);
    await logIn(student, 'etudiant', 'student-password');
    expect((await student.get('/account').expect(200)).text).not.to.include('href="/admin"');
  });
});
