/** The idempotency keys of an order's postings: whichever path records an effect first, the others find it. */
export const paymentLedgerKeys = {
  credit: (captureId: string) => `paypal-capture:${captureId}`,
  refund: (refundId: string) => `paypal-refund:${refundId}`,
  /** The rounding remainder, once the whole price is refunded. */
  refundRest: (captureId: string) => `paypal-refund-rest:${captureId}`,
  reversal: (captureId: string) => `paypal-reversal:${captureId}`,
};
