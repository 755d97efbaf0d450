import { expect } from 'chai';
import supertest from 'supertest';
import { currentTerms } from '../../src/db/pricing/terms-repository.js';
import { DEMO_TERMS } from '../../src/services/demo/demo.js';
import { MAX_TERMS_LENGTH } from '../../src/services/pricing/terms.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const MARKDOWN_FR = `## Objet

Ces conditions régissent le **rechargement** du crédit d'impression.

- Le crédit est exprimé en *unités*.
- Voir [le règlement](https://exemple.fr/reglement).`;

/** Every way we know of to smuggle markup or script through Markdown. */
const HOSTILE = [
  '<script>alert("script")</script>',
  '<img src=x onerror=alert("img")>',
  '[lien](javascript:alert("link"))',
  '[majuscules](JAVASCRIPT:alert("upper"))',
  '[entités](jav&#x61;script:alert("entity"))',
  '<javascript:alert("autolink")>',
  '[données](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[vb](vbscript:msgbox("vb"))',
  '![image](https://tracker.example/pixel.png)',
  '<iframe src="https://evil.example"></iframe>',
  '<a href="https://evil.example" onclick="alert(1)">brut</a>',
  '<div style="position:fixed">recouvrement</div>',
  '| a | b |\n|--:|:-:|\n| 1 | 2 |',
].join('\n\n');

/** The rendered Markdown holds no tag we did not write, no script, no event handler, no style, no dangerous link; the raw HTML shows as text. */
function expectInert(html: string) {
  const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
  // The preview's hidden fields carry the text itself, escaped into their values.
  for (const tag of (main.match(/<[a-z][^>]*>/gi) ?? []).filter((candidate) => !candidate.startsWith('<input type="hidden"'))) {
    expect(tag).not.to.match(/^<(script|img|iframe|div style)/i);
    expect(tag).not.to.match(/\s(on\w+|style)=/i);
    expect(tag).not.to.match(/\shref="\s*(javascript|vbscript|data|jav)/i);
  }
  expect(main).to.include('&lt;script&gt;alert(&quot;script&quot;)&lt;/script&gt;');
  expect(main).to.include('&lt;img src=x onerror=alert(&quot;img&quot;)&gt;');
  expect(main).to.include('[lien](javascript:alert(&quot;link&quot;))');
  expect(main).to.include('&lt;a href=&quot;https://evil.example&quot; onclick=&quot;alert(1)&quot;&gt;brut&lt;/a&gt;');
  expect(main).to.match(/<table>\s*<thead>\s*<tr>\s*<th>a<\/th>/);
}

describe(`administration: terms of sale (${testDialect})`, () => {
  let portal: TestPortal;
  let admin: Agent;
  let other: Agent;

  const state = async () => ({
    versions: await portal.db.knex('terms_versions').orderBy('version').select('version', 'body_fr', 'body_en'),
    audit: (await portal.db.knex('audit_log').count({ count: '*' }).first())?.count,
  });

  /** The editor's fields as the browser sends them, with `changes` typed over them. */
  const editorFields = async (agent: Agent, changes: Record<string, string | undefined> = {}) => {
    const page = await agent.get('/admin/terms').expect(200);
    return withChanges({ ...formFields(page.text, '/admin/terms'), _csrf: csrfTokenFrom(page.text) }, changes);
  };

  /** Presses "Preview" on the editor with `changes` typed in. */
  const previewOf = async (agent: Agent, changes: Record<string, string>) => {
    const preview = await agent.post('/admin/terms').type('form').send({ ...(await editorFields(agent, changes)), action: 'preview' });
    expect(preview.status, preview.text.slice(0, 500)).to.equal(200);
    return preview;
  };
  /** Presses "Publish" on a preview. */
  const publishFrom = (agent: Agent, preview: { text: string }) => agent.post('/admin/terms').type('form').send({ ...formFields(preview.text, '/admin/terms'), action: 'publish' });
  const previewAndPublish = async (agent: Agent, changes: Record<string, string>) => publishFrom(agent, await previewOf(agent, changes));

  before(async () => {
    portal = await createTestPortal();
    await publishOffers(portal);
    await portal.addUser('camille', 'camille-password');
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('direction', 'other-admin-password', { role: 'admin' });
    admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    other = supertest.agent(portal.app);
    await logIn(other, 'direction', 'other-admin-password');
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('shows the version online in the editor and in the list of versions', async () => {
    const page = await admin.get('/admin/terms').expect(200);
    expect(page.text).to.include('aria-current="page"').and.include('Version 1 en ligne depuis le');
    expect(formFields(page.text, '/admin/terms')).to.deep.equal({ _csrf: csrfTokenFrom(page.text), base: '1', fr: DEMO_TERMS.fr, en: DEMO_TERMS.en });
    expect(page.text).to.include('<label for="body-fr">Texte en français</label>').and.include('href="/admin/terms/versions/1"');
    const english = await admin.get('/admin/terms').set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('Terms of sale');
  });

  it('previews the Markdown rendered, publishes a new version, keeps the old one, and audits it', async () => {
    const before = await state();
    const preview = await previewOf(admin, { fr: MARKDOWN_FR, en: '## Purpose\n\nThese terms govern **top-ups**.' });
    expect(preview.text).to.include('Aperçu de la version 2');
    expect(preview.text).to.include('<h2>Objet</h2>').and.include('<strong>rechargement</strong>').and.include('<em>unités</em>');
    expect(preview.text).to.include('<a href="https://exemple.fr/reglement">le règlement</a>').and.include('<li>');
    expect(await state(), 'a preview publishes nothing').to.deep.equal(before);

    const published = await publishFrom(admin, preview);
    expect(published.status).to.equal(303);
    expect(published.headers.location).to.equal('/admin/terms?published=2');
    expect((await admin.get('/admin/terms?published=2').expect(200)).text).to.include('Version 2 des conditions publiée');
    const after = await state();
    expect(after.versions.map((row) => Number(row.version))).to.deep.equal([1, 2]);
    expect(after.versions[0]).to.deep.include({ body_fr: DEMO_TERMS.fr, body_en: DEMO_TERMS.en });
    expect(after.versions[1]).to.deep.include({ body_fr: MARKDOWN_FR, body_en: '## Purpose\n\nThese terms govern **top-ups**.' });

    const audit = await portal.db.knex('audit_log').where('action', 'terms.publish');
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({ actor_username: 'gestion', target: 'version 2' });
    expect(JSON.parse(audit[0].before_json)).to.deep.equal({ version: 1, body: DEMO_TERMS });
    expect(JSON.parse(audit[0].after_json)).to.deep.equal({ version: 2, body: { fr: MARKDOWN_FR, en: '## Purpose\n\nThese terms govern **top-ups**.' } });

    // Everyone reads the new version rendered the same way, in their language.
    const publicPage = await supertest(portal.app).get('/terms').expect(200);
    expect(publicPage.text).to.include('Version 2 du').and.include('<h2>Objet</h2>').and.include('<strong>rechargement</strong>');
    expect((await supertest(portal.app).get('/terms').set('Accept-Language', 'en').expect(200)).text).to.include('<h2>Purpose</h2>');

    // Every version stays readable.
    const list = await admin.get('/admin/terms').expect(200);
    expect(list.text).to.include('href="/admin/terms/versions/1"').and.include('href="/admin/terms/versions/2"');
    const first = await admin.get('/admin/terms/versions/1').expect(200);
    expect(first.text).to.include('Conditions générales de vente, version 1').and.include('Les présentes conditions régissent');
    expect(first.text).not.to.include("C&#39;est la version en ligne.");
    expect((await admin.get('/admin/terms/versions/2').expect(200)).text).to.include("C&#39;est la version en ligne.").and.include('## Objet');
    for (const path of ['/admin/terms/versions/99', '/admin/terms/versions/abc', '/admin/terms/versions/-1']) await admin.get(path).expect(404);
  });

  it('renders raw HTML, scripts, event handlers and dangerous links inert, in the preview, the versions and /terms', async () => {
    const preview = await previewOf(admin, { fr: HOSTILE, en: HOSTILE });
    expectInert(preview.text);
    expect((await publishFrom(admin, preview)).status).to.equal(303);
    const version = (await currentTerms(portal.db.knex))?.version;
    expectInert((await admin.get(`/admin/terms/versions/${version}`).expect(200)).text);
    const publicPage = await supertest(portal.app).get('/terms').expect(200);
    expectInert(publicPage.text);
  });

  it('refuses a top-up form that accepted the version before the one just published', async () => {
    const student = supertest.agent(portal.app);
    await logIn(student, 'camille', 'camille-password');
    const form = await student.get('/topup').expect(200);
    const acceptedId = /name="terms" value="(\d+)"/.exec(form.text)?.[1] as string;
    const ordersBefore = (await portal.db.knex('orders')).length;

    expect((await previewAndPublish(admin, { fr: 'Nouvelles conditions.', en: 'New terms.' })).status).to.equal(303);
    const refused = await student.post('/topup').type('form').send({ _csrf: csrfTokenFrom(form.text), offer: 'pack-10', terms: acceptedId });
    expect(refused.status).to.equal(400);
    expect(refused.text).to.include('Vous devez accepter les conditions générales de vente.');
    expect((await portal.db.knex('orders')).length).to.equal(ordersBefore);

    const current = await currentTerms(portal.db.knex);
    const page = await student.get('/topup').expect(200);
    expect(page.text).to.include(`name="terms" value="${current?.id}"`);
    const accepted = await student.post('/topup').type('form').send({ _csrf: csrfTokenFrom(page.text), offer: 'pack-10', terms: String(current?.id) });
    expect(accepted.status).to.equal(303);
    expect((await portal.db.knex('orders').orderBy('id', 'desc').first()).terms_version_id).to.equal(current?.id);
  });

  it('publishes terms as long as the rules allow, accents and all, in both languages', async () => {
    const longest = (paragraph: string) => paragraph.repeat(Math.ceil(MAX_TERMS_LENGTH / paragraph.length)).slice(0, MAX_TERMS_LENGTH);
    const fr = longest('Article — Les unités créditées sont dues à réception du paiement ; « reçu » fait foi.\n\n');
    const en = longest('Clause — Units are credited once the payment is received; the receipt is proof.\n\n');
    const published = await previewAndPublish(admin, { fr, en });
    expect(published.status).to.equal(303);
    const current = await portal.db.knex('terms_versions').orderBy('version', 'desc').first();
    expect([current.body_fr.length, current.body_en.length]).to.deep.equal([MAX_TERMS_LENGTH, MAX_TERMS_LENGTH]);
  });

  it('publishes once when "Publish" is pressed twice', async () => {
    const before = await state();
    const preview = await previewOf(admin, { fr: 'Texte A.', en: 'Text A.' });
    const fields = { ...formFields(preview.text, '/admin/terms'), action: 'publish' };
    const [first, second] = [await admin.post('/admin/terms').type('form').send(fields), await admin.post('/admin/terms').type('form').send(fields)];
    expect([first.status, second.status]).to.deep.equal([303, 303]);
    expect(second.headers.location).to.equal(first.headers.location);
    const after = await state();
    expect(after.versions).to.have.length(before.versions.length + 1);
    expect(Number(after.audit)).to.equal(Number(before.audit) + 1);
  });

  it('refuses to publish over a version another admin published meanwhile, keeping the text typed', async () => {
    const mine = await editorFields(admin, { fr: 'Ma version.', en: 'My version.' });
    expect((await previewAndPublish(other, { fr: 'Leur version.', en: 'Their version.' })).status).to.equal(303);
    const before = await state();
    const current = (await currentTerms(portal.db.knex))?.version;

    const refused = await admin.post('/admin/terms').type('form').send({ ...mine, action: 'publish' });
    expect(refused.status).to.equal(409);
    expect(refused.text).to.include(`La version ${current} a été publiée pendant que vous rédigiez.`);
    expect(formFields(refused.text, '/admin/terms')).to.include({ fr: 'Ma version.', en: 'My version.', base: String(current) });
    expect(await state()).to.deep.equal(before);

    // Having been told, the admin can publish over it.
    const again = await admin.post('/admin/terms').type('form').send({ ...formFields(refused.text, '/admin/terms'), action: 'publish' });
    expect(again.status).to.equal(303);
  });

  it('goes back to editing from the preview with the text as typed', async () => {
    const preview = await previewOf(admin, { fr: 'Brouillon\r\n\r\nsur deux paragraphes.  ', en: 'Draft.' });
    const back = await admin.post('/admin/terms').type('form').send({ ...formFields(preview.text, '/admin/terms'), action: 'edit' });
    expect(back.status).to.equal(200);
    expect(formFields(back.text, '/admin/terms')).to.include({ fr: 'Brouillon\n\nsur deux paragraphes.', en: 'Draft.' });
  });

  describe('bad input', () => {
    const cases: Array<[string, Record<string, string | undefined>, string, string]> = [
      ['an empty French text', { fr: '' }, 'body-fr', 'Ce texte est obligatoire.'],
      ['an English text of blanks only', { en: ' \r\n \t ' }, 'body-en', 'Ce texte est obligatoire.'],
      ['a missing French text', { fr: undefined }, 'body-fr', 'Ce texte est obligatoire.'],
      ['texts identical to the version online', {}, 'version', 'Les deux textes sont identiques à la version en ligne : il n&#39;y a rien à publier.'],
    ];
    for (const action of ['preview', 'publish']) {
      for (const [what, changes, field, message] of cases) {
        it(`refuses ${what} (${action}) with a message on the field, publishing nothing`, async () => {
          const before = await state();
          const response = await admin.post('/admin/terms').type('form').send({ ...(await editorFields(admin, changes)), action });
          expect(response.status).to.equal(400);
          expect(response.text).to.include('Rien n&#39;a été publié : corrigez les points signalés ci-dessous.');
          expect(response.text).to.include(`<p class="field-error" id="${field}-error">${message}</p>`);
          if (field !== 'version') expect(response.text).to.match(new RegExp(`id="${field}"[^>]*aria-describedby="markdown-hint ${field}-error"[^>]*aria-invalid="true"`));
          expect(await state()).to.deep.equal(before);
        });
      }
    }

    it('answers in English to an admin reading English', async () => {
      const before = await state();
      const response = await admin.post('/admin/terms').set('Accept-Language', 'en').type('form').send({ ...(await editorFields(admin, { en: '' })), action: 'publish' });
      expect(response.status).to.equal(400);
      expect(response.text).to.include('Nothing was published').and.include('This text is required.');
      expect(await state()).to.deep.equal(before);
    });

    it('refuses a form without its base version or its CSRF token', async () => {
      const before = await state();
      await admin.post('/admin/terms').type('form').send({ ...(await editorFields(admin, { fr: 'X.', base: undefined })), action: 'publish' }).expect(400);
      await admin.post('/admin/terms').type('form').send({ ...(await editorFields(admin, { fr: 'X.', base: 'latest' })), action: 'publish' }).expect(400);
      await admin.post('/admin/terms').type('form').send({ ...(await editorFields(admin, { fr: 'X.', _csrf: undefined })), action: 'publish' }).expect(403);
      expect(await state()).to.deep.equal(before);
    });
  });
});
