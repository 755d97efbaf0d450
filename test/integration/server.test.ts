import { expect } from 'chai';
import supertest from 'supertest';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { runEntry, spawnEntry, waitForOutput } from '../helpers/processes.js';
import { csrfTokenFrom } from '../helpers/portal.js';

describe(`the server process, as npm start runs it (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('migrates, seeds the demo, prints the URL and demo logins, and the printed student login shows 49,60 unités', async () => {
    const child = spawnEntry('src/server.ts', [], { NODE_ENV: 'development', PORT: '0', PAYPAL_SIM_PORT: '0', DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
    try {
      const output = await waitForOutput(child, /Recharge is running at (\S+)[\s\S]*admin\s+\S+ \/ \S+/);
      expect(output).to.match(/built-in PayPal simulator at http:\/\/127\.0\.0\.1:\d+/);
      const url = /Recharge is running at (\S+)/.exec(output)?.[1] as string;
      const [, username, password] = /user\s+(\S+) \/ (\S+)/.exec(output) ?? [];
      expect(url).to.match(/^http:\/\/localhost:\d+$/);
      const agent = supertest.agent(url);
      const page = await agent.get('/login').expect(200);
      const login = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username, password });
      expect(login.status).to.equal(303);
      const account = await agent.get('/account').expect(200);
      expect(account.text).to.include('49,60 unités').and.include('Camille Martin');
      expect((await agent.get('/healthz')).body.status).to.equal('ok');
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
  });

  it('refuses to start in production without a session secret, naming the key', async () => {
    const result = await runEntry('src/server.ts', [], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('Invalid configuration:').and.include('session.secret (SESSION_SECRET): is required in production');
  });
});
