import { expect } from 'chai';
import supertest from 'supertest';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { testDialect } from '../helpers/database.js';

type Agent = ReturnType<typeof supertest.agent>;
const PASSWORD = 'correct horse battery';

/** A 400 page in the reader's language: refused at the edge, not a server error. */
function expectRefused(response: { status: number; text: string }, what: string): void {
  expect(response.status, what).to.equal(400);
  expect(response.text, what).to.include('Requête incorrecte');
}

describe(`control characters are refused at the edge (${testDialect})`, () => {
  let portal: TestPortal;
  let user: Agent;
  let admin: Agent;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD);
    await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    user = supertest.agent(portal.app);
    admin = supertest.agent(portal.app);
    await logIn(user, 'camille', PASSWORD);
    await logIn(admin, 'gestion', PASSWORD);
  });
  after(() => portal.cleanup());

  it('answers 400 to a NUL byte in the username or the password of a login', async () => {
    const visitor = supertest.agent(portal.app);
    const page = await visitor.get('/login');
    const login = await visitor.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'cam\u0000ille', password: PASSWORD });
    expectRefused(login, 'username');
    const password = await visitor.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: 'pass\u0000word' });
    expectRefused(password, 'password');
  });

  it('answers 400 to control characters in query parameters and path segments', async () => {
    for (const path of ['/topup/return?token=abc%00def', '/topup/cancel?token=%00', '/topup/return?token=a%1Bb', '/account?page=1%00']) {
      expectRefused(await user.get(path), path);
    }
    for (const path of ['/admin/people?q=cam%00', '/admin/people/cam%00ille', '/admin/orders?q=%07', '/admin/people/cam%0Aille']) {
      expectRefused(await admin.get(path), path);
    }
  });

  it('refuses a NUL in terms of sale, and keeps line breaks and tabs, which multi-line text holds', async () => {
    const editor = await admin.get('/admin/terms').expect(200);
    const base = /name="base" value="(\d+)"/.exec(editor.text)?.[1] ?? '0';
    const send = (fr: string) => admin.post('/admin/terms').type('form').send({ _csrf: csrfTokenFrom(editor.text), base, action: 'preview', fr, en: 'Terms\r\n\tof sale' });
    expectRefused(await send('Conditions\u0000 de vente'), 'terms');
    expect((await send('Conditions\r\n\tde vente')).status).to.equal(200);
    expect(await portal.db.knex('terms_versions').count({ count: '*' }).then((rows) => Number(rows[0]?.count))).to.equal(0);
  });

  it('leaves the portal serving: the same person goes on afterwards', async () => {
    await user.get('/account').expect(200);
    await admin.get('/admin/people?q=cam').expect(200);
  });
});
