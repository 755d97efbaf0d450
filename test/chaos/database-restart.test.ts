import { expect } from 'chai';
import supertest from 'supertest';
import { DEMO_LOGINS } from '../../src/services/demo/demo-logins.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { startPortalProcess, type PortalProcess } from '../instances/portal-process.js';
import { createPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

const STUDENT = DEMO_LOGINS.find((login) => login.role === 'user')!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The chaos run's "database restarted under load", as a test: the portal runs as `npm start` does, on
 * a PostgreSQL server that the test stops and starts again while signed-in people and visitors keep
 * asking for pages. Before the fix a failed session query was an unhandled rejection and the process
 * died; now each request that meets the outage gets a 503 page, and the same session works again as
 * soon as the database is back.
 */
describe('the database restarted under load', function () {
  this.timeout(120_000);
  let postgres: PrivatePostgres;
  let portal: PortalProcess;

  before(async () => {
    postgres = await createPrivatePostgres();
    portal = startPortalProcess('chaos', { NODE_ENV: 'development', DATABASE_URL: postgres.url, LOG_LEVEL: 'warn', DATABASE_POOL_MAX: '4' });
    await portal.ready.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${portal.output}`);
    });
  });

  after(async () => {
    await portal?.stop();
    await postgres?.remove();
  });

  it('answers 503 while PostgreSQL is down, never dies, and serves the same sessions once it is back', async () => {
    const agent = supertest.agent(portal.url);
    const page = await agent.get('/login').expect(200);
    await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: STUDENT.username, password: STUDENT.password }).expect(303);
    const balanceBefore = /data-balance="(-?\d+)"/.exec((await agent.get('/account').expect(200)).text)?.[1];
    expect(balanceBefore).to.be.a('string');

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let loading = true;
    const worker = async (path: string, signedIn: boolean) => {
      while (loading) {
        try {
          const response = await (signedIn ? agent : supertest(portal.url)).get(path).timeout(10_000);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        } catch (error) {
          // A reset connection or no answer: what the process dying looks like from outside.
          failures.push(String(error));
        }
      }
    };
    const load = [
      ...Array.from({ length: 4 }, () => worker('/account', true)),
      worker('/topup', true),
      worker('/login', false),
      worker('/healthz', false),
    ];

    await sleep(1_000);
    await postgres.stop();
    await sleep(2_000);
    await postgres.start();
    await sleep(3_000);
    loading = false;
    await Promise.all(load);

    expect(failures.slice(0, 3), `${failures.length} requests got no answer`).to.deep.equal([]);
    expect(portal.output).not.to.match(/unhandled|UnhandledPromiseRejection|exited/i);
    const answered = Object.fromEntries(statuses);
    // Only pages and "temporarily unavailable": no 500 for an outage, and the outage was met.
    const serverErrors = portal.logs.filter((line) => (line.res as { statusCode?: number } | undefined)?.statusCode === 500).map((line) => line.err);
    expect(Object.keys(answered).sort(), `${JSON.stringify(answered)} ${JSON.stringify(serverErrors)}`).to.deep.equal(['200', '503']);

    const after = await agent.get('/account').expect(200);
    expect(/data-balance="(-?\d+)"/.exec(after.text)?.[1]).to.equal(balanceBefore);
    await supertest(portal.url).get('/healthz').expect(200);
  });
});
