import { userInfo } from 'node:os';
import { expect } from 'chai';
import supertest from 'supertest';
import { runCliInProcess } from '../helpers/cli.js';
import { auditRows } from '../helpers/audit-page.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { enrolTotp, sendCode, totpCodeAt } from '../helpers/second-factors.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a long enough password';
const CHECK_PATH = '/login/second-factor';
/** Past the step-up window (SECOND_FACTOR_STEP_UP_MINUTES, 5 by default). */
const STEP_UP_PASSED_MS = 6 * 60_000;
/** The host the person page is sent from, so that the step-up knows the form to come back to. */
const HOST = 'portal.test';

/** The person page's "Second facteur" card, or null when the page has none. */
const cardOf = (html: string) => /<section class="card" aria-labelledby="second-factors-title">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? null;

/** Helpers bound to one portal. */
function on(portal: () => TestPortal) {
  const knex = () => portal().db.knex;
  const idOf = async (username: string) => Number((await knex()('users').where('username', username).first('id')).id);
  const factorRows = async (username: string) => knex()('second_factors').where('user_id', await idOf(username)).select('id');
  const recoveryRows = async (username: string) => knex()('recovery_codes').where('user_id', await idOf(username)).select('id');
  const resets = () => knex()('audit_log').where('action', 'second_factor.reset').orderBy('id').select('actor_username', 'target', 'after_json');

  async function signedIn(username: string): Promise<Agent> {
    const agent = supertest.agent(portal().app);
    const response = await logIn(agent, username, PASSWORD);
    expect(response.status, response.text.slice(0, 300)).to.equal(303);
    return agent;
  }

  /** The CLI in-process on the portal's database. */
  const cli = (args: string[]) => runCliInProcess(args, { DATABASE_URL: portal().url });

  return { knex, factorRows, recoveryRows, resets, signedIn, cli };
}

/** Whether the agent's session still opens pages: an ended one is sent to the login page. */
async function expectSessionEnded(agent: Agent) {
  const response = await agent.get('/account');
  expect(response.status).to.equal(303);
  expect(response.headers.location).to.equal('/login?notice=session-expired');
}

describe(`administration: second factor reset (${testDialect})`, function () {
  this.timeout(120_000);
  let portal: TestPortal;
  const { knex, factorRows, recoveryRows, resets, signedIn, cli } = on(() => portal);
  let admin: Agent;
  let adminSecret: string;
  /** The IT person whose phone is lost: signed in elsewhere, with an app and its ten recovery codes. */
  let itPerson: Agent;

  /** The admin checks their own app again (the next step's code, none replayed): the step-up window starts anew. */
  async function stepUp() {
    portal.clock.advance(30_000);
    const answer = await sendCode(admin, 'totp', totpCodeAt(adminSecret, portal.clock.now()));
    expect(answer.status, answer.text.slice(0, 300)).to.equal(303);
  }
  /** Sends the reset form of `username`'s page, as the browser does from that page. */
  async function sendReset(username: string, agent = admin) {
    const page = await agent.get(`/admin/people/${username}`).expect(200);
    return agent
      .post(`/admin/people/${username}/second-factors/reset`)
      .set('Host', HOST)
      .set('Referer', `http://${HOST}/admin/people/${username}`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text) });
  }

  before(async () => {
    portal = await createTestPortal();
    for (const [username, role] of [['gestion', 'admin'], ['adjointe', 'admin'], ['informatique', 'it'], ['technicien', 'it'], ['camille', 'user']] as const) {
      await portal.addUser(username, PASSWORD, { role });
    }
    admin = await signedIn('gestion');
    ({ secret: adminSecret } = await enrolTotp(admin, portal.clock.now(), 'Téléphone de gestion'));
    itPerson = await signedIn('informatique');
    portal.clock.advance(30_000);
    const { recoveryCodes } = await enrolTotp(itPerson, portal.clock.now(), 'Téléphone pro');
    expect(recoveryCodes).to.have.length(10);
  });
  after(() => portal.cleanup());

  it('shows the card on admin and IT pages only: the factors, their kinds, the recovery codes left, and the reset', async () => {
    const card = cardOf((await admin.get('/admin/people/informatique').expect(200)).text);
    expect(card).to.include('<h2 id="second-factors-title">Second facteur</h2>');
    expect(card).to.include('1 facteur enregistré :');
    expect(card).to.match(/<strong>Téléphone pro<\/strong> — Application d&#39;authentification/);
    expect(card).to.include('10 codes de secours inutilisés.');
    expect(card).to.include('action="/admin/people/informatique/second-factors/reset"');
    expect(card).to.include('name="_csrf"');
    expect(card).to.include('ferme toutes ses sessions');
    expect(card).to.include('Réinitialiser le second facteur</button>');
    const english = cardOf((await admin.get('/admin/people/informatique').set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include('Second factor</h2>').and.include('10 unused recovery codes.').and.include('Reset the second factor</button>');

    // An admin with nothing enrolled: the card says so, and has nothing to reset.
    const none = cardOf((await admin.get('/admin/people/adjointe').expect(200)).text);
    expect(none).to.include('Aucun second facteur enregistré.').and.include('0 code de secours inutilisé.');
    expect(none).not.to.include('<form');
    expect(cardOf((await admin.get('/admin/people/camille').expect(200)).text)).to.equal(null);

    // The admin's own factors are managed at Account security, not reset here.
    const own = cardOf((await admin.get('/admin/people/gestion').expect(200)).text);
    expect(own).to.include('Téléphone de gestion').and.include('href="/account/security"');
    expect(own).not.to.include('<form');
  });

  it('asks the admin for their own factor first: without a recent check nothing is reset', async () => {
    portal.clock.advance(STEP_UP_PASSED_MS);
    const response = await sendReset('informatique');
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal(`${CHECK_PATH}?reason=step-up&returnTo=${encodeURIComponent('/admin/people/informatique')}`);
    expect(await factorRows('informatique')).to.have.length(1);
    expect(await recoveryRows('informatique')).to.have.length(10);
    expect(await resets()).to.deep.equal([]);
    await itPerson.get('/account').expect(200);
  });

  it("resets another person's factors once checked: factors and codes gone, their session ended, audited", async () => {
    await stepUp();
    const response = await sendReset('informatique');
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal('/admin/people/informatique?notice=secondFactorsReset');
    expect(await factorRows('informatique')).to.deep.equal([]);
    expect(await recoveryRows('informatique')).to.deep.equal([]);
    await expectSessionEnded(itPerson);
    const [audited, ...others] = await resets();
    expect(others).to.deep.equal([]);
    expect(audited).to.include({ actor_username: 'gestion', target: 'informatique' });
    expect(JSON.parse(String(audited.after_json))).to.deep.equal({ factors: 1, recoveryCodes: 10 });

    const page = await admin.get(response.headers.location as string).expect(200);
    expect(page.text).to.include('Le second facteur est réinitialisé : les facteurs et codes de secours de la personne sont supprimés et ses sessions fermées.');
    expect(cardOf(page.text)).to.include('Aucun second facteur enregistré.');
    const english = await admin.get(response.headers.location as string).set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include("The second factor is reset: the person&#39;s factors and recovery codes are deleted and their sessions ended.");

    // Nothing left to reset: nothing happens again (no audit entry, sessions left alone).
    const again = await sendReset('informatique');
    expect(again.headers.location).to.equal('/admin/people/informatique?notice=unchanged');
    expect(await resets()).to.have.length(1);
  });

  it("refuses the admin's own factors (400, Account security is the way) and unknown people (404)", async () => {
    await stepUp();
    const own = await sendReset('gestion');
    expect(own.status).to.equal(400);
    expect(cardOf(own.text)).to.include('Vous ne pouvez pas réinitialiser votre propre second facteur ici : retirez ou ajoutez vos facteurs depuis Sécurité du compte.');
    expect(await factorRows('gestion')).to.have.length(1);
    await admin.get('/account').expect(200);

    const token = csrfTokenFrom((await admin.get('/admin/people/gestion').expect(200)).text);
    await admin.post('/admin/people/personne/second-factors/reset').type('form').send({ _csrf: token }).expect(404);
    expect(await resets()).to.have.length(1);
  });

  it('answers 403 to IT and other people, and resets nothing', async () => {
    portal.clock.advance(30_000);
    // Someone with a factor to keep, for the refused resets to leave alone.
    await enrolTotp(await signedIn('adjointe'), portal.clock.now());
    for (const username of ['technicien', 'camille']) {
      const agent = await signedIn(username);
      const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
      await agent.get('/admin/people/adjointe').expect(403);
      await agent.post('/admin/people/adjointe/second-factors/reset').type('form').send({ _csrf: token }).expect(403);
    }
    expect(await factorRows('adjointe')).to.have.length(1);
    expect(await resets()).to.have.length(1);
  });

  it('labels the second-factor actions on the audit page, with their details readable, in both languages', async () => {
    // A wrong code, for a failure in the log.
    portal.clock.advance(30_000);
    expect((await sendCode(admin, 'totp', '000000')).status).to.equal(401);
    const rowOf = async (action: string, language = 'fr') => auditRows((await admin.get(`/admin/audit?action=${action}`).set('Accept-Language', language).expect(200)).text)[0]!.slice(1);

    expect(await rowOf('second_factor.reset')).to.deep.equal(['gestion', 'second_factor.reset | Second facteur réinitialisé', 'informatique', 'Facteurs supprimés 1 Codes de secours supprimés 10']);
    expect(await rowOf('second_factor.reset', 'en')).to.deep.equal(['gestion', 'second_factor.reset | Second factor reset', 'informatique', 'Factors deleted 1 Recovery codes deleted 10']);
    expect(await rowOf('second_factor.enrol')).to.deep.equal(['adjointe', 'second_factor.enrol | Second facteur ajouté', 'adjointe', 'Type Application d&#39;authentification Nom Téléphone']);
    expect(await rowOf('second_factor.enrol', 'en')).to.deep.equal(['adjointe', 'second_factor.enrol | Second factor added', 'adjointe', 'Kind Authenticator app Name Téléphone']);
    expect(await rowOf('second_factor.success')).to.deep.equal(['gestion', 'second_factor.success | Second facteur vérifié', 'gestion', 'Moyen Application d&#39;authentification Facteur Téléphone de gestion']);
    expect(await rowOf('second_factor.failure', 'en')).to.deep.equal(['gestion', 'second_factor.failure | Second factor refused', 'gestion', 'Method Authenticator app']);
    expect(await rowOf('second_factor.recovery_codes')).to.deep.equal(['adjointe', 'second_factor.recovery_codes | Nouveaux codes de secours', 'adjointe', 'Codes émis 10']);
  });

  it('resets from the command line, as cli:<system user>: exit codes and what it says', async () => {
    const { code, out, err } = await cli(['second-factors', 'reset', '--username', 'Adjointe']);
    expect({ code, err }).to.deep.equal({ code: 0, err: '' });
    expect(out).to.equal('Reset the second factor of adjointe: 1 factor(s) and 10 recovery code(s) deleted; their sessions are ended.\n');
    expect(await factorRows('adjointe')).to.deep.equal([]);
    // No person did it (actor_user_id null): the system account that ran the command is named.
    const audited = await knex()('audit_log').where('action', 'second_factor.reset').orderBy('id', 'desc').first('actor_user_id', 'actor_username', 'target', 'after_json');
    expect(audited).to.include({ actor_user_id: null, actor_username: `cli:${userInfo().username}`, target: 'adjointe' });
    expect(JSON.parse(String(audited.after_json))).to.deep.equal({ factors: 1, recoveryCodes: 10 });

    expect(await cli(['second-factors', 'reset', '--username', 'adjointe'])).to.deep.equal({ code: 0, out: 'adjointe has no second factor and no recovery code; nothing changed.\n', err: '' });
    expect(await cli(['second-factors', 'reset', '--username', 'personne'])).to.deep.equal({ code: 1, out: '', err: 'Error: no user named personne\n' });
    const usage = await cli(['second-factors', 'reset']);
    expect(usage.code).to.equal(2);
    expect(usage.err).to.match(/^second-factors reset needs --username\n/).and.include('second-factors reset --username U');
  });
});

describe(`command line: the last admin locked out of the second factor (${testDialect})`, function () {
  this.timeout(120_000);
  let portal: TestPortal;
  const { factorRows, resets, signedIn, cli } = on(() => portal);

  before(async () => {
    // The policy is on: the administration is out of reach without a second factor checked.
    portal = await createTestPortal({ SECOND_FACTOR_REQUIRED: 'true' });
    await portal.addUser('seule', PASSWORD, { role: 'admin' });
  });
  after(() => portal.cleanup());

  it('lets the only admin, who lost their only factor, sign in again and enrol a new one', async () => {
    const before = await signedIn('seule');
    await enrolTotp(before, portal.clock.now());
    // The phone is lost: the password alone leads only to the code nobody can type.
    const locked = supertest.agent(portal.app);
    expect((await logIn(locked, 'seule', PASSWORD)).headers.location).to.equal(CHECK_PATH);
    expect((await locked.get('/admin')).headers.location).to.equal('/login');

    expect((await cli(['second-factors', 'reset', '--username', 'seule'])).code).to.equal(0);
    expect(await factorRows('seule')).to.deep.equal([]);
    expect(await resets()).to.have.length(1);
    await expectSessionEnded(before);
    // The sign-in left waiting for the lost factor is worth nothing now either.
    expect((await locked.get(CHECK_PATH)).headers.location).to.equal('/login?notice=session-expired');

    // Back in with the password: the policy sends the admin to add a factor before the administration.
    const again = await signedIn('seule');
    expect((await again.get('/admin')).headers.location).to.equal('/account/security?notice=required');
    await enrolTotp(again, portal.clock.now());
    await again.get('/admin').expect(200);
  });
});
