import { expect } from 'chai';
import supertest from 'supertest';
import { addDays, dayOf } from '../../src/domain/time/calendar.js';
import { csrfTokenFrom, logIn, type TestPortal } from './portal.js';
import { pathOf } from './topup.js';

type Agent = ReturnType<typeof supertest.agent>;

export const BUY = '/vouchers/buy';
export const PURCHASES = '/vouchers/purchases';
export const PASSWORD = 'student-password';

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
export const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&amp;/g, '&');

/** A response's body kept as bytes (a CSV or a PDF). */
export const asBytes = (response: supertest.Test) =>
  response.buffer(true).parse((incoming, done) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => done(null, Buffer.concat(chunks)));
  });

/** The codes of a CSV handed over, as printed (dashes). */
export const codesOfCsv = (body: Buffer) =>
  body.toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n').slice(1).map((line) => line.split(';')[0]!);

/** What a suite's helpers read once its `before` has run: the portal, the published terms, a signed-in admin. */
export interface VoucherShop {
  portal: TestPortal;
  termsId: number;
  admin: Agent;
}

/**
 * A suite's steps of buying codes, through the pages as a browser does: people signed in, buyers named
 * by the admin (`<prefix><n>`), batches ordered (`defaults` for the form's fields), paid at the
 * simulator, handed over and redeemed.
 */
export function voucherPurchaseSteps(shop: () => VoucherShop, { prefix, defaults }: { prefix: string; defaults: Record<string, string> }) {
  let people = 0;
  const knex = () => shop().portal.db.knex;
  const today = () => dayOf(shop().portal.clock.now(), shop().portal.config.i18n.timeZone);
  const tokenOf = async (agent: Agent, path: string) => csrfTokenFrom((await agent.get(path).expect(200)).text);
  const signedInAgain = async (username: string) => {
    const agent = supertest.agent(shop().portal.app);
    expect((await logIn(agent, username, PASSWORD)).status).to.equal(303);
    return agent;
  };
  const signedIn = async (username: string, role: 'user' | 'admin' = 'user') => {
    const user = await shop().portal.addUser(username, PASSWORD, { role, email: `${username}@example.edu` });
    return { user, agent: await signedInAgain(username) };
  };
  const batchFields = (fields: Record<string, string> = {}) => ({ name: 'Accueil master', value: '5', expiresOn: addDays(today(), 90), ...defaults, ...fields });
  const postBuy = async (agent: Agent, fields: Record<string, string>, language = 'fr') =>
    agent.post(BUY).set('Accept-Language', language).type('form').send({ _csrf: await tokenOf(agent, PURCHASES), ...fields });
  /** Sends the order to PayPal through the form: the PayPal order id of the approval link. */
  const orderBatch = async (agent: Agent, fields: Record<string, string> = {}) => {
    const response = await postBuy(agent, { ...batchFields(fields), terms: String(shop().termsId) });
    expect(response.status, readable(response.text ?? '').slice(0, 500)).to.equal(303);
    const approval = new URL(response.headers.location as string);
    expect(approval.origin).to.equal(new URL(shop().portal.simulator.baseUrl).origin);
    return approval.searchParams.get('token') as string;
  };
  const handOver = (agent: Agent, purchaseId: number, fields: Record<string, string>) =>
    tokenOf(agent, PURCHASES).then((token) => asBytes(agent.post(`${PURCHASES}/${purchaseId}/codes`).type('form').send({ _csrf: token, ...fields })));

  return {
    knex,
    today,
    tokenOf,
    signedIn,
    signedInAgain,
    batchFields,
    postBuy,
    orderBatch,
    handOver,
    /** A new buyer of the department, signed in, named by the admin. */
    async newBuyer() {
      people += 1;
      const buyer = await signedIn(`${prefix}${people}`);
      const { admin } = shop();
      const response = await admin.post('/admin/vouchers/buyers').type('form').send({ _csrf: await tokenOf(admin, '/admin/vouchers'), username: buyer.user.username });
      expect(response.status, response.text.slice(0, 300)).to.equal(303);
      return buyer;
    },
    /** Ordered, approved at PayPal and back: the order and the purchase as stored. */
    async boughtBatch(agent: Agent, fields: Record<string, string> = {}) {
      const paypalOrderId = await orderBatch(agent, fields);
      const back = await agent.get(pathOf(shop().portal.simulator.approve(paypalOrderId))).expect(303);
      expect(back.headers.location).to.equal(`${PURCHASES}?notice=paid`);
      await shop().portal.simulator.flushWebhooks();
      const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
      return { paypalOrderId, order, purchase: await knex()('voucher_purchases').where('order_id', order.id).first() };
    },
    /** A handover that must succeed. */
    async handedOver(agent: Agent, purchaseId: number, fields: Record<string, string>) {
      const response = await handOver(agent, purchaseId, fields);
      expect(response.status, String(response.body).slice(0, 300)).to.equal(201);
      return response;
    },
    redeem: async (agent: Agent, code: string) => agent.post('/topup/voucher').type('form').send({ _csrf: await tokenOf(agent, '/topup'), code }),
    accountBalance: async (code: string) => Number((await knex()('accounts').where('code', code).first('balance')).balance),
  };
}
