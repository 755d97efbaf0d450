import { expect } from 'chai';
import supertest from 'supertest';
import { loadPriceList, loadPriceListVersion, replacePriceList } from '../../src/db/pricing/price-list-repository.js';
import { DEMO_PRICE_LIST } from '../../src/services/demo/demo.js';
import { MAX_BONUS_TIERS, MAX_PACKS, type PriceList } from '../../src/domain/pricing/pricing.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** Intl puts narrow no-break spaces in French amounts ("20,00\u202f€"); compare with plain spaces. */
const plain = (html: string) => html.replace(/[\u202f\u00a0]/g, ' ');
/** The offers of a top-up page, as the browser shows them: the same markup in the preview and for users. */
const offersOf = (html: string) => {
  const start = html.indexOf('<fieldset class="offers"');
  expect(start, 'offers on the page').to.be.greaterThan(-1);
  return html.slice(start, html.indexOf('</fieldset>', start));
};

describe(`administration: price list (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let admin: Agent;
  let english: Agent;

  /** What is published, what is drafted and audited: none of it may change on refused input. */
  const state = async () => ({
    priceList: await loadPriceList(portal.db.knex),
    version: await loadPriceListVersion(portal.db.knex),
    drafts: (await portal.db.knex('price_list_drafts').count({ count: '*' }).first())?.count,
    audit: (await portal.db.knex('audit_log').count({ count: '*' }).first())?.count,
  });

  /** The editor's fields as the browser sends them, with `changes` typed over them. */
  const editorFields = async (agent: Agent, changes: Record<string, string | undefined> = {}, path = '/admin/prices') => {
    const page = await agent.get(path).expect(200);
    return withChanges({ ...formFields(page.text, '/admin/prices'), _csrf: csrfTokenFrom(page.text) }, changes);
  };

  /** Submits the editor; on success, returns the preview's path. */
  const preview = async (agent: Agent, fields: Record<string, string>) => {
    const response = await agent.post('/admin/prices').type('form').send(fields);
    expect(response.status, plain(response.text).slice(0, 2000)).to.equal(303);
    expect(response.headers.location).to.match(/^\/admin\/prices\/drafts\/\d+$/);
    return response.headers.location as string;
  };

  const publish = async (agent: Agent, draftPath: string) => {
    const page = await agent.get(draftPath).expect(200);
    return agent.post(`${draftPath}/publish`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
  };

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    camille = await portal.addUser('camille', 'camille-password');
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('direction', 'other-admin-password', { role: 'admin' });
    admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    english = supertest.agent(portal.app);
    await logIn(english, 'direction', 'other-admin-password');
    const account = await english.get('/account').expect(200);
    await english.post('/language').type('form').send({ _csrf: csrfTokenFrom(account.text), locale: 'en', returnTo: '/account' }).expect(303);
  });
  // Every test starts from the demo price list (a new version, so older drafts are stale).
  beforeEach(() => portal.db.transaction((trx) => replacePriceList(trx, DEMO_PRICE_LIST)));
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('shows the published price list in the editor, amounts as people type them', async () => {
    const page = await admin.get('/admin/prices').expect(200);
    expect(page.text).to.include('aria-current="page"').and.include('Grille tarifaire').and.include('Version en ligne : ').and.not.include('Ces modifications partent');
    const fields = formFields(page.text, '/admin/prices');
    expect(fields).to.include({ currency: 'EUR', 'vat-rate': '20', 'unit-price': '1,00', 'free-enabled': '1', 'free-min': '2,00', 'free-max': '150,00', 'free-step': '0,50' });
    expect(fields).to.include({ 'pack-2-id': 'pack-20', 'pack-2-position': '3', 'pack-2-price': '20,00', 'pack-2-units': '20', 'pack-2-bonus': '2', 'pack-2-enabled': '1' });
    expect(fields).to.include({ 'tier-0-amount': '20,00', 'tier-0-bonus': '5', 'tier-1-amount': '50,00', 'tier-1-bonus': '10' });
    // One blank row to add a pack and one to add a tier.
    expect(fields).to.include({ 'pack-4-id': '', 'pack-4-price': '', 'tier-2-amount': '' });
    // A table: each field named by its row's and its column's headers.
    expect(page.text).to.match(/<input id="pack-2-price" name="pack-2-price" value="20,00" [^>]*aria-labelledby="pack-row-2 pack-column-price"/);
    expect(page.text).to.include('<th scope="row" id="pack-row-2">Forfait 3 · pack-20</th>').and.include('<th scope="col" id="pack-column-price">Prix TTC</th>');
    const inEnglish = await english.get('/admin/prices').expect(200);
    expect(formFields(inEnglish.text, '/admin/prices')).to.include({ 'pack-2-price': '20.00', 'unit-price': '1.00' });
    expect(inEnglish.text).to.include('Price list').and.include('Price incl. VAT');
  });

  it('previews the top-up page exactly as users will see it, publishes exactly that, and audits it', async () => {
    const before = await state();
    const draftPath = await preview(
      admin,
      await editorFields(admin, {
        'vat-rate': '5,5',
        'pack-2-price': '25,50',
        'pack-2-bonus': '2,5',
        'pack-0-enabled': undefined, // pack-5 is kept but no longer offered
        'pack-1-remove': '1', // pack-10 goes
        'pack-3-position': '1', // pack-50 comes first
        'pack-4-id': 'pack-noel',
        'pack-4-price': '15',
        'pack-4-units': '16',
        'pack-4-from': '2026-12-01',
        'pack-4-until': '2026-12-24T18:00',
        'tier-2-amount': '20',
        'tier-2-bonus': '8',
        'tier-2-from': '2026-12-01',
        'tier-2-until': '2026-12-31',
        'tier-0-until': '2026-11-30',
        'tier-1-bonus': '12,5',
      }),
    );
    expect(await state(), 'a preview publishes nothing').to.deep.include({ priceList: before.priceList, version: before.version, audit: before.audit });

    const page = await admin.get(draftPath).expect(200);
    const text = plain(page.text);
    expect(text).to.include('Aperçu : voici la page de rechargement telle que les utilisateurs la verront le');
    expect(text).to.include('Recharger mon compte').and.include('25,50 €').and.include('+ 2,50 unités offertes').and.include('50,00 €');
    expect(text).not.to.include('10,00 €').and.not.to.include('5,00 €').and.not.to.include('15,00 €'); // removed, disabled, not yet on sale
    expect(text.indexOf('50,00 €')).to.be.lessThan(text.indexOf('25,50 €'));
    expect(text).to.include('+5 % d&#39;unités offertes dès 20,00 €').and.include('+12,5 % d&#39;unités offertes dès 50,00 €');
    // The preview's form sends nothing: no form to /topup, no submit button in the page's offer.
    expect(page.text).not.to.include('action="/topup"');
    expect(page.text).to.include('<button type="button" class="button button--primary">Continuer</button>');
    // On another day, the promotions of that day.
    const december = plain((await admin.get(`${draftPath}?at=2026-12-01`).expect(200)).text);
    expect(december).to.include('15,00 €').and.include('16,00 unités').and.include('+8 % d&#39;unités offertes dès 20,00 €');
    expect(december).not.to.include('+5 %');

    const published = await publish(admin, draftPath);
    expect(published.status).to.equal(303);
    expect(published.headers.location).to.equal(`/admin/prices?published=${before.version + 1}`);
    expect(plain((await admin.get(published.headers.location as string).expect(200)).text)).to.include(`Version ${before.version + 1} de la grille publiée`);

    const expected: PriceList = {
      settings: { currency: 'EUR', vatRateBasisPoints: 550, unitPriceCents: 100 },
      packs: [
        { id: 'pack-50', priceCents: 5000, units: 5000, bonusUnits: 750, enabled: true, validFrom: null, validUntil: null },
        { id: 'pack-5', priceCents: 500, units: 500, bonusUnits: 0, enabled: false, validFrom: null, validUntil: null },
        { id: 'pack-20', priceCents: 2550, units: 2000, bonusUnits: 250, enabled: true, validFrom: null, validUntil: null },
        { id: 'pack-noel', priceCents: 1500, units: 1600, bonusUnits: 0, enabled: true, validFrom: new Date('2026-11-30T23:00:00Z'), validUntil: new Date('2026-12-24T17:00:00Z') },
      ],
      freeAmount: { minCents: 200, maxCents: 15_000, stepCents: 50 },
      bonusTiers: [
        { minCents: 2000, bonusBasisPoints: 500, validFrom: null, validUntil: new Date('2026-11-30T23:00:00Z') },
        { minCents: 2000, bonusBasisPoints: 800, validFrom: new Date('2026-11-30T23:00:00Z'), validUntil: new Date('2026-12-31T23:00:00Z') },
        { minCents: 5000, bonusBasisPoints: 1250, validFrom: null, validUntil: null },
      ],
    };
    const after = await state();
    expect(after.priceList).to.deep.equal(expected);
    expect(after.version).to.equal(before.version + 1);

    const audit = await portal.db.knex('audit_log').where('action', 'prices.publish');
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({ actor_username: 'gestion', target: `version ${before.version + 1}` });
    expect(JSON.parse(audit[0].before_json)).to.deep.equal(JSON.parse(JSON.stringify(before.priceList)));
    expect(JSON.parse(audit[0].after_json)).to.deep.equal(JSON.parse(JSON.stringify(expected)));

    // What users see now is what the admin previewed.
    const student = supertest.agent(portal.app);
    await logIn(student, 'camille', 'camille-password');
    expect(offersOf((await student.get('/topup').expect(200)).text)).to.equal(offersOf(page.text));

    // Pressing "Publish" again (a double click) changes nothing and says the same.
    const again = await admin.post(`${draftPath}/publish`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(again.status).to.equal(303);
    expect(again.headers.location).to.equal(published.headers.location);
    expect(await portal.db.knex('audit_log').where('action', 'prices.publish')).to.have.length(1);
    expect(await loadPriceListVersion(portal.db.knex)).to.equal(before.version + 1);

    // Back to editing shows the draft as published, reordered, removed rows gone.
    const back = formFields((await admin.get(`/admin/prices?draft=${draftPath.split('/').pop()}`).expect(200)).text, '/admin/prices');
    expect(back).to.include({ 'pack-0-id': 'pack-50', 'pack-3-id': 'pack-noel', 'pack-3-from': '2026-12-01', 'pack-3-until': '2026-12-24T18:00', 'tier-0-until': '2026-11-30' });
  });

  it('refuses to publish over a price list another admin published since the draft was made', async () => {
    const mine = await preview(admin, await editorFields(admin, { 'pack-0-price': '6' }));
    const theirs = await preview(english, await editorFields(english, { 'pack-0-price': '7' }));
    expect((await publish(english, theirs)).status).to.equal(303);
    const before = await state();

    const refused = await publish(admin, mine);
    expect(refused.status).to.equal(409);
    expect(plain(refused.text)).to.include(`La grille a changé depuis que vous avez commencé : vous partiez de la version ${before.version - 1}, la version en ligne est la ${before.version}.`);
    expect(refused.text).to.include('href="/admin/prices"');
    expect(await state()).to.deep.equal(before);
    expect(before.priceList.packs[0]?.priceCents).to.equal(700);
    // Taking the draft up again says so before any more work is done on it.
    const again = await admin.get(`/admin/prices?draft=${mine.split('/').pop()}`).expect(200);
    expect(again.text).to.include(`Ces modifications partent de la version ${before.version - 1}, mais une autre a été publiée depuis`);
    expect(formFields(again.text, '/admin/prices')).to.include({ 'pack-0-price': '6,00' });
  });

  it("keeps drafts to their author: another admin's draft, an unknown one and a bad date are refused", async () => {
    const mine = await preview(admin, await editorFields(admin));
    const id = mine.split('/').pop() as string;
    await english.get(mine).expect(404);
    await english.get(`/admin/prices?draft=${id}`).expect(404);
    const page = await english.get('/admin/prices').expect(200);
    await english.post(`${mine}/publish`).type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(404);
    for (const path of ['/admin/prices/drafts/999999', '/admin/prices/drafts/abc', '/admin/prices?draft=-1']) await admin.get(path).expect(404);
    const badDay = await admin.get(`${mine}?at=2026-02-30`).expect(400);
    expect(badDay.text).to.include('Indiquez un jour (2026-12-01) ou un jour et une heure (2026-12-01T08:30).').and.include('aria-invalid="true"');
    expect((await english.get(`${(await preview(english, await editorFields(english)))}?at=tomorrow`).expect(400)).text).to.include('Enter a day (2026-12-01)');
  });

  describe('bad input', () => {
    const cases: Array<[string, Record<string, string | undefined>, string, string]> = [
      ['a VAT rate that is not a number', { 'vat-rate': 'vingt' }, 'vat-rate', 'Indiquez un pourcentage, par exemple 20 ou 5,5.'],
      ['a VAT rate above 50 %', { 'vat-rate': '60' }, 'vat-rate', 'Le taux de TVA doit être compris entre 0 et 50 %.'],
      ['no unit price', { 'unit-price': '' }, 'unit-price', 'Ce champ est obligatoire.'],
      ['a unit price of zero', { 'unit-price': '0' }, 'unit-price', "Le montant doit être supérieur à zéro et d'au plus 100 000,00 €."],
      ['an unknown currency', { currency: 'XYZ' }, 'currency', 'Choisissez une devise de la liste.'],
      ['a pack price of zero', { 'pack-1-price': '0' }, 'pack-1-price', "Le montant doit être supérieur à zéro et d'au plus 100 000,00 €."],
      ['a negative pack price', { 'pack-1-price': '-10' }, 'pack-1-price', 'Indiquez un montant, par exemple 12,50.'],
      ['a pack price with three decimals', { 'pack-1-price': '12,345' }, 'pack-1-price', 'Indiquez un montant, par exemple 12,50.'],
      ['a pack of zero units', { 'pack-1-units': '0' }, 'pack-1-units', "Le nombre d'unités doit être supérieur à zéro et d'au plus 1 000 000,00."],
      ['units that are not a number', { 'pack-1-units': '1e3' }, 'pack-1-units', "Indiquez un nombre d'unités, par exemple 20 ou 2,5."],
      ['a bonus above the units', { 'pack-1-bonus': '11' }, 'pack-1-bonus', "Les unités offertes doivent être comprises entre 0 et le nombre d'unités du forfait."],
      ['a pack identifier with spaces', { 'pack-1-id': 'Pack 10 !' }, 'pack-1-id', "L'identifiant ne peut contenir que des lettres minuscules, des chiffres et des tirets (40 au plus)."],
      ['two packs with one identifier', { 'pack-1-id': 'pack-20' }, 'pack-2-id', "Un autre forfait porte déjà l'identifiant « pack-20 »."],
      ['a new pack without an identifier', { 'pack-4-price': '30', 'pack-4-units': '30' }, 'pack-4-id', 'Ce champ est obligatoire.'],
      ['a promotion ending before it starts', { 'pack-1-from': '2026-12-10', 'pack-1-until': '2026-12-01' }, 'pack-1-until', 'La fin de la période doit venir après son début.'],
      ['a day that does not exist', { 'pack-1-from': '2026-02-30' }, 'pack-1-from', 'Indiquez un jour (2026-12-01) ou un jour et une heure (2026-12-01T08:30).'],
      ['a time that does not exist', { 'pack-1-until': '2026-12-01T25:00' }, 'pack-1-until', 'Indiquez un jour (2026-12-01) ou un jour et une heure (2026-12-01T08:30).'],
      ['a position that is not a number', { 'pack-1-position': 'premier' }, 'pack-1-position', 'Indiquez un numéro de position : 1, 2, 3…'],
      ['a free minimum off the step', { 'free-min': '2,25' }, 'free-min', 'Le montant doit être un multiple de 0,50 €.'],
      ['a free maximum below the minimum', { 'free-max': '1' }, 'free-max', 'Le maximum doit être supérieur ou égal au minimum.'],
      ['a free step of zero', { 'free-step': '0' }, 'free-step', "Le montant doit être supérieur à zéro et d'au plus 100 000,00 €."],
      ['a tier bonus of zero', { 'tier-0-bonus': '0' }, 'tier-0-bonus', 'Le bonus doit être compris entre 0,01 % et 100 %.'],
      ['a tier bonus above 100 %', { 'tier-0-bonus': '150 %' }, 'tier-0-bonus', 'Le bonus doit être compris entre 0,01 % et 100 %.'],
      ['a tier bonus that is not a number', { 'tier-0-bonus': 'cinq' }, 'tier-0-bonus', 'Indiquez un pourcentage, par exemple 20 ou 5,5.'],
      [
        'a higher tier giving a lower bonus',
        { 'tier-1-bonus': '4' },
        'tier-1-bonus',
        'Contradiction avec un autre palier valable en même temps : +5 % dès 20,00 €, mais +4 % seulement dès 50,00 €.',
      ],
      [
        'two tiers from one amount at the same time',
        { 'tier-2-amount': '20', 'tier-2-bonus': '8', 'tier-2-from': '2026-12-01' },
        'tier-2-amount',
        'Un autre palier part déjà de 20,00 € sur une période qui chevauche celle-ci',
      ],
    ];
    for (const [what, changes, field, message] of cases) {
      it(`refuses ${what} with a message on the field, changing nothing`, async () => {
        const before = await state();
        const response = await admin.post('/admin/prices').type('form').send(await editorFields(admin, changes));
        expect(response.status).to.equal(400);
        const text = plain(response.text);
        expect(text).to.include('La grille n&#39;a pas été enregistrée : corrigez les points signalés ci-dessous.');
        expect(text).to.include(`<p class="field-error" id="${field}-error">${message.replaceAll("'", '&#39;')}`);
        if (field !== 'currency') expect(response.text).to.match(new RegExp(`id="${field}" name="${field}"[^>]*aria-describedby="[^"]*${field}-error"[^>]*aria-invalid="true"`));
        // The form comes back as it was sent.
        for (const [name, value] of Object.entries(changes)) if (value !== undefined && name !== 'currency') expect(formFields(response.text, '/admin/prices')[name]).to.equal(value);
        expect(await state()).to.deep.equal(before);
      });
    }

    it('answers in English to an admin reading English', async () => {
      const before = await state();
      const response = await english.post('/admin/prices').type('form').send(await editorFields(english, { 'pack-1-price': '', 'tier-0-bonus': 'five' }));
      expect(response.status).to.equal(400);
      expect(plain(response.text)).to.include('The price list was not saved').and.include('This field is required.').and.include('Enter a percentage, for example 20 or 5.5.');
      const ruled = await english.post('/admin/prices').type('form').send(await editorFields(english, { 'pack-1-price': '0' }));
      expect(ruled.status).to.equal(400);
      expect(ruled.text).to.include('The amount must be above zero and at most €100,000.00.');
      expect(await state()).to.deep.equal(before);
    });

    it('refuses more packs than the page can show, and a form without its version', async () => {
      const before = await state();
      const fields = await editorFields(admin);
      for (let row = 4; row <= MAX_PACKS; row += 1) Object.assign(fields, { [`pack-${row}-id`]: `extra-${row}`, [`pack-${row}-price`]: '1', [`pack-${row}-units`]: '1' });
      const tooMany = await admin.post('/admin/prices').type('form').send(fields).expect(400);
      expect(tooMany.text).to.include(`<p class="field-error" id="packs-error">${MAX_PACKS} forfaits au plus : retirez-en un.`);
      await admin.post('/admin/prices').type('form').send(await editorFields(admin, { version: undefined })).expect(400);
      await admin.post('/admin/prices').type('form').send(await editorFields(admin, { version: 'latest' })).expect(400);
      expect(await state()).to.deep.equal(before);
    });

    it('refuses a form without its CSRF token', async () => {
      const before = await state();
      await admin.post('/admin/prices').type('form').send(await editorFields(admin, { _csrf: undefined })).expect(403);
      expect(await state()).to.deep.equal(before);
    });
  });

  it('takes a full price list in one form: every pack and tier row filled, with promotion windows', async () => {
    const fields = await editorFields(admin);
    for (let row = 4; row < MAX_PACKS; row += 1) {
      Object.assign(fields, { [`pack-${row}-id`]: `promo-${row}`, [`pack-${row}-price`]: `${row},50`, [`pack-${row}-units`]: `${row},50`, [`pack-${row}-bonus`]: '0,25', [`pack-${row}-enabled`]: 'on', [`pack-${row}-from`]: '2026-12-01', [`pack-${row}-until`]: '2027-01-31' });
      Object.assign(fields, { [`pack-${row}-position`]: String(row) });
    }
    for (let row = 2; row < MAX_BONUS_TIERS; row += 1) Object.assign(fields, { [`tier-${row}-amount`]: `${60 + row * 10}`, [`tier-${row}-bonus`]: `${10 + row}`, [`tier-${row}-from`]: '2026-12-01', [`tier-${row}-until`]: '2027-01-31' });
    expect((await publish(admin, await preview(admin, fields))).status).to.equal(303);
    const published = await loadPriceList(portal.db.knex);
    expect(published.packs).to.have.length(MAX_PACKS);
    expect(published.bonusTiers).to.have.length(MAX_BONUS_TIERS);
  });

  it('lets one amount have two tiers whose windows do not overlap', async () => {
    const draft = await preview(admin, await editorFields(admin, { 'tier-2-amount': '20', 'tier-2-bonus': '9', 'tier-2-from': '2027-01-01', 'tier-0-until': '2026-12-31' }));
    expect((await publish(admin, draft)).status).to.equal(303);
    expect((await loadPriceList(portal.db.knex)).bonusTiers.map((tier) => tier.bonusBasisPoints)).to.have.members([500, 900, 1000]);
  });

  it('keeps the snapshot of orders placed before a price change: they show and charge their old price', async () => {
    const student = supertest.agent(portal.app);
    await logIn(student, 'camille', 'camille-password');
    const start = await balanceOf(portal, camille.id);
    const oldOrder = await placeOrder(student, { offer: 'pack-20', terms: String(termsId) });

    const draft = await preview(admin, await editorFields(admin, { 'pack-2-price': '30', 'pack-2-bonus': '0', 'vat-rate': '10' }));
    expect((await publish(admin, draft)).status).to.equal(303);

    const recap = plain((await student.get(`/orders/${oldOrder}`).expect(200)).text);
    expect(recap).to.include('20,00 €').and.include('Dont TVA (20 %)').and.include('3,33 €').and.include('22,00 unités').and.not.include('30,00 €');
    const paypalOrderId = await pay(student, portal, oldOrder);
    await student.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
    const charged = portal.simulator.order(paypalOrderId) as { purchase_units: Array<{ amount: unknown; payments: { captures: Array<{ amount: unknown }> } }> };
    expect(charged.purchase_units[0]?.amount).to.deep.include({ currency_code: 'EUR', value: '20.00' });
    expect(charged.purchase_units[0]?.payments.captures.map((capture) => capture.amount)).to.deep.equal([{ currency_code: 'EUR', value: '20.00' }]);
    await portal.simulator.flushWebhooks();
    expect(await balanceOf(portal, camille.id)).to.equal(start + 2200);
    expect(plain((await student.get(`/orders/${oldOrder}/receipt`).expect(200)).text)).to.include('20,00 €').and.not.include('30,00 €');

    const newOrder = await placeOrder(student, { offer: 'pack-20', terms: String(termsId) });
    expect(plain((await student.get(`/orders/${newOrder}`).expect(200)).text)).to.include('30,00 €').and.include('Dont TVA (10 %)');
  });
});
