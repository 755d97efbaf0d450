import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import { expect } from 'chai';
import sharp from 'sharp';
import { projectRoot } from '../../src/config.js';
import { createUploadStore } from '../../src/db/branding/upload-store.js';
import { renderDocumentPdf, type DocumentBranding } from '../../src/services/documents/document-pdf.js';
import { createDocumentRenderer, type DocumentRenderer, type DocumentRenderJob } from '../../src/services/documents/document-renderer.js';
import type { DocumentView } from '../../src/services/documents/document-view.js';
import type { IssuedDocument } from '../../src/domain/documents/documents.js';
import { createTranslations, type Locale } from '../../src/i18n/index.js';
import { createBrandDrawing, documentBrandOf } from '../../src/services/branding/document-branding.js';
import { loadThemeFolder } from '../../src/services/branding/theme-folder.js';
import { present, settingsOf } from '../../src/services/branding/theme-service.js';
import { readPdf } from '../helpers/pdf-text.js';
import { compile } from '../helpers/processes.js';
import { STALL_TIMEOUT_MS, STALLING_BUYER, stallingRenderer } from '../helpers/stalling-renderer.js';

const translations = createTranslations();
const TIME_ZONE = 'Europe/Paris';
const PUBLIC_URL = 'https://print.example.edu';

const seller = { name: 'Université Exemple', address: '1 rue de la Paix\n75002 Paris', vatNumber: 'FR12345678901', email: 'compta@universite-exemple.test' };
const buyer = { name: 'Ζωή Ёлкина', username: 'zoe', email: 'zoe@example.edu' };

const receipt: IssuedDocument = {
  id: 1,
  kind: 'receipt',
  number: 'RC-000042',
  seriesNumber: 42,
  orderId: 123,
  quoteId: null,
  refundId: null,
  issuedAt: new Date('2026-11-23T10:00:05Z'),
  locale: 'fr',
  buyer,
  seller,
  brand: null,
};

/** A pack of 20 units with 2 bonus units for 20,00 € (16,67 € + 3,33 € of VAT at 20 %). */
const packOrder: DocumentView['order'] = {
  number: 'R-2026-000123',
  kind: 'pack',
  currency: 'EUR',
  priceCents: 2000,
  netCents: 1667,
  vatCents: 333,
  vatRateBasisPoints: 2000,
  units: 2000,
  bonusUnits: 200,
  paypalCaptureId: 'CAPTURE-7HX81',
  paidAt: new Date('2026-11-23T10:00:00Z'),
};

const receiptView: DocumentView = { document: receipt, order: packOrder, paidQuote: null, boughtCodes: null, refund: null, receiptNumber: null };

const creditNoteView: DocumentView = {
  document: { ...receipt, id: 2, kind: 'credit_note', number: 'CN-000007', seriesNumber: 7, refundId: 'REFUND-5KQ', issuedAt: new Date('2026-11-25T15:30:00Z') },
  order: packOrder,
  paidQuote: null,
  boughtCodes: null,
  refund: { refundId: 'REFUND-5KQ', amountCents: 500, netCents: 417, vatCents: 83, createdAt: new Date('2026-11-25T15:30:00Z') },
  receiptNumber: 'RC-000042',
};

let branding: DocumentBranding;
/** The campus look with a small square logo. */
const sampleBranding = async (): Promise<DocumentBranding> => ({
  organisationName: 'Université Exemple',
  accentColour: '#6d1a36',
  logoPng: await sharp({ create: { width: 64, height: 64, channels: 4, background: '#6d1a36' } }).png().toBuffer(),
});
const render = (view: DocumentView, locale: Locale, changes: Partial<DocumentBranding> = {}) =>
  renderDocumentPdf(view, { t: translations(locale), locale, timeZone: TIME_ZONE, publicUrl: PUBLIC_URL, branding: { ...branding, ...changes } });

describe('receipt and credit note PDFs', () => {
  before(async () => {
    branding = await sampleBranding();
  });

  it('prints a receipt in French: numbers, lines, amounts excluding VAT, VAT with its rate, total and the PayPal transaction', async () => {
    const { text, pages } = await readPdf(await render(receiptView, 'fr'));
    expect(pages).to.equal(1);
    for (const expected of [
      'Reçu',
      'Numéro du reçu RC-000042',
      'Commande R-2026-000123',
      "Date d'émission 23 nov. 2026, 11:00",
      'Recharger le compte avec 20,00 unités 20,00 €',
      'Bonus offert : 2,00 unités',
      'Unités créditées : 22,00 unités',
      'Montant HT 16,67 €',
      'TVA (20 %) 3,33 €',
      'Total TTC 20,00 €',
      'Mode de paiement PayPal',
      'Transaction PayPal CAPTURE-7HX81',
      'Payé le 23 nov. 2026, 11:00',
      'N° TVA intracommunautaire : FR12345678901',
      '75002 Paris',
      'compta@universite-exemple.test',
      'Identifiant : zoe',
      'Document généré par Université Exemple — page 1/1',
    ]) {
      expect(text).to.include(expected);
    }
    expect(text).not.to.include('Amount excl. VAT').and.not.to.include('Avoir');
  });

  it('prints the same receipt in English for a reader of English', async () => {
    const { text } = await readPdf(await render(receiptView, 'en'));
    for (const expected of [
      'Receipt',
      'Receipt number RC-000042',
      'Order R-2026-000123',
      'Top up the account with 20.00 units €20.00',
      'Free bonus: 2.00 units',
      'Amount excl. VAT €16.67',
      'VAT (20%) €3.33',
      'Total incl. VAT €20.00',
      'Payment method PayPal',
      'PayPal transaction CAPTURE-7HX81',
      'VAT number: FR12345678901',
      'Document generated by Université Exemple — page 1/1',
    ]) {
      expect(text).to.include(expected);
    }
    expect(text).not.to.include('Montant HT').and.not.to.include('TVA (');
  });

  it('keeps Greek and Cyrillic names and the narrow spaces of French thousands', async () => {
    const free = { ...packOrder, kind: 'free_amount' as const, priceCents: 123_456, netCents: 102_880, vatCents: 20_576, units: 123_456, bonusUnits: 0 };
    const { text } = await readPdf(await render({ ...receiptView, order: free }, 'fr'));
    expect(text).to.include('Ζωή Ёлкина');
    expect(text).to.include('Recharger le compte de 1 234,56 €').and.include('Montant HT 1 028,80 €').and.include('TVA (20 %) 205,76 €');
    expect(text).not.to.include('Bonus offert');
  });

  it('prints a credit note with the refund amounts, the receipt it corrects and the PayPal refund', async () => {
    const french = (await readPdf(await render(creditNoteView, 'fr'))).text;
    for (const expected of [
      'Avoir',
      "Numéro de l'avoir CN-000007",
      'Commande R-2026-000123',
      'Reçu corrigé RC-000042',
      'Remboursement de la commande R-2026-000123 5,00 €',
      'Montant HT 4,17 €',
      'TVA (20 %) 0,83 €',
      'Total remboursé TTC 5,00 €',
      'Mode de remboursement PayPal',
      'Remboursement PayPal REFUND-5KQ',
      'Remboursé le 25 nov. 2026, 16:30',
    ]) {
      expect(french).to.include(expected);
    }
    expect(french).not.to.include('20,00 €');
    const english = (await readPdf(await render(creditNoteView, 'en'))).text;
    for (const expected of ['Credit note', 'Credit note number CN-000007', 'Corrects receipt RC-000042', 'Amount excl. VAT €4.17', 'VAT (20%) €0.83', 'Total refunded incl. VAT €5.00', 'PayPal refund REFUND-5KQ']) {
      expect(english).to.include(expected);
    }
  });

  it('prints only the seller lines that are set', async () => {
    const bare = { ...receipt, seller: { name: 'Recharge', address: '', vatNumber: '', email: '' } };
    const { lines } = await readPdf(await render({ ...receiptView, document: bare }, 'fr', { organisationName: 'Recharge', logoPng: null }));
    expect(lines.join('\n')).not.to.include('TVA intracommunautaire');
    // The seller's column holds its name only: the buyer's lines beside it are all that follow on those rows.
    const nameRow = lines.findIndex((line) => line.startsWith('Recharge Ζωή Ёлкина'));
    expect(nameRow).to.be.greaterThan(-1);
    expect(lines.slice(nameRow + 1, nameRow + 3)).to.deep.equal(['Identifiant : zoe', 'zoe@example.edu']);
  });

  it('renders the same document to the same bytes, with its number, seller and issue date as metadata', async () => {
    const first = await render(receiptView, 'fr');
    expect((await render(receiptView, 'fr')).equals(first)).to.equal(true);
    const { info } = await readPdf(first);
    expect(info).to.include({ Title: 'RC-000042', Author: 'Université Exemple', CreationDate: 'D:20261123100005Z' });
  });
});

describe('receipt and credit note PDFs on the render thread', () => {
  let renderer: DocumentRenderer;
  const job = (view: DocumentView, locale: Locale = 'fr'): DocumentRenderJob => ({ view, locale, timeZone: TIME_ZONE, publicUrl: PUBLIC_URL, branding });
  before(async () => {
    branding = await sampleBranding();
  });
  beforeEach(() => {
    renderer = createDocumentRenderer();
  });
  afterEach(() => renderer.close());

  it('draws on a thread of its own the very bytes drawn here', async () => {
    const [receiptPdf, creditNotePdf, english] = await Promise.all([renderer.render(job(receiptView)), renderer.render(job(creditNoteView)), renderer.render(job(receiptView, 'en'))]);
    for (const rendered of [receiptPdf, creditNotePdf, english]) expect(rendered!.threadId).to.be.a('number').and.not.equal(mainThreadId);
    expect(receiptPdf.pdf.equals(await render(receiptView, 'fr'))).to.equal(true);
    expect(creditNotePdf.pdf.equals(await render(creditNoteView, 'fr'))).to.equal(true);
    expect(english.pdf.equals(await render(receiptView, 'en'))).to.equal(true);
  });

  it('fails a document it cannot draw with the reason, and draws the next one on the same thread', async () => {
    const first = await renderer.render(job(receiptView));
    // A currency code Intl refuses, as a damaged row could hold.
    const unreadable = { ...receiptView, order: { ...packOrder, currency: 'E1' as typeof packOrder.currency } };
    let failure: unknown;
    await renderer.render(job(unreadable)).catch((error: unknown) => (failure = error));
    expect(failure).to.be.an('error').with.property('message', 'render thread: Invalid currency code : E1');
    // Something that cannot be copied to a thread is refused before it gets there.
    failure = undefined;
    await renderer.render({ ...job(receiptView), timeZone: (() => TIME_ZONE) as unknown as string }).catch((error: unknown) => (failure = error));
    expect(failure).to.have.property('name', 'DataCloneError');
    expect((await renderer.render(job(receiptView))).threadId).to.equal(first.threadId);
  });

  it('fails the documents asked for when it is closed, and starts another thread for the next ones', async () => {
    const first = await renderer.render(job(receiptView));
    const pending = Promise.allSettled([renderer.render(job(receiptView)), renderer.render(job(creditNoteView))]);
    await renderer.close();
    const outcomes = await pending;
    expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).message : 'drawn'))).to.deep.equal([
      'the document renderer was closed',
      'the document renderer was closed',
    ]);
    const next = await renderer.render(job(creditNoteView));
    expect(next.threadId).to.not.equal(first.threadId).and.not.equal(mainThreadId);
    expect(next.pdf.equals(await render(creditNoteView, 'fr'))).to.equal(true);
  });

  it('stops a thread that hangs over a document, fails that document, and draws the documents waiting behind it on a new thread', async () => {
    const stalling = stallingRenderer();
    try {
      const first = await stalling.render(job(receiptView));
      const hanging = { ...receiptView, document: { ...receipt, buyer: { ...buyer, name: STALLING_BUYER } } };
      const [hung, waitingReceipt, waitingCreditNote] = await Promise.allSettled([stalling.render(job(hanging)), stalling.render(job(receiptView)), stalling.render(job(creditNoteView))]);
      expect(hung).to.deep.include({ status: 'rejected' });
      expect((hung as PromiseRejectedResult).reason).to.be.an('error').with.property('message', `the render thread took more than ${STALL_TIMEOUT_MS} ms over a document and was stopped`);
      const drawn = [waitingReceipt, waitingCreditNote].map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : expect.fail(String(outcome.reason))));
      expect(drawn.map((rendered) => rendered.threadId === first.threadId)).to.deep.equal([false, false]);
      expect(drawn[0]!.pdf.equals(await render(receiptView, 'fr'))).to.equal(true);
      expect(drawn[1]!.pdf.equals(await render(creditNoteView, 'fr'))).to.equal(true);
    } finally {
      await stalling.close();
    }
  });

  it('draws the very same bytes in the compiled build (npm run build), on its compiled thread', async function () {
    this.timeout(180_000);
    await compile();
    const compiledModule = pathToFileURL(path.join(projectRoot, 'dist/src/services/documents/document-renderer.js')).href;
    const compiled = ((await import(compiledModule)) as { createDocumentRenderer: typeof createDocumentRenderer }).createDocumentRenderer();
    try {
      const [french, english] = await Promise.all([compiled.render(job(receiptView)), compiled.render(job(creditNoteView, 'en'))]);
      expect(french.threadId).to.not.equal(mainThreadId);
      expect(french.pdf.equals(await render(receiptView, 'fr'))).to.equal(true);
      expect(english.pdf.equals(await render(creditNoteView, 'en'))).to.equal(true);
    } finally {
      await compiled.close();
    }
  });
});

describe('documents drawn one after another on one render thread', () => {
  /**
   * Receipts and a credit note in both languages, each with letters none of the others has (in the buyer's
   * name and in its own wording: « », ß, ç, Greek, Cyrillic…), and what each must read back as.
   */
  const documents: Array<{ view: DocumentView; locale: Locale; expected: string[] }> = [
    {
      view: { ...receiptView, document: { ...receipt, number: 'RC-000101', buyer: { ...buyer, name: 'Élodie « Straße »' } } },
      locale: 'fr',
      expected: ['Reçu', 'Numéro du reçu RC-000101', 'Université Exemple Élodie « Straße »', 'Recharger le compte avec 20,00 unités 20,00 €', 'TVA (20 %) 3,33 €'],
    },
    {
      view: { ...receiptView, document: { ...receipt, number: 'RC-000102', buyer: { ...buyer, name: 'Ζωή Ёлкина' } } },
      locale: 'en',
      expected: ['Receipt', 'Receipt number RC-000102', 'Université Exemple Ζωή Ёлкина', 'Top up the account with 20.00 units €20.00', 'Total incl. VAT €20.00'],
    },
    {
      view: { ...creditNoteView, document: { ...creditNoteView.document, number: 'CN-000103', buyer: { ...buyer, name: 'Łukasz Þórsson' } } },
      locale: 'fr',
      expected: ['Avoir', "Numéro de l'avoir CN-000103", 'Université Exemple Łukasz Þórsson', 'Remboursement de la commande R-2026-000123 5,00 €', 'Total remboursé TTC 5,00 €'],
    },
    {
      view: { ...creditNoteView, document: { ...creditNoteView.document, number: 'CN-000104', buyer: { ...buyer, name: 'Çağla Núñez' } } },
      locale: 'en',
      expected: ['Credit note', 'Credit note number CN-000104', 'Université Exemple Çağla Núñez', 'Total refunded incl. VAT €5.00', 'Corrects receipt RC-000042'],
    },
  ];
  const renderers: DocumentRenderer[] = [];
  before(async () => {
    branding = await sampleBranding();
  });
  afterEach(async () => {
    await Promise.all(renderers.splice(0).map((renderer) => renderer.close()));
  });

  /** Each document drawn on one thread, one after the other in `order`. */
  async function drawInTurn(order: number[]): Promise<Map<number, { pdf: Buffer; threadId: number }>> {
    const renderer = createDocumentRenderer();
    renderers.push(renderer);
    const drawn = new Map<number, { pdf: Buffer; threadId: number }>();
    for (const index of order) {
      const { view, locale } = documents[index]!;
      drawn.set(index, await renderer.render({ view, locale, timeZone: TIME_ZONE, publicUrl: PUBLIC_URL, branding }));
    }
    return drawn;
  }

  it('reads each one back with its own text, whatever was drawn before it, and draws it to the same bytes in any order', async () => {
    const forwards = await drawInTurn([0, 1, 2, 3]);
    const backwards = await drawInTurn([3, 2, 1, 0]);
    for (const drawn of [forwards, backwards]) expect(new Set([...drawn.values()].map((rendered) => rendered.threadId)).size).to.equal(1);
    for (const [index, { expected }] of documents.entries()) {
      for (const drawn of [forwards, backwards]) {
        const { text } = await readPdf(drawn.get(index)!.pdf);
        for (const line of expected) expect(text, `document ${index}`).to.include(line);
      }
    }
    for (const index of documents.keys()) expect(forwards.get(index)!.pdf.equals(backwards.get(index)!.pdf), `document ${index}`).to.equal(true);
  });
});

describe('documents in the published theme', () => {
  const themesDir = path.join(projectRoot, 'themes');
  const themeFolder = (name: string) => loadThemeFolder(themesDir, name, path.join(projectRoot, 'views'));
  let uploadsDir: string;
  before(async () => {
    uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-document-logo-'));
  });
  after(() => rm(uploadsDir, { recursive: true, force: true }));

  it("records the theme's name, primary colour and logo asset, and draws its SVG logo as a small PNG once", async () => {
    const brand = documentBrandOf(present(themeFolder('default'), null, null), themesDir);
    expect(brand).to.deep.equal({ organisationName: 'Recharge', accentColour: '#1d4f91', logo: 'theme:default/assets/logo.svg' });
    const draw = createBrandDrawing({ uploads: createUploadStore(uploadsDir), themesDir });
    const first = await draw(brand);
    expect(first).to.include({ organisationName: 'Recharge', accentColour: '#1d4f91' });
    const { format, width, height } = await sharp(first.logoPng!).metadata();
    expect({ format, width, height }).to.deep.equal({ format: 'png', width: 256, height: 256 });
    expect((await draw(brand)).logoPng).to.equal(first.logoPng);
  });

  it('records an uploaded logo by its id and draws it within 256 pixels, with a readable colour on paper', async () => {
    const uploads = createUploadStore(uploadsDir);
    const id = await uploads.write(await sharp({ create: { width: 512, height: 256, channels: 3, background: '#336699' } }).png().toBuffer());
    const folder = themeFolder('campus');
    const dark = { ...settingsOf(folder), colours: { primary: '#f5d76e', accent: '#ffb000', background: '#101010', text: '#f0f0f0' }, logoUploadId: id };
    const brand = documentBrandOf(present(folder, dark, 1), themesDir);
    expect(brand).to.deep.equal({ organisationName: 'Université Exemple', accentColour: '#000000', logo: `upload:${id}` });
    const { width, height } = await sharp((await createBrandDrawing({ uploads, themesDir })(brand)).logoPng!).metadata();
    expect({ width, height }).to.deep.equal({ width: 256, height: 128 });
  });

  it('leaves the logo out of documents when its file is gone, is no image, or is not where logos are', async () => {
    const uploads = createUploadStore(uploadsDir);
    const draw = createBrandDrawing({ uploads, themesDir });
    const notAnImage = await uploads.write(Buffer.from('not an image'));
    for (const logo of [`upload:${'0'.repeat(32)}`, `upload:${notAnImage}`, 'theme:default/assets/gone.svg', 'theme:../package.json', 'elsewhere:logo.png']) {
      const branding = await draw({ organisationName: 'Recharge', accentColour: '#1d4f91', logo });
      expect(branding.logoPng, logo).to.equal(null);
      expect((await readPdf(await render(receiptView, 'fr', branding))).text).to.include('Numéro du reçu RC-000042');
    }
  });
});
