import { Readable } from 'node:stream';
import { expect } from 'chai';
import supertest from 'supertest';
import { runCli } from '../../src/cli/run.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { spawnEntry, waitForOutput } from '../helpers/processes.js';
import { createTestPortal, logIn, TEST_SESSION_SECRET, type TestPortal } from '../helpers/portal.js';
import { balanceOf, captureCredits, pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';

const PASSWORD = 'a good long password';

describe(`a portal killed between PayPal's capture and our commit (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('is credited exactly once by the reconciler after the restart', async () => {
    const termsId = await publishOffers(portal);
    const user = await portal.addUser('victim', PASSWORD);
    portal.simulator.setWebhookUrl(null); // no webhook comes to the rescue: only the reconciler
    const env = {
      NODE_ENV: 'development',
      PORT: '0',
      DATABASE_URL: portal.url,
      SESSION_SECRET: TEST_SESSION_SECRET,
      DEMO_DATA: 'false',
      PAYPAL_ENV: 'simulator',
      PAYPAL_API_BASE_URL: portal.simulator.baseUrl,
      PAYPAL_TIMEOUT_MS: '30000',
      RECONCILE_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'warn',
    };
    const child = spawnEntry('src/server.ts', [], env);
    let killed = false;
    try {
      const output = await waitForOutput(child, /Recharge is running at (\S+)/);
      const agent = supertest.agent(/Recharge is running at (\S+)/.exec(output)![1] as string);
      await logIn(agent, 'victim', PASSWORD);
      const number = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) });
      const paypalOrderId = await pay(agent, portal, number);
      // PayPal captures at once but answers only much later: the portal is waiting, nothing committed.
      portal.simulator.setFault({ type: 'delay', ms: 20_000, operation: 'capture' }, { orderId: paypalOrderId });
      const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
      void agent.get(returnPath).catch(() => undefined);
      for (let waited = 0; (portal.simulator.order(paypalOrderId) as { status?: string }).status !== 'COMPLETED'; waited += 20) {
        if (waited > 10_000) throw new Error('PayPal never captured');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      killed = true;
      await exited;

      expect((await portal.db.knex('orders').where('paypal_order_id', paypalOrderId).first()).status).to.equal('awaiting_payment');
      expect(await balanceOf(portal, user.id)).to.equal(0);

      const reconcile = async () => {
        let out = '';
        const code = await runCli(['reconcile'], { stdin: Readable.from([]), stdout: { write: (text: string) => (out += text) }, stderr: process.stderr, env });
        expect(code).to.equal(0);
        return out;
      };
      expect(await reconcile()).to.match(/1 changed/);
      expect(await reconcile()).to.match(/0 changed/);
      expect(await balanceOf(portal, user.id)).to.equal(1000);
      expect(await captureCredits(portal)).to.equal(1);
    } finally {
      if (!killed) child.kill('SIGKILL');
    }
  });
});
