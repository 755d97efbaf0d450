/**
 * What makes a mail of the outbox one mail (`mail_outbox.send_key`, unique): queued twice under the
 * same key, it is queued once. A document's own mail is keyed by the document, so it is queued once
 * however many paths issue it; a quote sent again is a new mail on purpose, keyed by the "send again"
 * form's nonce, so one click queues one mail however often the form is submitted.
 */
export const outboxKeys = {
  document: (documentId: number) => `document:${documentId}`,
  quoteResend: (quoteId: number, nonce: string) => `resend:${quoteId}:${nonce}`,
};
