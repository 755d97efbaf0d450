import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'correct horse battery';

/**
 * A page view that changes nothing in the session writes nothing to the database (express-session
 * would touch the row's expiry each time: web/middleware/session.ts); a session in use is still saved
 * once a minute, which is what keeps its row and the idle timeout up to date.
 */
describe(`session writes (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD);
  });
  after(() => portal.cleanup());

  const storedSessions = () => portal.db.knex('sessions').select('sid', 'sess', 'expired');

  it('reads the session on each page and writes it only when it changed, at least once a minute of use', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    // The first page puts the session's CSRF token in it: a change, saved.
    await agent.get('/account').expect(200);
    const settled = await storedSessions();
    expect(settled).to.have.length(1);

    await agent.get('/account').expect(200);
    await agent.get('/topup').expect(200);
    expect(await storedSessions()).to.deep.equal(settled);

    portal.clock.advance(61_000);
    await agent.get('/account').expect(200);
    const [saved] = await storedSessions();
    expect(saved.sid).to.equal(settled[0].sid);
    expect(saved.sess).to.not.deep.equal(settled[0].sess);
    expect(saved.expired).to.not.deep.equal(settled[0].expired);
  });
});
