import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { QuoteDraftInput } from '../../domain/quotes/quote-draft.js';
import { addDays, dayOf, type DayKey } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import { createDocumentIssuing } from '../documents/document-issuing.js';
import type { UserManagement } from '../people/user-management.js';
import { createQuoteDesk } from '../quotes/quote-desk.js';
import { createQuoteExpiry } from '../quotes/quote-expiry.js';
import { createQuoteSending } from '../quotes/quote-sending.js';
import { DEMO_LOGINS } from './demo-logins.js';

/** What the start banner says of the demo quotes: what a tester types to find the one to pay, and the others. */
export interface DemoQuotes {
  /** Sent to a customer without an account: found with its number and postcode, paid through PayPal. */
  payable: { number: string; postcode: string };
  /** Sent to the demo student, who may pay it from their units. */
  forStudent: { number: string; username: string };
  /** A draft the demo desk person may edit and send. */
  draft: { number: string };
}

/** Each demo quote may be paid or sent for 30 days from the day it is made. */
export const DEMO_QUOTE_VALIDITY_DAYS = 30;

const STUDENT = DEMO_LOGINS.find((login) => login.role === 'user' && !login.quoteDesk)!;
const DESK = DEMO_LOGINS.find((login) => login.quoteDesk)!;

/** The desk's form as a person types it, valid until `validUntil`. */
type DemoQuoteInput = (validUntil: DayKey) => QuoteDraftInput;

/** A thesis, its binding and a poster for someone without an account: printing at 20 %, the bound thesis (a book) at 5,5 %. */
const PAYABLE: DemoQuoteInput = (validUntil) => ({
  name: 'Élise Bernard',
  email: 'elise.bernard@example.org',
  postcode: '75005',
  deliveryMethod: 'post',
  deliveryAddress: '12 rue des Écoles\n75005 Paris',
  validUntil,
  username: '',
  staffNote: 'Thèse de doctorat : trois exemplaires pour le jury.',
  locale: 'fr',
  lines: [
    { description: 'Impression thèse 180 pages couleur', quantity: '3', unitPrice: '27,00', vatRate: '20' },
    { description: 'Reliure thermocollée', quantity: '3', unitPrice: '6,50', vatRate: '5,5' },
    { description: 'Affiche A1 couleur', quantity: '1', unitPrice: '18,00', vatRate: '20' },
  ],
});

/** The demo student's dissertation, picked up at the desk, with a price in units (1 unit = 1,00 € in the demo prices). */
const FOR_STUDENT: DemoQuoteInput = (validUntil) => ({
  name: STUDENT.displayName,
  email: STUDENT.email,
  postcode: '75013',
  deliveryMethod: 'pickup',
  deliveryAddress: '',
  validUntil,
  username: STUDENT.username,
  staffNote: '',
  locale: 'fr',
  unitsPrice: '12,20',
  lines: [
    { description: 'Impression mémoire 60 pages noir et blanc recto verso', quantity: '2', unitPrice: '3,60', vatRate: '20' },
    { description: 'Reliure spirale', quantity: '2', unitPrice: '2,50', vatRate: '20' },
  ],
});

/** A student association's concert programmes, not sent yet. */
const DRAFT: DemoQuoteInput = (validUntil) => ({
  name: 'Association Musique en Sorbonne',
  email: 'bureau@musique-sorbonne.example.org',
  postcode: '75005',
  deliveryMethod: 'pickup',
  deliveryAddress: '',
  validUntil,
  username: '',
  staffNote: 'Attendre le fichier définitif avant d’envoyer.',
  locale: 'fr',
  lines: [{ description: 'Programme de concert A5 couleur', quantity: '200', unitPrice: '0,45', vatRate: '20' }],
});

export interface DemoQuoteDependencies {
  db: Database;
  clock: Clock;
  users: UserManagement;
  config: Pick<Config, 'i18n' | 'seller' | 'server'>;
}

/**
 * Three quotes of the demo desk person, made and sent through the desk's own services (sending puts
 * the quote's mail in the outbox, which demo mode keeps in the admin mailbox). Idempotent: a demo
 * quote is found again by its customer's e-mail and made anew only when it is no longer as the demo
 * left it — the sent ones no longer payable (a tester paid them, or their 30 days went by), the draft
 * no longer a draft — so that each start offers a quote to try. Null when quotes cannot be sent (no
 * SELLER_EMAIL: a quote's mail asks its customer to reply) or the desk person is gone, disabled or no longer of the desk.
 */
export async function seedDemoQuotes({ db, clock, users, config }: DemoQuoteDependencies): Promise<DemoQuotes | null> {
  const desk = await users.findUser(DESK.username);
  if (config.seller.email === '' || !desk?.quoteDesk || desk.disabled) return null;
  const actor: AuditActor = { id: desk.id, username: desk.username };
  const timeZone = config.i18n.timeZone;
  const quotes = createQuoteDesk({ db, clock, timeZone, defaultLocale: config.i18n.defaultLocale, expiry: createQuoteExpiry({ db, timeZone }) });
  const documents = createDocumentIssuing({ seller: config.seller, defaultLocale: config.i18n.defaultLocale, mailDomain: new URL(config.server.publicUrl).hostname });
  // Nothing to hurry: the PDF is rendered when first asked for, and the mail goes with the portal's first delivery run.
  const sending = createQuoteSending({ db, clock, timeZone, sellerEmail: config.seller.email, documents, onMailQueued: () => undefined });
  const today = dayOf(clock.now(), timeZone);
  const validUntil = addDays(today, DEMO_QUOTE_VALIDITY_DAYS);

  /** The number of the newest quote made out to `input`'s e-mail if `usable`, else of a new one (sent if asked). */
  async function demoQuote(input: QuoteDraftInput, usable: (quote: { status: string; validUntil: DayKey }) => boolean, send: boolean): Promise<string> {
    const [newest] = (await quotes.list({ text: String(input.email) }, { limit: 1, offset: 0 })).rows;
    if (newest && usable(newest)) return newest.number;
    const draft = await quotes.createDraft(actor, input);
    if (send) await sending.send(actor, draft.id);
    return draft.number;
  }
  const stillPayable = (quote: { status: string; validUntil: DayKey }) => quote.status === 'sent' && quote.validUntil >= today;

  const payable = PAYABLE(validUntil);
  return {
    payable: { number: await demoQuote(payable, stillPayable, true), postcode: String(payable.postcode) },
    forStudent: { number: await demoQuote(FOR_STUDENT(validUntil), stillPayable, true), username: STUDENT.username },
    draft: { number: await demoQuote(DRAFT(validUntil), (quote) => quote.status === 'draft', false) },
  };
}
