import { expect } from 'chai';
import type supertest from 'supertest';
import { formFields, withChanges } from './html-form.js';
import type { TestPortal } from './portal.js';

/** A thesis printed and bound, at two VAT rates, for a customer posting to Paris: the new-quote form's fields as typed. */
export const thesisQuoteFields = (validUntil: string): Record<string, string> => ({
  name: 'Camille Martin',
  email: 'camille.martin@example.edu',
  postcode: '75 005',
  deliveryMethod: 'post',
  deliveryAddress: '12 rue des Écoles\n75005 Paris',
  validUntil,
  'description-0': 'Thèse, impression couleur',
  'quantity-0': '3',
  'unitPrice-0': '12,50',
  'vatRate-0': '20',
  'description-1': 'Reliure thermocollée',
  'quantity-1': '3',
  'unitPrice-1': '3,33',
  'vatRate-1': '5,5',
});

/** The thesis quote's lines and totals as its PDFs print them (the quote sent, and the receipt of its payment). */
export const THESIS_QUOTE_LINES_IN_PDF = [
  'Thèse, impression couleur 3 12,50 € 20 % 37,50 €',
  'Reliure thermocollée 3 3,33 € 5,5 % 9,99 €',
  'Montant HT 40,72 €',
  'TVA 20 % sur 37,50 € 6,25 €',
  'TVA 5,5 % sur 9,99 € 0,52 €',
  'Total TTC 47,49 €',
] as const;

type Agent = ReturnType<typeof supertest.agent>;

const DAY_MS = 24 * 3600_000;

/** The portal's day `days` from the test clock's now (Europe/Paris, the clock at 10:00 UTC). */
export const dayFromNow = (portal: TestPortal, days: number) => new Date(portal.clock.now().getTime() + days * DAY_MS).toISOString().slice(0, 10);

/** A quote drafted by `desk` from the thesis fields with `changes`, valid 30 days; answers its number. */
export async function draftQuote(portal: TestPortal, desk: Agent, changes: Record<string, string> = {}): Promise<string> {
  const page = await desk.get('/desk/quotes/new').expect(200);
  const form = withChanges(formFields(page.text, '/desk/quotes/new'), { ...thesisQuoteFields(dayFromNow(portal, 30)), ...changes });
  const response = await desk.post('/desk/quotes/new').type('form').send(form);
  expect(response.status, response.text.slice(0, 1500)).to.equal(303);
  return /^\/desk\/quotes\/(D-\d{4}-\d{6})\?notice=created$/.exec(String(response.headers.location))![1]!;
}

/** A quote drafted and sent by `desk` (the portal needs SELLER_EMAIL); answers its number. */
export async function sentQuote(portal: TestPortal, desk: Agent, changes: Record<string, string> = {}): Promise<string> {
  const number = await draftQuote(portal, desk, changes);
  await sendDraft(desk, number);
  return number;
}

/** "Envoyer au client" on a draft, as `desk`. */
export async function sendDraft(desk: Agent, number: string): Promise<void> {
  const page = await desk.get(`/desk/quotes/${number}`).expect(200);
  const response = await desk.post(`/desk/quotes/${number}/send`).type('form').send(formFields(page.text, `/desk/quotes/${number}/send`));
  expect(response.status, response.text.slice(0, 1500)).to.equal(303);
}

/** "Recherche de commande" with this number and postcode, as typed; answers the lookup's response. */
export async function lookUpQuote(agent: Agent, number: string, postcode: string) {
  const page = await agent.get('/quotes/lookup').expect(200);
  return agent.post('/quotes/lookup').type('form').send(withChanges(formFields(page.text, '/quotes/lookup'), { number, postcode }));
}
