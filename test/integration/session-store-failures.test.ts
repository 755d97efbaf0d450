import { expect } from 'chai';
import supertest from 'supertest';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { testDialect } from '../helpers/database.js';

const PASSWORD = 'correct horse battery';

/** Rejections nobody handled while `work` ran: each would end a real process (Node's default). */
async function unhandledRejectionsDuring(work: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  // Mocha's own listener would fail the run on the first one; the test wants to count them instead.
  const mochas = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', listener);
  try {
    await work();
    // Rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('unhandledRejection', listener);
    for (const mocha of mochas) process.on('unhandledRejection', mocha);
  }
  return seen;
}

/**
 * In-process, a failing session query is provoked by taking the table away; the 503 for a database
 * that cannot answer at all is proved against a real PostgreSQL restart (test/chaos).
 */
describe(`a failing session store answers with an error page and the portal goes on (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD);
  });
  after(() => portal.cleanup());

  it('answers 500 while the sessions table is missing, without an unhandled rejection, and serves again once it is back', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const rejections = await unhandledRejectionsDuring(async () => {
      await portal.db.knex.schema.renameTable('sessions', 'sessions_away');
      try {
        // Reading a session (a page) and renewing one (a login: destroy, then save) fail.
        const page = await agent.get('/account').set('Accept-Language', 'en');
        expect(page.status).to.equal(500);
        expect(page.text).to.include('Something went wrong');
        const login = await logIn(supertest.agent(portal.app), 'camille', PASSWORD);
        expect(login.status).to.equal(500);
      } finally {
        await portal.db.knex.schema.renameTable('sessions_away', 'sessions');
      }
    });
    expect(rejections.map(String)).to.deep.equal([]);
    await agent.get('/account').expect(200);
  });
});
