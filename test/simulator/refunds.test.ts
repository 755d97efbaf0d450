import { expect } from 'chai';
import { toCents } from '../../src/payments/paypal/simulator/money.js';
import { startTestSimulator, type TestSimulator } from './helpers.js';

describe('PayPal simulator: Payments v2 refunds', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  afterEach(() => sim.simulator.clearFaults());
  after(() => sim.simulator.stop());

  const refund = (captureId: string, body?: unknown, headers: Record<string, string> = {}) => sim.call('POST', `/v2/payments/captures/${captureId}/refund`, { body, headers });
  const captureOf = async (captureId: string) => (await sim.call('GET', `/v2/payments/captures/${captureId}`)).body;
  const issueOf = (answer: { body: { details: Array<{ issue: string }> } }) => answer.body.details[0]?.issue;

  it('refunds in part, then the rest, listing each refund on the order', async () => {
    const { orderId, captureId } = await sim.capturedOrder({ value: '20.00' });
    const partial = await refund(captureId, { amount: { value: '5.00', currency_code: 'EUR' } });
    expect(partial.status).to.equal(201);
    expect(partial.body).to.deep.include({ status: 'COMPLETED', amount: { currency_code: 'EUR', value: '5.00' }, custom_id: '1234' });
    expect(partial.body.seller_payable_breakdown.total_refunded_amount).to.deep.equal({ currency_code: 'EUR', value: '5.00' });
    expect(partial.body.links).to.deep.equal([
      { href: `${sim.baseUrl}/v2/payments/refunds/${partial.body.id}`, rel: 'self', method: 'GET' },
      { href: `${sim.baseUrl}/v2/payments/captures/${captureId}`, rel: 'up', method: 'GET' },
    ]);
    expect((await captureOf(captureId)).status).to.equal('PARTIALLY_REFUNDED');

    const rest = await refund(captureId);
    expect(rest.status).to.equal(201);
    expect(rest.body.amount).to.deep.equal({ currency_code: 'EUR', value: '15.00' });
    expect((await captureOf(captureId)).status).to.equal('REFUNDED');
    const refundedFees = [partial, rest].map((answer) => toCents(answer.body.seller_payable_breakdown.paypal_fee.value));
    const captureFee = toCents((await captureOf(captureId)).seller_receivable_breakdown.paypal_fee.value);
    expect(refundedFees[0]! + refundedFees[1]!, 'the fee goes back in full over the refunds').to.equal(captureFee);

    const order = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
    expect(order.body.purchase_units[0].payments.refunds.map((entry: { id: string }) => entry.id)).to.deep.equal([partial.body.id, rest.body.id]);
    expect((await sim.call('GET', `/v2/payments/refunds/${partial.body.id}`)).body).to.deep.equal(partial.body);
  });

  it('refuses a refund beyond what is left, in another currency, of zero, or malformed', async () => {
    const { captureId } = await sim.capturedOrder({ value: '10.00' });
    expect((await refund(captureId, { amount: { value: '4.00', currency_code: 'EUR' } })).status).to.equal(201);
    const exceeded = await refund(captureId, { amount: { value: '6.01', currency_code: 'EUR' } });
    expect(exceeded.status).to.equal(422);
    expect(issueOf(exceeded)).to.equal('REFUND_AMOUNT_EXCEEDED');
    expect(issueOf(await refund(captureId, { amount: { value: '1.00', currency_code: 'USD' } }))).to.equal('REFUND_CAPTURE_CURRENCY_MISMATCH');
    expect(issueOf(await refund(captureId, { amount: { value: '0.00', currency_code: 'EUR' } }))).to.equal('CANNOT_BE_ZERO_OR_NEGATIVE');
    const syntax = await refund(captureId, { amount: { value: '1,50', currency_code: 'EUR' } });
    expect(syntax.status).to.equal(400);
    expect(issueOf(syntax)).to.equal('INVALID_PARAMETER_SYNTAX');
    expect((await refund(captureId)).status, 'an empty body refunds the rest').to.equal(201);
    const again = await refund(captureId);
    expect(again.status).to.equal(422);
    expect(issueOf(again)).to.equal('CAPTURE_FULLY_REFUNDED');
    expect((await sim.call('POST', '/v2/payments/captures/NOSUCHCAPTURE0000/refund')).status).to.equal(404);
  });

  it('refuses to refund a pending capture', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'pending' }, { orderId });
    const captured = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: { Prefer: 'return=representation' } });
    const pending = await refund(captured.body.purchase_units[0].payments.captures[0].id);
    expect(pending.status).to.equal(422);
    expect(issueOf(pending)).to.equal('PENDING_CAPTURE');
  });

  it('replays a refund with the same PayPal-Request-Id instead of refunding twice', async () => {
    const { captureId } = await sim.capturedOrder({ value: '10.00' });
    const headers = { 'PayPal-Request-Id': `refund-${captureId}` };
    const first = await refund(captureId, { amount: { value: '3.00', currency_code: 'EUR' } }, headers);
    const second = await refund(captureId, { amount: { value: '3.00', currency_code: 'EUR' } }, headers);
    expect(second.status).to.equal(first.status);
    expect(second.body).to.deep.equal(first.body);
    expect((await captureOf(captureId)).status).to.equal('PARTIALLY_REFUNDED');
    expect(issueOf(await refund(captureId, { amount: { value: '7.01', currency_code: 'EUR' } }))).to.equal('REFUND_AMOUNT_EXCEEDED');
  });

  it('refunds from the dashboard, and reverses what is left after a chargeback', async () => {
    const { orderId, captureId } = await sim.capturedOrder({ value: '30.00' });
    sim.simulator.refundCapture(orderId, '10.00');
    expect((await captureOf(captureId)).status).to.equal('PARTIALLY_REFUNDED');
    expect(() => sim.simulator.refundCapture(orderId, '25.00')).to.throw(/REFUND_AMOUNT_EXCEEDED/);
    expect(() => sim.simulator.refundCapture(orderId, 'ten')).to.throw(/not an amount/);

    sim.simulator.reverseCapture(orderId);
    expect((await captureOf(captureId)).status).to.equal('REVERSED');
    const order = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
    expect(order.body.purchase_units[0].payments.refunds, 'a reversal is not a merchant refund').to.have.length(1);
    expect(issueOf(await refund(captureId))).to.equal('REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK');
    expect(() => sim.simulator.reverseCapture(orderId)).to.throw(/REVERSED/);
  });
});
