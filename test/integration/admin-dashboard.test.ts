import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';

/** French Intl output uses narrow no-break spaces; compare with plain ones. */
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ');

describe(`administration: dashboard (${testDialect})`, () => {
  let portal: TestPortal;
  let buyer: ReturnType<typeof supertest.agent>;
  let terms: string;

  before(async () => {
    portal = await createTestPortal();
    terms = String(await publishOffers(portal));
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('etudiant', 'student-password');
  });

  /** A fresh login each time: the tests move the clock past the session's lifetime. */
  async function dashboard(language = 'fr'): Promise<string> {
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password', { 'Accept-Language': language });
    return plain((await admin.get('/admin').set('Accept-Language', language).expect(200)).text);
  }
  after(() => portal.cleanup());

  async function buy(offer: string): Promise<string> {
    buyer = supertest.agent(portal.app);
    await logIn(buyer, 'etudiant', 'student-password');
    const number = await placeOrder(buyer, { offer, terms });
    const paypalOrderId = await pay(buyer, portal, number);
    await buyer.get(pathOf(portal.simulator.approve(paypalOrderId)));
    return paypalOrderId;
  }

  it("counts today's and this month's top-ups with their VAT, what users hold, open and failed orders, and problems", async () => {
    const empty = await dashboard();
    expect(empty).to.include('Aucune recharge payée.').and.include('0,00 unité').and.include('Aucun incident.');
    // 2026-11-23 10:00 UTC is the 23rd in Paris: one top-up then, two the next day.
    await buy('pack-20'); // 20,00 € → 22 units
    portal.clock.advance(24 * 3600_000);
    await buy('pack-10');
    await buy('pack-5');
    const pending = await placeOrder(buyer, { offer: 'pack-5', terms });
    await pay(buyer, portal, pending);
    const declined = await placeOrder(buyer, { offer: 'pack-10', terms }); // not pack-5 again: that would bring back the pending order
    const declinedId = await pay(buyer, portal, declined);
    portal.simulator.setFault({ type: 'pending' }, { orderId: declinedId });
    await buyer.get(pathOf(portal.simulator.approve(declinedId)));
    portal.simulator.denyPendingCapture(declinedId);
    await portal.simulator.flushWebhooks();

    const page = await dashboard();
    const section = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</section>', page.indexOf(`id="${id}"`)));
    expect(section('topups-today')).to.include('15,00 €').and.include('2 recharges').and.include('dont TVA 2,50 €');
    expect(section('topups-month')).to.include('35,00 €').and.include('3 recharges').and.include('dont TVA 5,83 €');
    expect(section('outstanding')).to.include('37,00 unités');
    expect(section('orders-state')).to.include('1 commande en attente de paiement').and.include('1 commande en échec');
    expect(section('problems')).to.include(declined).and.include('Paiement en échec');
    // The last 30 days, today (the 24th in Paris) included: the three top-ups, drawn from the 23rd on.
    const trend = section('trend');
    expect(trend).to.include('35,00 €').and.include('3 recharges').and.include('href="/admin/reports?from=2026-10-26&amp;to=2026-11-24&amp;currency=EUR"');
    expect(trend).to.match(/<svg [^>]*role="img" aria-labelledby="trend-eur-title trend-eur-desc">/);
    expect(trend).to.include('3 recharges payées pour 35,00 € au total. Jour le plus fort : 23 nov. 2026, 20,00 €.');
    const points = /<polyline points="([^"]+)"/.exec(trend)![1]!.split(' ').map((point) => Number(point.split(',')[1]));
    expect(points).to.have.length(30);
    // Nothing on the 28 days before, 20 € on the 23rd, 15 € on the 24th: the highest day reaches the top.
    expect(new Set(points.slice(0, 28)).size).to.equal(1);
    expect(points[28]).to.be.lessThan(points[29]!).and.lessThan(points[0]!);

  });

  it('speaks English to an admin who reads English', async () => {
    expect(await dashboard('en')).to.include('Top-ups this month').and.include('Units outstanding').and.include('Payment problems (last 7 days)');
  });
});
