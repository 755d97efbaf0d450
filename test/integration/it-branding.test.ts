import { expect } from 'chai';
import { colourProblems, COLOUR_NAMES, type ThemeColours } from '../../src/domain/branding/colour-contrast.js';
import { formFields } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { addPeople, brandingState, draftFields, fieldError, pageText, postDraft, primaryOf, signedIn, type Agent } from './it-branding-helpers.js';

const DEFAULT_PRIMARY = '#1d4f91';
const lastRow = (portal: TestPortal, table: string) => portal.db.knex(table).orderBy('id', 'desc').first();

/** Posts one of the page's small forms (publish, restore, leave, start from a theme) as the browser would. */
function submit(agent: Agent, page: string, action: string) {
  return agent.post(action).type('form').send(formFields(page, action));
}

describe('IT branding: colours, messages, preview and publication', function () {
  let portal: TestPortal;
  let it_: Agent;
  let student: Agent;

  before(async () => {
    portal = await createTestPortal();
    await addPeople(portal);
    it_ = await signedIn(portal, 'it');
    student = await signedIn(portal, 'user');
  });
  after(() => portal.cleanup());

  /** Each test starts outside any preview. */
  beforeEach(async () => {
    const page = await it_.get('/it/branding').expect(200);
    await it_.post('/it/branding/preview/leave').type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(303);
  });

  describe('colours', () => {
    for (const value of ['red', '#fff', '#12345g', 'javascript:alert(1)', '#1234567', '1d4f91', '#1d4f91; color: red', 'rgb(0, 0, 0)']) {
      it(`refuses the colour ${JSON.stringify(value)} with 400 and says why at the field`, async () => {
        const before = await brandingState(portal);
        const response = await postDraft(it_, { ...(await draftFields(it_)), primary: value });
        expect(response.status).to.equal(400);
        expect(fieldError(response.text, 'primary')).to.equal(`« ${value} » n'est pas une couleur au format #rrggbb (par exemple #1d4f91).`);
        expect(await brandingState(portal)).to.deep.equal(before);
      });
    }

    for (const colour of COLOUR_NAMES) {
      it(`refuses a form without the ${colour} colour (neither typed nor picked)`, async () => {
        const before = await brandingState(portal);
        const fields = await draftFields(it_);
        delete fields[colour];
        delete fields[`${colour}-picker`];
        const response = await postDraft(it_, fields);
        expect(response.status).to.equal(400);
        expect(fieldError(response.text, colour)).to.equal('Choisissez une couleur (#rrggbb).');
        expect(await brandingState(portal)).to.deep.equal(before);
      });
    }

    it('refuses text below 4.5:1 on the background, naming the pair, the measured ratio and the minimum (in French and English)', async () => {
      const before = await brandingState(portal);
      const fields = { ...(await draftFields(it_)), text: '#777777', background: '#ffffff' };
      const french = await postDraft(it_, fields);
      expect(french.status).to.equal(400);
      expect(fieldError(french.text, 'text')).to.equal('Le texte (#777777) sur le fond (#ffffff) a un contraste de 4,21:1 ; il faut au moins 4,5:1 (WCAG AA) pour être lisible.');
      const english = await postDraft(it_, fields).set('Accept-Language', 'en');
      expect(english.status).to.equal(400);
      expect(fieldError(english.text, 'text')).to.equal('The text (#777777) on the background (#ffffff) has a contrast of 4.21:1; at least 4.5:1 is needed (WCAG AA) to be readable.');
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    const failing: Array<[string, Partial<ThemeColours>, Record<string, string>]> = [
      ['links and headings too light', { primary: '#8899aa' }, { primary: 'La couleur principale (#8899aa), celle des liens et des titres, sur le fond (#ffffff) a un contraste de' }],
      ['a focus outline that does not show', { accent: '#eeeeee' }, { accent: "La couleur d'accent (#eeeeee), celle du contour de focus, sur le fond (#ffffff) a un contraste de" }],
      ['a background as dark as the text', { background: '#1a1d21' }, { text: 'Le texte (#1a1d21) sur le fond (#1a1d21) a un contraste de 1:1', primary: 'La couleur principale (#1d4f91)' }],
      ['light text on white', { text: '#ffffff', primary: '#ffff00', accent: '#ffffee' }, { text: 'Le texte (#ffffff)', primary: 'La couleur principale (#ffff00)', accent: "La couleur d'accent (#ffffee)" }],
    ];
    for (const [what, change, messages] of failing) {
      it(`refuses ${what}: 400 with the measured ratio at each failing colour`, async () => {
        const before = await brandingState(portal);
        const fields = { ...(await draftFields(it_)), ...change } as Record<string, string>;
        const response = await postDraft(it_, fields);
        expect(response.status).to.equal(400);
        const problems = colourProblems(fields as unknown as ThemeColours);
        expect(problems.length).to.equal(Object.keys(messages).length);
        for (const problem of problems) {
          if (problem.kind !== 'contrast') throw new Error('expected contrast problems only');
          const field = problem.pair.split('-')[0]!;
          const ratio = new Intl.NumberFormat('fr', { maximumFractionDigits: 2 }).format(problem.ratio);
          const minimum = new Intl.NumberFormat('fr').format(problem.minimum);
          expect(fieldError(response.text, field), field).to.include(messages[field]).and.include(`a un contraste de ${ratio}:1 ; il faut au moins ${minimum}:1 (WCAG AA`);
        }
        expect(await brandingState(portal)).to.deep.equal(before);
      });
    }

    it('shows a #rrggbb field beside each picker; the typed value counts, the picker when nothing is typed', async () => {
      const page = (await it_.get('/it/branding').expect(200)).text;
      for (const colour of COLOUR_NAMES) {
        expect(page).to.match(new RegExp(`<input type="text" id="${colour}" name="${colour}" value="#[0-9a-f]{6}"[^>]*>\\s*<label for="${colour}-picker" class="visually-hidden">[^<]+</label>\\s*<input type="color" id="${colour}-picker" name="${colour}-picker"`));
      }
      const fields = await draftFields(it_);
      await postDraft(it_, { ...fields, primary: '#7A2E8E', 'primary-picker': '#000000', accent: '', 'accent-picker': '#B45309' }).expect(303);
      const version = await lastRow(portal, 'branding_versions');
      expect(JSON.parse(version.colours_json)).to.include({ primary: '#7a2e8e', accent: '#b45309' });
    });

    it('refuses a mistyped #rrggbb field even when its picker holds a valid colour, in French and English', async () => {
      const before = await brandingState(portal);
      const fields = { ...(await draftFields(it_)), primary: '#12345', 'primary-picker': '#123456' };
      const french = await postDraft(it_, fields);
      expect(french.status).to.equal(400);
      expect(fieldError(french.text, 'primary')).to.equal("« #12345 » n'est pas une couleur au format #rrggbb (par exemple #1d4f91).");
      expect(french.text).to.match(/<input type="text" id="primary" name="primary" value="#12345"[^>]*aria-invalid="true"/);
      const english = await postDraft(it_, fields).set('Accept-Language', 'en');
      expect(fieldError(english.text, 'primary')).to.equal('"#12345" is not a colour written #rrggbb (for example #1d4f91).');
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    it('saves colours that pass as a draft, written lowercase, audited', async () => {
      const before = await brandingState(portal);
      const response = await postDraft(it_, { ...(await draftFields(it_)), primary: '#7A2E8E', accent: '#B45309', background: '#FFFDF7', text: '#222222' });
      expect(response.status).to.equal(303);
      const version = await lastRow(portal, 'branding_versions');
      expect(JSON.parse(version.colours_json)).to.deep.equal({ primary: '#7a2e8e', accent: '#b45309', background: '#fffdf7', text: '#222222' });
      expect(await brandingState(portal)).to.include({ versions: before.versions + 1, audit: before.audit + 1, publications: before.publications });
      const audit = await lastRow(portal, 'audit_log');
      expect(audit).to.include({ action: 'branding.draft', actor_username: 'informatique' });
      expect(JSON.parse(audit.after_json).colours).to.deep.equal({ primary: '#7a2e8e', accent: '#b45309', background: '#fffdf7', text: '#222222' });
    });

    it('refuses a theme that is not one of the folders', async () => {
      const before = await brandingState(portal);
      const response = await postDraft(it_, { ...(await draftFields(it_)), theme: '../default' });
      expect(response.status).to.equal(400);
      expect(fieldError(response.text, 'theme')).to.equal("Choisissez l'un des thèmes de la liste.");
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    it('refuses a form whose base version is unknown', async () => {
      const before = await brandingState(portal);
      expect((await postDraft(it_, { ...(await draftFields(it_)), base: '999999' })).status).to.equal(400);
      expect((await postDraft(it_, { ...(await draftFields(it_)), base: 'x' })).status).to.equal(400);
      expect(await brandingState(portal)).to.deep.equal(before);
    });
  });

  describe('messages', () => {
    it('refuses a message over 600 characters at its field, and one with control characters at the edge', async () => {
      const before = await brandingState(portal);
      const response = await postDraft(it_, { ...(await draftFields(it_)), 'message-fr-welcome': 'é'.repeat(601) });
      expect(response.status).to.equal(400);
      expect(fieldError(response.text, 'message-fr-welcome')).to.equal('Ce message est trop long : 600 caractères au plus.');
      // C0 controls never reach the form's rules: the portal refuses them for every route at once.
      const control = await postDraft(it_, { ...(await draftFields(it_)), 'message-en-contact': 'Call\u0007us' });
      expect(control.status).to.equal(400);
      expect(control.text).to.include('Requête incorrecte');
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    it('keeps messages in both languages as typed (line ends made \\n, blanks around trimmed), shown where the pages show them', async () => {
      const fields = {
        ...(await draftFields(it_)),
        'message-fr-welcome': '  Bienvenue à la médiathèque <b>!</b>\r\nBonne lecture. ',
        'message-en-welcome': 'Welcome to the media library',
        'message-fr-contact': 'Une question ? Poste 4321.',
        'message-en-contact': 'A question? Extension 4321.',
      };
      expect((await postDraft(it_, fields)).status).to.equal(303);
      const messages = JSON.parse((await lastRow(portal, 'branding_versions')).messages_json);
      expect(messages.fr).to.include({ welcome: 'Bienvenue à la médiathèque <b>!</b>\nBonne lecture.', contact: 'Une question ? Poste 4321.' });
      expect(messages.en).to.include({ welcome: 'Welcome to the media library', contact: 'A question? Extension 4321.' });
      const account = await it_.get('/account').expect(200);
      expect(account.text).to.include('Bienvenue à la médiathèque &lt;b&gt;!&lt;/b&gt;').and.include('Une question ? Poste 4321.');
      const english = await it_.get('/account').set('Accept-Language', 'en').expect(200);
      expect(english.text).to.include('Welcome to the media library').and.include('A question? Extension 4321.');
      expect((await student.get('/account').expect(200)).text).not.to.include('Poste 4321');
    });
  });

  describe('preview, publication and restoring', () => {
    it('shows the draft to the IT person only, publishes it for everybody at once, restores the earlier look, each step audited', async () => {
      expect(primaryOf((await student.get('/account').expect(200)).text)).to.equal(DEFAULT_PRIMARY);

      // A draft: IT sees it everywhere, with the banner; the student still sees the live look.
      await postDraft(it_, { ...(await draftFields(it_)), primary: '#7a2e8e', 'message-fr-welcome': 'Bienvenue, version violette.' }).expect(303);
      const first = (await lastRow(portal, 'branding_versions')).id as number;
      const preview = await it_.get('/account').expect(200);
      expect(primaryOf(preview.text)).to.equal('#7a2e8e');
      expect(preview.text).to.include('Bienvenue, version violette.');
      expect(pageText(preview.text)).to.include(`Aperçu d'un aspect non publié (version ${first})`);
      const studentPage = await student.get('/account').expect(200);
      expect(primaryOf(studentPage.text)).to.equal(DEFAULT_PRIMARY);
      expect(studentPage.text).not.to.include('Bienvenue, version violette.').and.not.include('Aperçu');

      // Publishing from the banner: everybody's next page shows it, the preview ends.
      const before = await brandingState(portal);
      const published = await submit(it_, preview.text, `/it/branding/versions/${first}/publish`);
      expect(published.status).to.equal(303);
      expect(published.headers.location).to.equal('/it/branding?notice=published');
      expect(await brandingState(portal)).to.include({ publications: before.publications + 1, audit: before.audit + 1, versions: before.versions });
      const publishAudit = await lastRow(portal, 'audit_log');
      expect(publishAudit).to.include({ action: 'branding.publish', actor_username: 'informatique', target: `version ${first}` });
      expect(JSON.parse(publishAudit.before_json)).to.equal(null);
      expect(JSON.parse(publishAudit.after_json)).to.deep.include({ versionId: first, theme: 'default' });
      expect(primaryOf((await student.get('/account').expect(200)).text)).to.equal('#7a2e8e');
      const afterPublish = await it_.get('/account').expect(200);
      expect(primaryOf(afterPublish.text)).to.equal('#7a2e8e');
      expect(afterPublish.text).not.to.include('/preview/leave');
      expect(pageText((await it_.get('/it/branding?notice=published').expect(200)).text)).to.include('Aspect publié').and.include(`Version ${first}, publiée par informatique`);

      // A second look, published; then the first restored from the history.
      await postDraft(it_, { ...(await draftFields(it_)), primary: '#0b5d3b' }).expect(303);
      const second = (await lastRow(portal, 'branding_versions')).id as number;
      await submit(it_, (await it_.get('/account')).text, `/it/branding/versions/${second}/publish`).expect(303);
      expect(JSON.parse((await lastRow(portal, 'audit_log')).before_json)).to.deep.include({ versionId: first });
      expect(primaryOf((await student.get('/account').expect(200)).text)).to.equal('#0b5d3b');

      const overview = await it_.get('/it/branding').expect(200);
      expect(overview.text).not.to.include(`/it/branding/versions/${second}/restore`);
      const restored = await submit(it_, overview.text, `/it/branding/versions/${first}/restore`);
      expect(restored.headers.location).to.equal('/it/branding?notice=restored');
      const restoreAudit = await lastRow(portal, 'audit_log');
      expect(restoreAudit).to.include({ action: 'branding.restore', target: `version ${first}` });
      expect(JSON.parse(restoreAudit.before_json)).to.deep.include({ versionId: second });
      expect(JSON.parse(restoreAudit.after_json)).to.deep.include({ versionId: first });
      const studentAgain = await student.get('/account').expect(200);
      expect(primaryOf(studentAgain.text)).to.equal('#7a2e8e');
      expect(studentAgain.text).to.include('Bienvenue, version violette.');
      expect((await portal.db.knex('branding_publications').orderBy('id').select('version_id')).map((row: { version_id: number }) => row.version_id)).to.deep.equal([first, second, first]);
    });

    it('publishing the live version again changes nothing and says so', async () => {
      await postDraft(it_, await draftFields(it_)).expect(303);
      const id = (await lastRow(portal, 'branding_versions')).id as number;
      const page = (await it_.get('/account')).text;
      await submit(it_, page, `/it/branding/versions/${id}/publish`).expect(303);
      const before = await brandingState(portal);
      const again = await it_.post(`/it/branding/versions/${id}/publish`).type('form').send({ _csrf: csrfTokenFrom(page) });
      expect(again.headers.location).to.equal('/it/branding?notice=alreadyLive');
      expect(pageText((await it_.get(again.headers.location!)).text)).to.include("Cette version est déjà celle en ligne : rien n'a changé.");
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    it('refuses to restore a version that was never published (409), and answers 404 for unknown versions', async () => {
      await postDraft(it_, { ...(await draftFields(it_)), primary: '#123456' }).expect(303);
      const draft = (await lastRow(portal, 'branding_versions')).id as number;
      const token = csrfTokenFrom((await it_.get('/it/branding')).text);
      const before = await brandingState(portal);
      const refused = await it_.post(`/it/branding/versions/${draft}/restore`).type('form').send({ _csrf: token });
      expect(refused.status).to.equal(409);
      expect(pageText(refused.text)).to.include(`La version ${draft} n'a jamais été publiée`);
      for (const id of ['999999', 'abc', '0', '1e3']) {
        for (const action of ['publish', 'restore']) expect((await it_.post(`/it/branding/versions/${id}/${action}`).type('form').send({ _csrf: token })).status, `${action} ${id}`).to.equal(404);
      }
      expect(await brandingState(portal)).to.deep.equal(before);
    });

    it('refuses publishing without the CSRF token: 403 and nothing changes', async () => {
      await postDraft(it_, { ...(await draftFields(it_)), primary: '#5b2a86' }).expect(303);
      const draft = (await lastRow(portal, 'branding_versions')).id as number;
      const before = await brandingState(portal);
      expect((await it_.post(`/it/branding/versions/${draft}/publish`).type('form').send({})).status).to.equal(403);
      expect((await it_.post(`/it/branding/versions/${draft}/publish`).type('form').send({ _csrf: 'forged' })).status).to.equal(403);
      expect(await brandingState(portal)).to.deep.equal(before);
      expect(primaryOf((await student.get('/account')).text)).not.to.equal('#5b2a86');
    });

    it('leaves the preview: the IT person sees the live look again', async () => {
      await postDraft(it_, { ...(await draftFields(it_)), primary: '#6d2f1d' }).expect(303);
      const preview = await it_.get('/account').expect(200);
      expect(primaryOf(preview.text)).to.equal('#6d2f1d');
      const left = await submit(it_, preview.text, '/it/branding/preview/leave');
      expect(left.headers.location).to.equal('/it/branding?notice=left');
      const after = await it_.get('/account').expect(200);
      expect(primaryOf(after.text)).not.to.equal('#6d2f1d');
      expect(after.text).not.to.include('/preview/leave');
    });
  });

  describe('organisation name', () => {
    const headerName = (html: string) => /<a class="brand" href="\/">[\s\S]*?<span>([^<]*)<\/span>/.exec(html)?.[1];

    it("starts from the live look's name, saves the one typed (one line) as a draft, audited, shown in the header once published", async () => {
      const page = await it_.get('/it/branding').expect(200);
      expect(formFields(page.text, '/it/branding/drafts').organisationName).to.equal(headerName(page.text));
      await postDraft(it_, { ...(await draftFields(it_)), organisationName: '  Médiathèque\t de  l’Ouest \n' }).expect(303);
      const version = await lastRow(portal, 'branding_versions');
      expect(version.organisation_name).to.equal('Médiathèque de l’Ouest');
      expect(JSON.parse((await lastRow(portal, 'audit_log')).after_json)).to.include({ organisationName: 'Médiathèque de l’Ouest' });
      const preview = await it_.get('/account').expect(200);
      expect(pageText(headerName(preview.text) ?? '')).to.equal('Médiathèque de l’Ouest');
      expect(pageText(headerName((await student.get('/account').expect(200)).text) ?? '')).not.to.equal('Médiathèque de l’Ouest');
      await submit(it_, preview.text, `/it/branding/versions/${version.id}/publish`).expect(303);
      expect(JSON.parse((await lastRow(portal, 'audit_log')).after_json)).to.include({ organisationName: 'Médiathèque de l’Ouest' });
      expect(pageText(headerName((await student.get('/account').expect(200)).text) ?? '')).to.equal('Médiathèque de l’Ouest');
      expect(formFields((await it_.get('/it/branding').expect(200)).text, '/it/branding/drafts').organisationName).to.equal('Médiathèque de l’Ouest');
    });

    for (const [what, value, french, english] of [
      ['an empty name', ' \t ', "Indiquez le nom de l'organisation, affiché à côté du logo.", 'Enter the organisation name, shown beside the logo.'],
      ['a name over 100 characters', 'x'.repeat(101), 'Ce nom est trop long : 100 caractères au plus.', 'This name is too long: at most 100 characters.'],
      ['a name that turns the text after it around (U+202E)', 'Médiathèque \u202ecoc.liam', "Ce nom contient des caractères invisibles ou de mise en forme (par exemple un changement de sens d'écriture) : retapez-le.", 'This name holds invisible or formatting characters (such as a change of writing direction): please type it again.'],
      ['a name of a zero-width space only', '\u200b', "Ce nom contient des caractères invisibles ou de mise en forme (par exemple un changement de sens d'écriture) : retapez-le.", 'This name holds invisible or formatting characters (such as a change of writing direction): please type it again.'],
      ['a name with a C1 control', 'Médiathèque\u0085', "Ce nom contient des caractères invisibles ou de mise en forme (par exemple un changement de sens d'écriture) : retapez-le.", 'This name holds invisible or formatting characters (such as a change of writing direction): please type it again.'],
    ] as const) {
      it(`refuses ${what} at its field (in French and English), nothing saved`, async () => {
        const before = await brandingState(portal);
        const fields = { ...(await draftFields(it_)), organisationName: value };
        const response = await postDraft(it_, fields);
        expect(response.status).to.equal(400);
        expect(fieldError(response.text, 'organisationName')).to.equal(french);
        expect(fieldError((await postDraft(it_, fields).set('Accept-Language', 'en')).text, 'organisationName')).to.equal(english);
        expect(await brandingState(portal)).to.deep.equal(before);
      });
    }

    it("shows a version saved before the name could be chosen with its theme folder's name", async () => {
      await postDraft(it_, { ...(await draftFields(it_)), organisationName: 'Nom provisoire' }).expect(303);
      const version = await lastRow(portal, 'branding_versions');
      await portal.db.knex('branding_versions').where({ id: version.id }).update({ organisation_name: null });
      expect(headerName((await it_.get('/account').expect(200)).text)).to.equal('Recharge');
      expect(formFields((await it_.get('/it/branding').expect(200)).text, '/it/branding/drafts').organisationName).to.equal('Recharge');
    });
  });
});
