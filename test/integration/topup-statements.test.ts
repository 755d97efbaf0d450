import { expect } from 'chai';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { countStatements } from '../helpers/statements.js';
import { pathOf, useShop, type Shop } from '../helpers/topup.js';

/** A statement reading the orders table (SQLite quotes names with backticks, PostgreSQL with double quotes). */
const READS_ORDERS = /^select .* from [`"]orders[`"]/i;
/** `select * from orders where id = ?`, with or without FOR UPDATE (PostgreSQL numbers its parameters). */
const ORDER_BY_ID = /^select \* from [`"]orders[`"] where [`"]id[`"] = (\?|\$1) limit (\?|\$2)( for update)?$/i;

interface CountedStep {
  step: string;
  count: number;
  sql: string[];
}

describe(`statements of a top-up, request by request (${testDialect})`, () => {
  let shop: Shop;
  // Mail sent by SMTP (never in these tests: no timer, no sending on issue), so that the receipt is drawn after the payment as for a mail to send.
  useShop((opened) => (shop = opened), { MAIL_DELIVERY: 'smtp', SMTP_HOST: '127.0.0.1' });

  /**
   * One top-up as a browser makes it, each request of the portal counted alone: PayPal's webhooks are
   * held back until the buyer is back, then delivered one after the other; the receipt drawn in the
   * background after the payment is counted with the return that issued it.
   */
  async function topUp(): Promise<CountedStep[]> {
    const { portal, agent, termsId } = shop;
    portal.simulator.setFault({ type: 'webhooks', reverseOrder: true });
    const counted: CountedStep[] = [];
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const { result, count, sql } = await countStatements(portal.db, work);
      counted.push({ step: name, count, sql });
      return result;
    };
    const csrf = csrfTokenFrom((await agent.get('/topup').expect(200)).text);
    const placed = await step('POST /topup', () => agent.post('/topup').type('form').send({ _csrf: csrf, offer: 'pack-10', terms: String(termsId) }).expect(303));
    const orderPage = placed.headers.location as string;
    await step('GET /orders/:number', () => agent.get(orderPage).expect(200));
    const pay = await step('POST /orders/:number/pay', () => agent.post(`${orderPage}/pay`).type('form').send({ _csrf: csrf }).expect(303));
    const backFromPayPal = pathOf(portal.simulator.approve(new URL(pay.headers.location as string).searchParams.get('token')!));
    await step('GET /topup/return', async () => {
      await agent.get(backFromPayPal).expect(303).expect('location', orderPage);
      await portal.documentFiles.idle();
    });
    const paid = await step('GET /orders/:number, paid', () => agent.get(orderPage).expect(200));
    expect(paid.text).to.include('status--paid');
    await step('POST /webhooks/paypal ×2', () => portal.simulator.flushWebhooks());
    return counted;
  }

  it('runs these statements per request, and reads the orders table twelve times in all', async () => {
    // The second top-up: the first one's look-ups that are made once (the terms' and theme's caches…) are not what is counted.
    await topUp();
    await shop.portal.simulator.flushWebhooks();
    const counted = await topUp();
    const listing = counted.map(({ step, sql }) => `${step}:\n  ${sql.join('\n  ')}`).join('\n');
    // PostgreSQL locks the person's row to place an order or start a PayPal one; SQLite's transaction holds the only write lock already.
    const personLock = testDialect === 'postgres' ? 1 : 0;
    expect(counted.map(({ step, count }) => [step, count]), listing).to.deep.equal([
      ['POST /topup', 11 + personLock],
      ['GET /orders/:number', 4],
      ['POST /orders/:number/pay', 11 + personLock],
      ['GET /topup/return', 26],
      ['GET /orders/:number, paid', 4],
      ['POST /webhooks/paypal ×2', 14],
    ]);
    // Each request reads its order once (the person's own, or the webhook's), again under its lock where it changes it (the return, each
    // webhook); besides, paying reads the person's PayPal orders of the last minute, and the receipt drawn reads the order it prints.
    const ordersRead = counted.map(({ step, sql }) => [step, sql.filter((statement) => READS_ORDERS.test(statement)).length] as const);
    expect(ordersRead.reduce((sum, [, reads]) => sum + reads, 0), listing).to.equal(12);
    // Of which the order by its id alone: under its lock in the return and each webhook, the webhook's own look-up, and the receipt's drawing.
    expect(counted.flatMap(({ sql }) => sql).filter((statement) => ORDER_BY_ID.test(statement)), listing).to.have.length(6);
    expect(ordersRead, listing).to.deep.equal([
      ['POST /topup', 1],
      ['GET /orders/:number', 1],
      ['POST /orders/:number/pay', 2],
      ['GET /topup/return', 3],
      ['GET /orders/:number, paid', 1],
      ['POST /webhooks/paypal ×2', 4],
    ]);
  });
});
