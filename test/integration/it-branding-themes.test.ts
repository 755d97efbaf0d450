import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Express } from 'express';
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { projectRoot } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createGatewayFromConfig } from '../../src/payments/paypal/from-config.js';
import { png } from '../fixtures/images/builders.js';
import { formFields } from '../helpers/html-form.js';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';
import { addPeople, brandingState, pageText, primaryOf, signedIn, type Agent } from './it-branding-helpers.js';

const OCEAN = {
  name: 'Médiathèque Océan',
  description: 'Blue and sand.',
  colours: { primary: '#0b4f6c', accent: '#b45309', background: '#fbfaf5', text: '#14213d' },
  logo: 'logo.png',
  favicon: 'logo.png',
  messages: {
    fr: { welcome: 'Bienvenue à la médiathèque Océan.', topUpIntro: 'Rechargez.', confirmation: 'Merci.', contact: 'Accueil Océan, poste 100.' },
    en: { welcome: 'Welcome to the Ocean library.', topUpIntro: 'Top up.', confirmation: 'Thank you.', contact: 'Ocean desk, extension 100.' },
  },
};

/** A themes folder of its own: the default theme, a valid "ocean" theme and a "broken" one (grey on white). */
async function themesFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'recharge-themes-'));
  await cp(path.join(projectRoot, 'themes', 'default'), path.join(dir, 'default'), { recursive: true });
  await mkdir(path.join(dir, 'ocean', 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'ocean', 'theme.json'), JSON.stringify(OCEAN));
  await writeFile(path.join(dir, 'ocean', 'assets', 'logo.png'), await png());
  await mkdir(path.join(dir, 'broken', 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'broken', 'theme.json'), JSON.stringify({ ...OCEAN, name: 'Broken', colours: { ...OCEAN.colours, text: '#aaaaaa' } }));
  await writeFile(path.join(dir, 'broken', 'assets', 'logo.png'), await png());
  return dir;
}

describe('IT branding: theme folders, and other instances', function () {
  let themesDir: string;
  let portal: TestPortal;
  let it_: Agent;
  let secondApp: Express;

  before(async () => {
    themesDir = await themesFolder();
    // Every instance asks the database for a newer publication on every page.
    portal = await createTestPortal({ THEMES_DIR: themesDir, BRANDING_REFRESH_SECONDS: '0' });
    await addPeople(portal);
    it_ = await signedIn(portal, 'it');
    // A second instance of the portal on the same database, as behind a load balancer.
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    ({ app: secondApp } = createApp({ config: portal.config, db: portal.db, logger: createLogger(portal.config, silent), gateway: createGatewayFromConfig(portal.config.payments), clock: portal.clock, hasher: portal.hasher, identity: portal.identity }));
  });
  after(async () => {
    await portal.cleanup();
    await rm(themesDir, { recursive: true, force: true });
  });

  it('lists the valid theme folders to start from, and the refused ones with why', async () => {
    const page = await it_.get('/it/branding').expect(200);
    expect(page.text).to.include('action="/it/branding/themes/ocean/drafts"').and.include('action="/it/branding/themes/default/drafts"');
    expect(page.text).not.to.include('action="/it/branding/themes/broken/drafts"');
    expect(page.text).to.include('<option value="ocean">');
    const text = pageText(page.text);
    expect(text).to.include('Dossiers refusés').and.include('<strong>broken</strong>').and.include('colours below WCAG AA contrast');
  });

  it("describes each theme in the page's language: one text per language, or one text for both", async () => {
    const french = pageText((await it_.get('/it/branding').expect(200)).text);
    expect(french).to.include("L'aspect propre au portail : un bleu calme, lisible sur tout écran.").and.include('Blue and sand.');
    expect(french).not.to.include("The portal's own look");
    const english = pageText((await it_.get('/it/branding').set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include("The portal's own look: calm blue, readable on any screen.").and.include('Blue and sand.');
    expect(english).not.to.include("L'aspect propre au portail");
  });

  it('starts a draft from a theme folder, previews it, and switches the live theme when published; another instance sees it on its next page', async () => {
    const visitorOnSecond = supertest.agent(secondApp);
    const loginBefore = await visitorOnSecond.get('/login').expect(200);
    expect(primaryOf(loginBefore.text)).to.equal('#1d4f91');

    const before = await brandingState(portal);
    const overview = await it_.get('/it/branding').expect(200);
    const started = await it_.post('/it/branding/themes/ocean/drafts').type('form').send(formFields(overview.text, '/it/branding/themes/ocean/drafts'));
    expect(started.status).to.equal(303);
    expect(await brandingState(portal)).to.include({ versions: before.versions + 1, audit: before.audit + 1, publications: before.publications });
    const version = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    expect(version).to.include({ theme: 'ocean', logo_upload_id: null, favicon_upload_id: null });
    expect(JSON.parse(version.colours_json)).to.deep.equal(OCEAN.colours);
    expect(JSON.parse(version.messages_json)).to.deep.equal(OCEAN.messages);
    expect((await portal.db.knex('audit_log').orderBy('id', 'desc').first()).action).to.equal('branding.draft');

    const preview = await it_.get('/account').expect(200);
    expect(primaryOf(preview.text)).to.equal(OCEAN.colours.primary);
    expect(preview.text).to.include('src="/themes/ocean/assets/logo.png"').and.include('Accueil Océan, poste 100.');
    expect(primaryOf((await visitorOnSecond.get('/login').expect(200)).text)).to.equal('#1d4f91');

    const form = await it_.get('/it/branding').expect(200);
    expect(form.text).to.include('<option value="ocean" selected>');
    await it_.post(`/it/branding/versions/${version.id}/publish`).type('form').send(formFields(preview.text, `/it/branding/versions/${version.id}/publish`)).expect(303);

    const loginAfter = await visitorOnSecond.get('/login').expect(200);
    expect(primaryOf(loginAfter.text)).to.equal(OCEAN.colours.primary);
    expect(loginAfter.text).to.include('src="/themes/ocean/assets/logo.png"').and.include('Médiathèque Océan');
    expect((await visitorOnSecond.get('/themes/ocean/assets/logo.png')).status).to.equal(200);
  });

  it('refuses to start from a folder that is not a valid theme: 404 and nothing written', async () => {
    const page = await it_.get('/it/branding').expect(200);
    const { _csrf } = formFields(page.text, '/it/branding/themes/default/drafts');
    const before = await brandingState(portal);
    for (const folder of ['broken', 'missing', '..', 'DEFAULT']) {
      expect((await it_.post(`/it/branding/themes/${folder}/drafts`).type('form').send({ _csrf })).status, folder).to.equal(404);
    }
    expect(await brandingState(portal)).to.deep.equal(before);
  });
});
