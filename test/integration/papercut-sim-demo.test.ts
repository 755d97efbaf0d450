import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { toSafeInteger } from '../../src/db/database.js';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';
import type { SimulatedTransaction } from '../../src/print-systems/papercut/simulator/index.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { until } from '../helpers/waiting.js';
import { DEMO_STUDENT, payTopUp, signedIn } from '../instances/papercut-processes.js';
import { startPortalProcess, type PortalProcess } from '../instances/portal-process.js';

const SIMULATOR_LINE = /^Credits also go to the built-in PaperCut simulator at (http:\/\/127\.0\.0\.1:\d+\/rpc\/api\/xmlrpc) \(its log of credits: (http:\/\/127\.0\.0\.1:\d+\/simulator\/transactions)\)\.$/m;

/**
 * What the README promises a tester: `npm start` with CREDIT_DESTINATION=papercut-sim runs a PaperCut
 * simulator beside the demo portal, names it in the banner, and a top-up paid through the built-in
 * PayPal simulator lands in its log of credits, with the order's number.
 */
describe(`the demo portal crediting its built-in PaperCut simulator (${testDialect})`, function () {
  this.timeout(90_000);
  let database: TestDatabase;
  let uploadsDir: string;
  let portal: PortalProcess;

  before(async () => {
    database = await createTestDatabase({ migrated: false });
    uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-papercut-sim-'));
    portal = startPortalProcess('demo', { NODE_ENV: 'development', DATABASE_URL: database.url, UPLOADS_DIR: uploadsDir, CREDIT_DESTINATION: 'papercut-sim', LOG_LEVEL: 'warn' });
    await portal.ready.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${portal.output}`);
    });
  });

  after(async () => {
    await portal?.stop();
    await database?.cleanup();
    if (uploadsDir) await rm(uploadsDir, { recursive: true, force: true });
  });

  it('names the simulator in its banner, and a top-up paid as the demo student is credited there once, with its order number', async () => {
    const [, endpoint, logUrl] = SIMULATOR_LINE.exec(portal.output) ?? [];
    expect(endpoint, portal.output).to.be.a('string');
    expect(new URL(logUrl!).origin).to.equal(new URL(endpoint!).origin);
    const credits = async () => ((await (await fetch(logUrl!)).json()) as { transactions: SimulatedTransaction[] }).transactions;

    const student = await signedIn(portal, DEMO_STUDENT);
    const number = await payTopUp(student, { offer: 'free', amount: '12' });
    const order = await database.db.knex('orders').where('id', parseOrderNumber(number)).first('status', 'ledger_transaction_id', 'units', 'bonus_units');
    expect(order.status).to.equal('paid');
    const comment = `Recharge #${toSafeInteger(order.ledger_transaction_id)} ${number}`;
    const mine = await until(async () => {
      const found = (await credits()).filter((credit) => credit.comment === comment);
      return found.length > 0 && found;
    }, 'the top-up is in the simulator');
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ username: DEMO_STUDENT.username, accountName: '', amountHundredths: toSafeInteger(order.units) + toSafeInteger(order.bonus_units) });
    const transfer = await until(async () => {
      const row = await database.db.knex('credit_transfers').where('ledger_transaction_id', order.ledger_transaction_id).first('state', 'destination');
      return row?.state === 'delivered' && row;
    }, 'the transfer is recorded as delivered');
    expect(transfer.destination).to.equal('papercut');
  });
});
