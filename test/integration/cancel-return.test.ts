import { expect } from 'chai';
import type supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { testDialect } from '../helpers/database.js';
import { type TestPortal } from '../helpers/portal.js';
import { balanceOf, captureCredits, orderSentToPayPal, pathOf, useShop } from '../helpers/topup.js';

const NOTHING_CHARGED = { fr: "rien n&#39;a été débité", en: 'nothing was charged' };

describe(`PayPal's cancel link tells what really became of the order (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let agent: ReturnType<typeof supertest.agent>;

  useShop((shop) => ({ portal, termsId, camille, agent } = shop));

  /** An order for 10 units sent to PayPal. */
  const ordered = () => orderSentToPayPal({ portal, termsId, camille, agent });

  /** Follows the cancel link in `language`; returns where it led and the page shown there. */
  async function followCancel(paypalOrderId: string, language: 'fr' | 'en') {
    const back = await agent.get(`/topup/cancel?token=${paypalOrderId}`).set('Accept-Language', language);
    expect(back.status).to.equal(303);
    const location = back.headers.location as string;
    return { location, text: (await agent.get(location).set('Accept-Language', language).expect(200)).text.replace(/[\u202f\u00a0]/g, ' ') };
  }

  for (const [language, message] of [
    ['fr', 'Vous avez quitté PayPal par « Annuler », mais cette commande est déjà payée : votre compte a été crédité de 10,00 unités.'],
    ['en', 'You left PayPal through “Cancel”, but this order is already paid: your account was credited with 10.00 units.'],
  ] as const) {
    it(`says an order paid before its cancel link was followed is paid and credited (${language})`, async () => {
      const { number, paypalOrderId } = await ordered();
      await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
      const before = await balanceOf(portal, camille.id);
      const { location, text } = await followCancel(paypalOrderId, language);
      expect(location).to.equal(`/orders/${number}?from=cancel`);
      expect(text).to.include(message).and.not.include(NOTHING_CHARGED[language]);
      expect(await balanceOf(portal, camille.id)).to.equal(before);
    });
  }

  it('asks PayPal first: a payment approved in another tab is captured, credited once and said so', async () => {
    portal.simulator.setWebhookUrl(null); // neither the return nor a webhook came
    const before = await balanceOf(portal, camille.id);
    const credits = await captureCredits(portal);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    const { location, text } = await followCancel(paypalOrderId, 'fr');
    expect(location).to.equal(`/orders/${number}?from=cancel`);
    expect(text).to.include('cette commande est déjà payée : votre compte a été crédité de 10,00 unités.');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
    expect(await captureCredits(portal)).to.equal(credits + 1);
  });

  for (const [language, message] of [
    ['fr', 'le paiement de cette commande est déjà en cours : vos unités seront créditées dès que PayPal l&#39;aura confirmé.'],
    ['en', 'the payment of this order is already under way: your units will be credited as soon as PayPal confirms it.'],
  ] as const) {
    it(`says a payment PayPal is still processing is under way (${language})`, async () => {
      const { number, paypalOrderId } = await ordered();
      portal.simulator.setFault({ type: 'pending' }, { orderId: paypalOrderId });
      await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
      const { location, text } = await followCancel(paypalOrderId, language);
      expect(location).to.equal(`/orders/${number}?from=cancel`);
      expect(text).to.include(message).and.not.include(NOTHING_CHARGED[language]);
    });
  }

  for (const [language, message] of [
    ['fr', "Paiement annulé (commande {{number}}) : rien n&#39;a été débité."],
    ['en', 'Payment cancelled (order {{number}}): nothing was charged.'],
  ] as const) {
    it(`cancels an order PayPal never saw paid and says nothing was charged (${language})`, async () => {
      const { number, paypalOrderId } = await ordered();
      const { location, text } = await followCancel(paypalOrderId, language);
      expect(location).to.equal(`/topup?cancelled=${number}`);
      expect(text).to.include(message.replace('{{number}}', number));
      expect((await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) })).status).to.equal('cancelled');
    });
  }

  for (const [language, message] of [
    ['fr', "Nous n&#39;avons pas pu confirmer l&#39;état de votre paiement auprès de PayPal. Si vous avez été débité, vos unités seront créditées automatiquement."],
    ['en', 'We could not confirm the state of your payment with PayPal. If you were charged, your units will be credited automatically.'],
  ] as const) {
    it(`neither cancels nor says nothing was charged when PayPal cannot be asked, and credits once PayPal answers (${language})`, async () => {
      portal.simulator.setWebhookUrl(null);
      const before = await balanceOf(portal, camille.id);
      const { number, paypalOrderId } = await ordered();
      const back = portal.simulator.approve(paypalOrderId);
      // PayPal captures on the buyer's return but its answers are lost, then it answers nothing at all for a while.
      portal.simulator.setFault({ type: 'http500', times: 3, operation: 'any', afterEffect: true }, { orderId: paypalOrderId });
      await agent.get(pathOf(back));
      const page = await agent.get(`/topup/cancel?token=${paypalOrderId}`).set('Accept-Language', language).expect(200);
      expect(page.text).to.include(message).and.include(number).and.not.include(NOTHING_CHARGED[language]);
      expect((await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) })).status).to.equal('awaiting_payment');

      portal.simulator.clearFaults();
      portal.clock.advance(60_000);
      await portal.checkout.reconcile();
      expect((await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) })).status).to.equal('paid');
      expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
    });
  }

  it('never says "nothing was charged" of an order that is not closed unpaid, whatever the address says', async () => {
    const { number, paypalOrderId } = await ordered();
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const page = await agent.get(`/topup?cancelled=${number}`).expect(200);
    expect(page.text).to.not.include(NOTHING_CHARGED.fr);
  });
});
