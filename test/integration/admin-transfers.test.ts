import { expect } from 'chai';
import supertest from 'supertest';
import { findTransfer, listTransferEvents, listTransfers, writeCreditDestination, type CreditTransfer } from '../../src/db/credit-transfers/transfer-repository.js';
import type { User } from '../../src/domain/people/users.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import type { SimulatorFault } from '../../src/print-systems/papercut/simulator/index.js';
import { createAdjustments } from '../../src/services/ledger/adjustments.js';
import { LATE_TRANSFER_MINUTES } from '../../src/web/routes/admin/dashboard.js';
import { TRANSFERS_PAGE_SIZE } from '../../src/web/routes/admin/credit-transfers.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const LIST = '/admin/transfers';
const PASSWORD = 'a good long password';

/** The page's text as a reader sees it: EJS escapes quotes, angle brackets and ampersands; French Intl output uses narrow no-break spaces. */
const readable = (html: string) =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&#34;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\u202f\u00a0]/g, ' ');

/** The transfer ids the list shows, top to bottom. */
const listedTransfers = (html: string) => [...html.matchAll(/<a href="\/admin\/transfers\/(\d+)">/g)].map(([, id]) => Number(id));

/** The list's row of one transfer. */
function rowOf(html: string, transfer: CreditTransfer): string {
  const at = html.indexOf(`<a href="/admin/transfers/${transfer.id}">`);
  expect(at, `no row for transfer ${transfer.id}`).to.be.above(-1);
  return readable(html.slice(html.lastIndexOf('<tr>', at), html.indexOf('</tr>', at)));
}

/** A card or section of a page, by the id of its heading. */
const sectionOf = (html: string, id: string) => readable(html.slice(html.indexOf(`id="${id}"`), html.indexOf('</section>', html.indexOf(`id="${id}"`))));

/** A definition list's entry as the page writes it. */
const entry = (term: string, value: string) => `<dt>${term}</dt><dd><strong>${value}</strong></dd>`;

async function loggedInAs(portal: TestPortal, username: string): Promise<Agent> {
  const agent = supertest.agent(portal.app);
  expect((await logIn(agent, username, PASSWORD)).status).to.equal(303);
  return agent;
}

describe(`administration: credit transfers (${testDialect})`, function () {
  let portal: TestPortal;
  let root: User;
  let admin: Agent;
  /** A credit and a take-back, both delivered; one parked (unknown to PaperCut); one whose answer was lost after PaperCut applied it; one retrying. */
  let delivered: CreditTransfer;
  let takenBack: CreditTransfer;
  let parked: CreditTransfer;
  let unknown: CreditTransfer;
  let retrying: CreditTransfer;

  const knex = () => portal.db.knex;
  const transfer = async (id: number) => (await findTransfer(knex(), id))!;

  /** An admin's adjustment through the ledger service, the real posting that queues the transfer; returns the transfer. */
  async function adjust(username: string, direction: 'credit' | 'debit', amount: string, reason: string): Promise<CreditTransfer> {
    await createAdjustments({ db: portal.db, clock: portal.clock }).adjust(root, username, { direction, amount, reason, nonce: newFormNonce() });
    const { transfers } = await listTransfers(knex(), { offset: 0, limit: 1 });
    expect(transfers[0]).to.include({ username, description: reason });
    return transfers[0]!;
  }

  /** Delivers what is due, with `fault` in force for the next call it names. */
  async function deliverWith(fault: SimulatorFault | null) {
    if (fault) portal.papercut!.setFault(fault);
    await portal.printSystem!.delivery.deliverDue();
  }

  const tokenOf = async (agent: Agent, path: string) => csrfTokenFrom((await agent.get(path).expect(200)).text);
  const decide = async (id: number, fields: Record<string, string>) => {
    const page = (await admin.get(`${LIST}/${id}`).expect(200)).text;
    const seen = { state: /name="state" value="(\w+)"/.exec(page)?.[1] ?? '', attempts: /name="attempts" value="(\d+)"/.exec(page)?.[1] ?? '' };
    return admin.post(`${LIST}/${id}/decision`).type('form').send({ _csrf: csrfTokenFrom(page), ...seen, ...fields });
  };
  /** Everything a refused decision must leave as it was. */
  const state = async (id: number) => ({
    transfer: await findTransfer(knex(), id),
    events: await listTransferEvents(knex(), id),
    audit: await knex()('audit_log').orderBy('id').select('id'),
    sent: portal.papercut!.transactions.length,
  });

  before(async () => {
    portal = await createTestPortal({}, { papercut: { users: { alice: 1000, bruno: 2000, chloe: 0, dana: 500 } } });
    root = await portal.addUser('root', PASSWORD, { role: 'admin' });
    for (const username of ['alice', 'bruno', 'chloe', 'dana']) await portal.addUser(username, PASSWORD);
    admin = await loggedInAs(portal, 'root');

    delivered = await adjust('dana', 'credit', '5', 'Welcome credit dana');
    await deliverWith(null);
    takenBack = await adjust('dana', 'debit', '2', 'Correction dana');
    await deliverWith(null);
    parked = await adjust('alice', 'credit', '3', 'Goodwill alice');
    await deliverWith({ type: 'unknown_user', method: 'api.adjustUserAccountBalance', times: 1 });
    unknown = await adjust('bruno', 'credit', '4', 'Goodwill bruno');
    await deliverWith({ type: 'reset', afterApplying: true, method: 'api.adjustUserAccountBalance', times: 1 });
    retrying = await adjust('chloe', 'credit', '1,50', 'Goodwill chloe');
    await deliverWith({ type: 'bad_token', times: 1 });
    [delivered, takenBack, parked, unknown, retrying] = (await Promise.all([delivered, takenBack, parked, unknown, retrying].map(({ id }) => transfer(id)))) as [CreditTransfer, CreditTransfer, CreditTransfer, CreditTransfer, CreditTransfer];
    expect([delivered, takenBack, parked, unknown, retrying].map((one) => [one.state, one.attempts])).to.deep.equal([
      ['delivered', 1],
      ['delivered', 1],
      ['parked', 1],
      ['unknown', 1],
      ['pending', 1],
    ]);
  });
  after(() => portal.cleanup());

  it('lets only admins in: 403 for a user, the login page for visitors, nothing decided', async () => {
    const before = await state(parked.id);
    const user = await loggedInAs(portal, 'dana');
    const token = await tokenOf(user, '/account');
    expect((await user.get(LIST)).status).to.equal(403);
    expect((await user.get(`${LIST}/${parked.id}`)).status).to.equal(403);
    expect((await user.post(`${LIST}/${parked.id}/decision`).type('form').send({ _csrf: token, state: 'parked', attempts: '1', decision: 'applied', reason: 'mine' })).status).to.equal(403);
    expect((await user.post(`${LIST}/health`).type('form').send({ _csrf: token })).status).to.equal(403);
    for (const path of [LIST, `${LIST}/${parked.id}`]) {
      const visitor = await supertest(portal.app).get(path);
      expect(visitor.status, path).to.equal(303);
      expect(visitor.headers.location).to.equal('/login');
    }
    expect(await state(parked.id)).to.deep.equal(before);
  });

  it('counts stuck transfers on the dashboard, linking to the filtered list, late ones after 15 minutes', async () => {
    const card = async () => sectionOf((await admin.get('/admin').expect(200)).text, 'transfers-state');
    const fresh = await card();
    expect(fresh).to.include(`Transferts vers ${portal.printSystem!.balances.label}`);
    expect(fresh).to.include('<a href="/admin/transfers?state=parked">1 transfert mis de côté</a>');
    expect(fresh).to.include('<a href="/admin/transfers?state=unknown">1 transfert au résultat inconnu</a>');
    expect(fresh).to.include('<a href="/admin/transfers?state=pending">0 transfert en attente depuis plus de 15 minutes</a>');

    portal.clock.advance((LATE_TRANSFER_MINUTES - 1) * 60_000);
    expect(await card()).to.include('0 transfert en attente depuis plus de 15 minutes');
    portal.clock.advance(2 * 60_000);
    expect(await card()).to.include('1 transfert en attente depuis plus de 15 minutes');
    const english = sectionOf((await admin.get('/admin').set('Accept-Language', 'en').expect(200)).text, 'transfers-state');
    expect(english).to.include(`Transfers to ${portal.printSystem!.balances.label}`).and.include('1 transfer parked').and.include('1 transfer with an unknown outcome').and.include('1 transfer waiting for more than 15 minutes');
  });

  it('lists transfers newest first: person, signed units, posting, state, attempts and the start of the error', async () => {
    const page = await admin.get(LIST).expect(200);
    expect(page.text).to.match(/<a href="\/admin\/transfers" aria-current="page">Transferts<\/a>/);
    expect(listedTransfers(page.text).slice(0, 5)).to.deep.equal([retrying, unknown, parked, takenBack, delivered].map(({ id }) => id));
    expect(rowOf(page.text, delivered)).to.include('<a href="/admin/people/dana">dana</a>').and.include('<td class="number">+5,00</td>').and.include('Welcome credit dana').and.include('<td>Crédité</td>');
    expect(rowOf(page.text, takenBack)).to.include('<td class="number">−2,00</td>').and.include('Correction dana');
    const parkedRow = rowOf(page.text, parked);
    expect(parkedRow).to.include('<strong>Mis de côté</strong>').and.include('<td class="number">1</td>').and.include(parked.lastError!.slice(0, 79));
    expect(parked.lastError!.length).to.be.above(80);
    expect(parkedRow).not.to.include(parked.lastError!);
    expect(rowOf(page.text, unknown)).to.include('<strong>Résultat inconnu</strong>');
    // Pending after a failed attempt reads as a retry.
    expect(rowOf(page.text, retrying)).to.include('<td>Nouvel essai prévu</td>').and.include('+1,50');

    const connector = sectionOf(page.text, 'connector-title');
    expect(connector).to.include(portal.printSystem!.balances.label).and.include('Dernier transfert réussi').and.include('<time datetime=');
    expect(connector).to.include('<dt>Mis de côté</dt><dd><a href="/admin/transfers?state=parked">1</a></dd>');
    expect(connector).to.include('<dt>Crédité</dt><dd><a href="/admin/transfers?state=delivered">2</a></dd>');
    expect(connector).to.include('<form method="post" action="/admin/transfers/health">');

    const english = readable((await admin.get(LIST).set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include('Credit transfers').and.include('Being retried').and.include('Outcome unknown');
  });

  it('filters by state and says when nothing matches; a state not in the list or a bad page is a 400', async () => {
    const onlyParked = await admin.get(LIST).query({ state: 'parked' }).expect(200);
    expect(listedTransfers(onlyParked.text)).to.deep.equal([parked.id]);
    expect(onlyParked.text).to.include('<option value="parked" selected>');
    const onlyDelivered = await admin.get(LIST).query({ state: 'delivered' }).expect(200);
    expect(listedTransfers(onlyDelivered.text)).to.deep.equal([takenBack.id, delivered.id]);
    const none = await admin.get(LIST).query({ state: 'delivering' }).set('Accept-Language', 'en').expect(200);
    expect(none.text).to.include('0 transfers').and.include('No transfer in this state.').and.not.include('<table');

    for (const query of ['state=retrying', 'state=PARKED', 'state=parked&state=unknown']) {
      const response = await admin.get(`${LIST}?${query}`);
      expect(response.status, query).to.equal(400);
      expect(readable(response.text), query).to.include('Le filtre n\'est pas valide : choisissez un état dans la liste.').and.include('Choisissez un état dans la liste.');
      expect(response.text, query).to.include('aria-invalid="true"').and.not.include('<table');
    }
    expect((await admin.get(`${LIST}?page=0`)).status).to.equal(400);
  });

  it('shows a transfer\'s whole history with the balances in PaperCut, and the evidence to decide on an unknown outcome', async () => {
    const page = readable((await admin.get(`${LIST}/${unknown.id}`).expect(200)).text);
    expect(page).to.include(`<h1>Transfert n° ${unknown.id}</h1>`).and.include('<strong>Résultat inconnu</strong>').and.include('4,00 unités').and.include('Goodwill bruno');
    const history = sectionOf(page, 'transfer-history');
    const rows = [...history.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1).map(([, row]) => [...row!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(([, cell]) => cell!.replace(/<[^>]+>/g, '').trim()));
    expect(rows.map((cells) => cells.slice(1, 5))).to.deep.equal([
      ['Envoyé', '1', '20,00', ''],
      ['Réponse perdue', '1', '20,00', '24,00'],
    ]);
    expect(rows[1]![5]).to.equal(unknown.lastError);

    const decision = sectionOf(page, 'transfer-decision');
    expect(decision).to.include('<dt>Solde avant le dernier essai</dt><dd>20,00</dd>').and.include('<dt>Solde après la réponse perdue</dt><dd>24,00</dd>');
    expect(decision).to.include('<dt>Solde attendu s\'il avait été appliqué</dt><dd>24,00</dd>');
    expect(decision).to.match(/<dt>Solde actuel<\/dt><dd>\s*24,00\s*<\/dd>/);
    expect(decision).to.include(`commentaire commençant par « Recharge #${unknown.ledgerTransactionId} »`);
    expect(decision).to.include('value="applied"').and.include('value="send_again"').and.include('name="reason" required maxlength="500"');

    // Parked: refused before anything was applied; what PaperCut said, and no balance after.
    const parkedPage = readable((await admin.get(`${LIST}/${parked.id}`).expect(200)).text);
    expect(sectionOf(parkedPage, 'transfer-history')).to.include('Mis de côté').and.include(parked.lastError!).and.include('10,00');
    expect(sectionOf(parkedPage, 'transfer-decision')).to.include('Corrigez la cause').and.not.include('Solde après la réponse perdue');

    // A delivered transfer has nothing to decide, and links to its person.
    const deliveredPage = readable((await admin.get(`${LIST}/${delivered.id}`).expect(200)).text);
    expect(deliveredPage).to.include('<a href="/admin/people/dana">dana</a>').and.not.include('transfer-decision');
    expect(sectionOf(deliveredPage, 'transfer-history')).to.include('Envoyé').and.include('Crédité').and.include('5,00');
  });

  it('says when PaperCut does not answer for the balance now, showing the last value read', async () => {
    await admin.get(`${LIST}/${unknown.id}`).expect(200);
    portal.clock.advance(60_000); // past the balance cache
    portal.papercut!.setFault({ type: 'http500', method: 'api.getUserAccountBalance' });
    try {
      const page = readable((await admin.get(`${LIST}/${unknown.id}`).expect(200)).text);
      expect(sectionOf(page, 'transfer-decision')).to.match(/<dt>Solde actuel<\/dt><dd>\s*24,00\s*<br><span class="muted">Pas à jour : le système d'impression ne répond pas ; dernière lecture le /);
    } finally {
      portal.papercut!.clearFaults();
    }
  });

  it('shows no balance of PaperCut for a transfer that went to another destination', async () => {
    const elsewhere = await adjust('dana', 'credit', '1', 'Sent to the webhook dana');
    // As a webhook destination left it, before PaperCut was configured.
    await knex()('credit_transfers').where('id', elsewhere.id).update({ destination: 'webhook', state: 'parked', attempts: 1, last_error: 'HTTP 404' });
    const decision = sectionOf((await admin.get(`${LIST}/${elsewhere.id}`).expect(200)).text, 'transfer-decision');
    expect(decision).to.match(/<dt>Solde actuel<\/dt><dd>\s*Indisponible : le système d'impression de ce transfert n'est plus configuré\.\s*<\/dd>/);
  });

  it('refuses a decision without a reason, or with too long a reason (400), changing nothing', async () => {
    const before = await state(unknown.id);
    for (const reason of ['', '   ', 'x'.repeat(501)]) {
      const response = await decide(unknown.id, { decision: 'applied', reason });
      expect(response.status, `reason of ${reason.length}`).to.equal(400);
      expect(readable(response.text)).to.include(reason.length > 500 ? 'Le motif est trop long : 500 caractères au plus.' : 'Indiquez le motif de votre décision.').and.include('aria-invalid="true"');
    }
    const forged = await decide(unknown.id, { decision: 'delete', reason: 'no such decision' });
    expect(forged.status).to.equal(400);
    expect(await state(unknown.id)).to.deep.equal(before);
  });

  it('marks an unknown outcome as applied: delivered, in its history with who and why, audited, never sent again', async () => {
    const toBruno = () => portal.papercut!.transactions.filter((transaction) => transaction.username === 'bruno');
    expect(toBruno()).to.have.length(1);
    const response = await decide(unknown.id, { decision: 'applied', reason: '  Found Recharge #… in the PaperCut log  ' });
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal(`${LIST}/${unknown.id}?notice=applied`);
    expect(await transfer(unknown.id)).to.include({ state: 'delivered' });
    const last = (await listTransferEvents(knex(), unknown.id)).at(-1)!;
    expect(last).to.include({ event: 'marked_applied', actorUsername: 'root', detail: 'Found Recharge #… in the PaperCut log' });
    const audit = await knex()('audit_log').where('action', 'credit-transfer.mark-applied').first();
    expect(audit).to.include({ actor_username: 'root', target: `#${unknown.id} bruno` });

    const page = readable((await admin.get(response.headers.location as string).expect(200)).text);
    expect(page).to.include('Le transfert est marqué comme appliqué.').and.include('Marqué comme appliqué').and.include('Found Recharge #… in the PaperCut log').and.not.include('transfer-decision');
    expect(page).to.match(/<td>Found Recharge #… in the PaperCut log<\/td>\s*<td>root<\/td>/);
    expect(readable((await admin.get('/admin/audit').query({ action: 'credit-transfer.mark-applied' }).expect(200)).text)).to.include('Transfert de crédit marqué comme appliqué');
    await portal.printSystem!.delivery.deliverDue();
    expect(toBruno()).to.have.length(1);
    expect((await listTransferEvents(knex(), unknown.id)).at(-1)).to.include({ event: 'marked_applied' });
  });

  it('refuses a second decision on the same transfer with 409, changing nothing', async () => {
    const page = (await admin.get(`${LIST}/${parked.id}`).expect(200)).text;
    const stale = { _csrf: csrfTokenFrom(page), state: 'unknown', attempts: '1', reason: 'decided twice' };
    const before = await state(unknown.id);
    for (const decision of ['applied', 'send_again']) {
      const response = await admin.post(`${LIST}/${unknown.id}/decision`).type('form').send({ ...stale, decision });
      expect(response.status, decision).to.equal(409);
      expect(readable(response.text)).to.include('Ce transfert a changé depuis l\'affichage de la page : il est maintenant « Crédité », après 1 essai. Rien n\'a été modifié');
    }
    expect(await state(unknown.id)).to.deep.equal(before);
    // The notice a redirect asked for is not shown where it is not true.
    expect((await admin.get(`${LIST}/${parked.id}?notice=applied`).expect(200)).text).not.to.include('marqué comme appliqué.');
  });

  it('sends a parked transfer again: pending at once, delivered once by the next run, audited', async () => {
    const form = (await admin.get(`${LIST}/${parked.id}`).expect(200)).text;
    const response = await decide(parked.id, { decision: 'send_again', reason: 'Account created in PaperCut' });
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal(`${LIST}/${parked.id}?notice=sentAgain`);
    expect(await transfer(parked.id)).to.include({ state: 'pending', attempts: 1 });
    expect(readable((await admin.get(response.headers.location as string).expect(200)).text)).to.include('Le transfert attend d\'être renvoyé.').and.include('Renvoyé par un administrateur');
    const audit = await knex()('audit_log').where('action', 'credit-transfer.send-again').first();
    expect(audit).to.include({ actor_username: 'root', target: `#${parked.id} alice` });

    // The form shown before the decision is stale now: deciding with it again is refused.
    const again = await admin.post(`${LIST}/${parked.id}/decision`).type('form').send({ _csrf: csrfTokenFrom(form), state: 'parked', attempts: '1', decision: 'send_again', reason: 'clicked twice' });
    expect(again.status).to.equal(409);

    await portal.printSystem!.delivery.deliverDue();
    await portal.printSystem!.delivery.deliverDue();
    expect(await transfer(parked.id)).to.include({ state: 'delivered', attempts: 2 });
    const toAlice = portal.papercut!.transactions.filter((transaction) => transaction.username === 'alice');
    expect(toAlice.map((transaction) => [transaction.amountHundredths, transaction.comment])).to.deep.equal([[300, `Recharge #${parked.ledgerTransactionId} Goodwill alice`]]);
    expect((await listTransferEvents(knex(), parked.id)).map((event) => [event.event, event.actorUsername])).to.deep.equal([
      ['attempt', null],
      ['parked', null],
      ['sent_again', 'root'],
      ['attempt', null],
      ['delivered', null],
    ]);
  });

  it('refuses a decision taken on the evidence of an earlier attempt (409), even when the transfer awaits a decision again', async () => {
    const again = await adjust('dana', 'credit', '1', 'Sent twice dana');
    await deliverWith({ type: 'unknown_user', method: 'api.adjustUserAccountBalance', times: 1 });
    const seenByAnother = (await admin.get(`${LIST}/${again.id}`).expect(200)).text;
    expect((await decide(again.id, { decision: 'send_again', reason: 'Account fixed' })).status).to.equal(303);
    await deliverWith({ type: 'reset', afterApplying: true, method: 'api.adjustUserAccountBalance', times: 1 });
    expect(await transfer(again.id)).to.include({ state: 'unknown', attempts: 2 });

    const before = await state(again.id);
    const stale = await admin
      .post(`${LIST}/${again.id}/decision`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(seenByAnother), state: 'parked', attempts: '1', decision: 'send_again', reason: 'Account fixed, sending again' });
    expect(stale.status).to.equal(409);
    expect(readable(stale.text)).to.include('il est maintenant « Résultat inconnu », après 2 essais. Rien n\'a été modifié');
    expect(await state(again.id)).to.deep.equal(before);
  });

  it('checks the connection to PaperCut on demand: reachable, the token accepted or refused, a few times a minute', async () => {
    const check = async () => admin.post(`${LIST}/health`).type('form').send({ _csrf: await tokenOf(admin, LIST) });
    const fine = await check();
    expect(fine.status).to.equal(200);
    expect(readable(fine.text)).to.include('Connexion vérifiée le').and.include(entry('Joignable', 'Oui')).and.include(entry('Jeton accepté', 'Oui'));

    portal.papercut!.setFault({ type: 'bad_token' });
    try {
      const refused = await check();
      expect(refused.status).to.equal(200);
      expect(readable(refused.text)).to.include(entry('Joignable', 'Oui')).and.include(entry('Jeton accepté', 'Non')).and.include('<dt>Détail</dt>');
    } finally {
      portal.papercut!.clearFaults();
    }
    for (let count = 3; count <= 5; count += 1) expect((await check()).status).to.equal(200);
    expect((await check()).status).to.equal(429);
    portal.clock.advance(60_000);
    expect((await check()).status).to.equal(200);
    // Shown only as the answer to the check: the page itself does not ask PaperCut.
    expect((await admin.get(LIST).expect(200)).text).not.to.include('Connexion vérifiée');
  });

  it('answers 404 to an unknown or malformed transfer id', async () => {
    const token = await tokenOf(admin, LIST);
    for (const id of ['999999', '0', '01', 'abc', '1e3', '12345678901']) {
      expect((await admin.get(`${LIST}/${id}`)).status, `GET ${id}`).to.equal(404);
      expect((await admin.post(`${LIST}/${id}/decision`).type('form').send({ _csrf: token, state: 'parked', attempts: '1', decision: 'applied', reason: 'x' })).status, `decision ${id}`).to.equal(404);
    }
  });

  it('pages the list, keeping the filter in the links', async () => {
    for (let index = 0; index <= TRANSFERS_PAGE_SIZE; index += 1) await adjust('chloe', 'credit', '1', `Paging ${index}`);
    const pending = (await listTransfers(knex(), { state: 'pending', offset: 0, limit: 100 })).transfers.map(({ id }) => id);
    expect(pending.length).to.be.above(TRANSFERS_PAGE_SIZE);
    const first = await admin.get(LIST).query({ state: 'pending' }).expect(200);
    expect(listedTransfers(first.text)).to.deep.equal(pending.slice(0, TRANSFERS_PAGE_SIZE));
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)?.[1];
    expect(next).to.equal('/admin/transfers?state=pending&amp;page=2');
    const second = await admin.get(readable(next!)).expect(200);
    expect(listedTransfers(second.text)).to.deep.equal(pending.slice(TRANSFERS_PAGE_SIZE));
    const beyond = await admin.get(LIST).query({ state: 'pending', page: '999' }).expect(200);
    expect(listedTransfers(beyond.text)).to.deep.equal(pending.slice(TRANSFERS_PAGE_SIZE));
  });
});

describe(`administration: credit transfers without a print system (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let past: CreditTransfer;

  before(async () => {
    portal = await createTestPortal();
    const root = await portal.addUser('root', PASSWORD, { role: 'admin' });
    await portal.addUser('dana', PASSWORD);
    admin = await loggedInAs(portal, 'root');
    // A transfer queued while credits went to PaperCut, which the configuration has dropped since.
    await writeCreditDestination(portal.db.knex, { kind: 'papercut', label: 'PaperCut at print.example.edu' }, portal.clock.now());
    await createAdjustments({ db: portal.db, clock: portal.clock }).adjust(root, 'dana', { direction: 'credit', amount: '2', reason: 'Before the change', nonce: newFormNonce() });
    await writeCreditDestination(portal.db.knex, null, portal.clock.now());
    past = (await listTransfers(portal.db.knex, { offset: 0, limit: 10 })).transfers[0]!;
  });
  after(() => portal.cleanup());

  it('still lists past transfers and says credits go to the ledger alone, with nothing to check', async () => {
    const page = await admin.get(LIST).expect(200);
    expect(listedTransfers(page.text)).to.deep.equal([past.id]);
    expect(readable(page.text)).to.include('Aucun système d\'impression n\'est configuré : les crédits restent dans le grand livre du portail.');
    expect(page.text).not.to.include('action="/admin/transfers/health"');
    const token = csrfTokenFrom(page.text);
    expect((await admin.post(`${LIST}/health`).type('form').send({ _csrf: token })).status).to.equal(404);
  });

  it('shows the dashboard card only once a past transfer is stuck', async () => {
    expect((await admin.get('/admin').expect(200)).text).not.to.include('transfers-state');
    portal.clock.advance((LATE_TRANSFER_MINUTES + 1) * 60_000);
    const page = (await admin.get('/admin').expect(200)).text;
    expect(sectionOf(page, 'transfers-state')).to.include('Transferts vers le système d\'impression').and.include('1 transfert en attente depuis plus de 15 minutes');
  });

  it('lets an admin settle a parked past transfer as applied, but not send it again with nothing to send it', async () => {
    // As the worker left it when PaperCut refused it, before the configuration changed.
    await portal.db.knex('credit_transfers').where('id', past.id).update({ state: 'parked', attempts: 1, last_error: 'unknown user' });
    const page = await admin.get(`${LIST}/${past.id}`).expect(200);
    expect(readable(page.text)).to.include('Indisponible : le système d\'impression de ce transfert n\'est plus configuré.').and.include('value="applied"');
    expect(page.text).not.to.include('value="send_again"');
    const form = { _csrf: csrfTokenFrom(page.text), state: 'parked', attempts: '1', reason: 'Credited by hand in PaperCut' };
    const refused = await admin.post(`${LIST}/${past.id}/decision`).type('form').send({ ...form, decision: 'send_again' });
    expect(refused.status).to.equal(409);
    expect(readable(refused.text)).to.include('Aucun système d\'impression n\'est plus configuré : rien n\'enverrait ce transfert. Rien n\'a été modifié.');
    expect(await findTransfer(portal.db.knex, past.id)).to.include({ state: 'parked' });
    expect((await admin.post(`${LIST}/${past.id}/decision`).type('form').send({ ...form, decision: 'applied' })).status).to.equal(303);
    expect(await findTransfer(portal.db.knex, past.id)).to.include({ state: 'delivered' });
  });
});
