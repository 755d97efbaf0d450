import { expect } from 'chai';
import { startTestSimulator, type TestSimulator } from './helpers.js';

describe('PayPal simulator: the buyer’s approval page', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.simulator.stop());

  const post = (action: 'approve' | 'cancel', token: string) =>
    fetch(`${sim.baseUrl}/checkoutnow/${action}`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });

  it('shows the brand, the amount and the two forms in English, under a strict CSP and a simulator banner', async () => {
    const orderId = await sim.createOrder({ value: '15.50' });
    const page = await fetch(`${sim.baseUrl}/checkoutnow?token=${orderId}`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('<title>PayPal Checkout - Review your payment</title>').and.include('Pay Recharge').and.include('€15.50');
    expect(html).to.include('no real money');
    expect(html).to.include('<form method="post" action="/checkoutnow/approve">').and.include('<form method="post" action="/checkoutnow/cancel">');
    expect(html.match(new RegExp(`name="token" value="${orderId}"`, 'g'))).to.have.length(2);
    expect(html).to.include('>Approve</button>').and.include('>Cancel</button>');

    const csp = page.headers.get('content-security-policy') as string;
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(html).to.include(`<style nonce="${nonce}">`);
    expect(csp).to.include("default-src 'none'").and.include("frame-ancestors 'none'").and.include("form-action 'self' https://portal.example");
    const references = [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((match) => match[1]);
    expect(references.filter((url) => !url?.startsWith('/'))).to.deep.equal([]);
  });

  it('speaks French when the order’s locale is French', async () => {
    const orderId = await sim.createOrder({ locale: 'fr-FR', value: '15.50' });
    const html = await (await fetch(`${sim.baseUrl}/checkoutnow?token=${orderId}`)).text();
    expect(html).to.include('<html lang="fr">').and.include('Payer Recharge').and.include('15,50\u00a0€');
    expect(html).to.include('>Payer</button>').and.include('>Annuler et revenir</button>').and.include('aucun argent réel');
  });

  it('approves: the order is APPROVED and the buyer goes back with the token and PayerID', async () => {
    const orderId = await sim.createOrder();
    const answer = await post('approve', orderId);
    expect(answer.status).to.equal(303);
    const location = new URL(answer.headers.get('location') as string);
    expect([location.searchParams.get('token'), location.searchParams.get('PayerID')?.length]).to.deep.equal([orderId, 13]);
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status).to.equal('APPROVED');
  });

  it('cancels: back to cancel_url with the token, the order still waiting for the buyer', async () => {
    const orderId = await sim.createOrder();
    const answer = await post('cancel', orderId);
    expect(answer.status).to.equal(303);
    expect(answer.headers.get('location')).to.equal(`https://portal.example/topup/cancel?token=${orderId}`);
    expect(sim.simulator.cancel(orderId)).to.equal(`https://portal.example/topup/cancel?token=${orderId}`);
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status).to.equal('PAYER_ACTION_REQUIRED');
  });

  it('answers an unknown or finished order with a 404 page', async () => {
    const { orderId } = await sim.capturedOrder();
    for (const token of ['NOSUCHORDER000000', orderId]) {
      const page = await fetch(`${sim.baseUrl}/checkoutnow?token=${token}`, { headers: { 'Accept-Language': 'fr' } });
      expect(page.status).to.equal(404);
      expect(await page.text()).to.include('Ce paiement est inconnu ou déjà terminé.');
      expect((await post('approve', token)).status).to.equal(404);
    }
    expect(() => sim.simulator.approve(orderId)).to.throw(/can no longer be approved/);
    expect(() => sim.simulator.cancel(orderId)).to.throw(/can no longer be cancelled/);
  });
});
