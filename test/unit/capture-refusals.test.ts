import { expect } from 'chai';
import { captureRefusalOf } from '../../src/services/checkout/capture-refusals.js';
import { GatewayError } from '../../src/payments/gateway.js';

/** A capture refused by PayPal with HTTP 422 and this issue, as the PayPal client reports it. */
const unprocessable = (issue: string) => new GatewayError(issue === 'INSTRUMENT_DECLINED' ? 'instrument_declined' : 'rejected', `capture: HTTP 422 ${issue}`, { status: 422, issue });

describe('capture refusals', () => {
  it("leaves to the buyer only what the buyer can change at PayPal", () => {
    for (const issue of ['INSTRUMENT_DECLINED', 'PAYER_ACTION_REQUIRED', 'REDIRECT_PAYER_FOR_ALTERNATE_FUNDING', 'PAYER_CANNOT_PAY', 'TRANSACTION_REFUSED']) {
      expect(captureRefusalOf(unprocessable(issue)), issue).to.equal('buyer');
    }
  });

  it("gives every other 422 to the seller's admins, an issue PayPal may add later included", () => {
    for (const issue of ['PAYEE_ACCOUNT_RESTRICTED', 'PAYEE_BLOCKED_TRANSACTION', 'DUPLICATE_INVOICE_ID', 'COMPLIANCE_VIOLATION', 'TRANSACTION_RECEIVING_LIMIT_EXCEEDED', 'SOMETHING_NEW']) {
      expect(captureRefusalOf(unprocessable(issue)), issue).to.equal('seller');
    }
    expect(captureRefusalOf(new GatewayError('rejected', 'capture: HTTP 422', { status: 422 })), 'no issue named').to.equal('seller');
  });

  it("gives a request PayPal refuses as such (bad request, permission denied) to the seller's admins: sent again, it would be refused again", () => {
    for (const status of [400, 403]) expect(captureRefusalOf(new GatewayError('rejected', `capture: HTTP ${status}`, { status })), String(status)).to.equal('seller');
  });

  it('takes refused credentials (401) for no refusal: every call fails with them, look-ups included, and they say nothing of the payment', () => {
    expect(captureRefusalOf(new GatewayError('rejected', 'capture: HTTP 401', { status: 401 }))).to.equal(null);
  });

  it('takes "not yet" for no refusal: PayPal still completing the order, or still answering the same request id', () => {
    for (const issue of ['ORDER_COMPLETION_IN_PROGRESS', 'PREVIOUS_REQUEST_IN_PROGRESS']) {
      expect(captureRefusalOf(new GatewayError('rejected', `capture: HTTP 422 ${issue}`, { status: 422, issue })), issue).to.equal(null);
    }
  });

  it('takes an unclear answer, or an order already captured or not approved yet, for no refusal', () => {
    expect(captureRefusalOf(new GatewayError('unknown_outcome', 'capture: HTTP 500', { status: 500 }))).to.equal(null);
    expect(captureRefusalOf(new GatewayError('already_captured', 'capture: HTTP 422 ORDER_ALREADY_CAPTURED', { status: 422, issue: 'ORDER_ALREADY_CAPTURED' }))).to.equal(null);
    expect(captureRefusalOf(new GatewayError('not_approved', 'capture: HTTP 422 ORDER_NOT_APPROVED', { status: 422, issue: 'ORDER_NOT_APPROVED' }))).to.equal(null);
    expect(captureRefusalOf(new GatewayError('rejected', 'capture: HTTP 409', { status: 409 }))).to.equal(null);
  });
});
