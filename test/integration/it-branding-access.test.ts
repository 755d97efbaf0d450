import { expect } from 'chai';
import supertest from 'supertest';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { listRoutes } from '../helpers/routes.js';
import { addPeople, brandingState, signedIn } from './it-branding-helpers.js';

/** A value for each route parameter, so that the guard, not the parameter, decides the answer. */
const SAMPLE_PARAMS: Record<string, string> = { id: '1', folder: 'default' };
const concrete = (path: string) => path.replace(/:(\w+)/g, (_match, name: string) => SAMPLE_PARAMS[name] ?? '1');

describe('IT pages: access', function () {
  let portal: TestPortal;
  let routes: Array<{ method: string; path: string }>;

  before(async () => {
    portal = await createTestPortal();
    await addPeople(portal);
    routes = listRoutes(portal.app).filter((route) => route.path === '/it' || route.path.startsWith('/it/'));
  });
  after(() => portal.cleanup());

  it('finds the IT routes to check', () => {
    expect(routes).to.deep.include.members([
      { method: 'GET', path: '/it/branding' },
      { method: 'POST', path: '/it/branding/drafts' },
      { method: 'POST', path: '/it/branding/themes/:folder/drafts' },
      { method: 'POST', path: '/it/branding/versions/:id/publish' },
      { method: 'POST', path: '/it/branding/versions/:id/restore' },
      { method: 'POST', path: '/it/branding/preview/leave' },
    ]);
  });

  it('answers 403 to a user on every IT route and method, with a valid CSRF token, and changes nothing', async () => {
    const before = await brandingState(portal);
    const student = await signedIn(portal, 'user');
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const answers = [];
    for (const route of routes) {
      const request = student[route.method.toLowerCase() as 'get' | 'post'](concrete(route.path));
      const response = route.method === 'GET' ? await request : await request.type('form').send({ _csrf: token });
      answers.push(`${route.method} ${route.path} ${response.status}`);
    }
    expect(answers).to.deep.equal(routes.map((route) => `${route.method} ${route.path} 403`));
    expect(await brandingState(portal)).to.deep.equal(before);
  });

  it('sends visitors who are not signed in to the login page, and changes nothing for them', async () => {
    const before = await brandingState(portal);
    for (const route of routes) {
      const response = await supertest(portal.app)[route.method.toLowerCase() as 'get' | 'post'](concrete(route.path));
      if (route.method === 'GET') {
        expect(response.status, route.path).to.equal(303);
        expect(response.headers.location).to.equal('/login');
      } else expect(response.status, route.path).to.equal(403); // no session, so no CSRF token either
    }
    expect(await brandingState(portal)).to.deep.equal(before);
  });

  for (const role of ['it', 'admin'] as const) {
    it(`shows ${role === 'it' ? 'an IT person' : 'an admin'} the branding pages without an inline script (one same-origin file), and a link to them`, async () => {
      const agent = await signedIn(portal, role);
      const account = await agent.get('/account').expect(200);
      expect(account.text).to.include('href="/it/branding"');
      const page = await agent.get('/it/branding').expect(200);
      expect(page.text).to.include('Personnalisation du portail').and.include('action="/it/branding/drafts"').and.include('enctype="multipart/form-data"');
      expect(page.text.match(/<script\b[^>]*>/gi)).to.have.length(1);
      expect(page.text).to.match(/<script src="\/assets\/branding-form\.js" nonce="[^"]+" defer><\/script>/);
      expect(page.text).not.to.match(/\sstyle=/i);
      expect((await agent.get('/it/branding').set('Accept-Language', 'en').expect(200)).text).to.include('Portal branding');
    });
  }

  it('shows users no link to the branding pages', async () => {
    const student = await signedIn(portal, 'user');
    expect((await student.get('/account').expect(200)).text).not.to.include('href="/it/branding"');
  });
});
