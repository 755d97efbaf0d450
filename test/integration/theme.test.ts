import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import ejs from 'ejs';
import supertest from 'supertest';
import { projectRoot } from '../../src/config.js';
import type { ThemeMessages } from '../../src/domain/branding/branding.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';

const PASSWORD = 'a good long password';
type Agent = ReturnType<typeof supertest.agent>;

const themeJson = (folder: string) => JSON.parse(readFileSync(path.join(projectRoot, 'themes', folder, 'theme.json'), 'utf8')) as { messages: ThemeMessages };
/** A message as the page writes it: escaped, its line breaks as typed. */
const shown = (text: string) => ejs.escapeXML(text);
const footerOf = (html: string) => /<footer[\s\S]*<\/footer>/.exec(html)?.[0] ?? '';

async function chooseLanguage(agent: Agent, locale: 'fr' | 'en'): Promise<void> {
  const page = await agent.get('/account').expect(200);
  await agent.post('/language').type('form').send({ _csrf: csrfTokenFrom(page.text), locale, returnTo: '/account' }).expect(303);
}

/** A paid order of the person logged in on `agent`, through the PayPal simulator; returns its number. */
async function paidOrder(portal: TestPortal, agent: Agent, termsId: number): Promise<string> {
  const number = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) });
  const paypalOrderId = await pay(agent, portal, number);
  await agent.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
  await portal.simulator.flushWebhooks();
  return number;
}

describe(`theme folders on the pages (${testDialect})`, () => {
  // First, so that the templates are compiled (and cached by EJS) by another app than the campus one.
  describe('the default theme', () => {
    const recharge = themeJson('default');
    let portal: TestPortal;

    before(async () => {
      portal = await createTestPortal({ THEME: 'default' });
    });
    after(() => portal.cleanup());

    it('shows the portal footer with its contact message, and no theme stylesheet', async () => {
      const page = (await supertest(portal.app).get('/login').set('Accept-Language', 'en').expect(200)).text;
      const footer = footerOf(page);
      expect(footer).to.include('class="site-footer"').and.include(shown(recharge.messages.en.contact)).and.not.include('site-footer--campus');
      expect(page).to.include(shown(recharge.messages.en.welcome)).and.not.include('theme.css');
      expect(page).to.include('<link rel="icon" href="/themes/default/assets/logo.svg">');
    });
  });

  describe('the example theme (THEME=campus)', () => {
    const campus = themeJson('campus');
    let portal: TestPortal;
    let agent: Agent;
    let termsId: number;

    before(async () => {
      portal = await createTestPortal({ THEME: 'campus' });
      termsId = await publishOffers(portal);
      await portal.addUser('lea', PASSWORD);
      agent = supertest.agent(portal.app);
      await logIn(agent, 'lea', PASSWORD);
    });
    afterEach(() => expectLedgerConsistent(portal.db));
    after(() => portal.cleanup());

    it('shows its own footer (its view override) with its contact message', async () => {
      const footer = footerOf((await supertest(portal.app).get('/login').set('Accept-Language', 'fr').expect(200)).text);
      expect(footer).to.include('site-footer--campus').and.include(shown(campus.messages.fr.contact)).and.include('href="/terms"');
      expect(footer).to.include('Service Recharge : Crédit d&#39;impression et de copie');
    });

    it('links its theme.css after the portal stylesheet and serves it as CSS', async () => {
      const page = (await supertest(portal.app).get('/login').expect(200)).text;
      const base = page.indexOf('href="/assets/recharge.css"');
      const own = page.indexOf('href="/themes/campus/theme.css"');
      expect(base).to.be.greaterThan(0);
      expect(own).to.be.greaterThan(base);
      const css = await supertest(portal.app).get('/themes/campus/theme.css').expect(200);
      expect(css.headers['content-type']).to.match(/^text\/css/);
      expect(css.text).to.equal(readFileSync(path.join(projectRoot, 'themes', 'campus', 'theme.css'), 'utf8'));
    });

    it('serves the logo and favicon the pages point to', async () => {
      const page = (await supertest(portal.app).get('/login').expect(200)).text;
      const logo = /<img src="([^"]+)"/.exec(page)?.[1];
      const favicon = /<link rel="icon" href="([^"]+)"/.exec(page)?.[1];
      expect([logo, favicon]).to.deep.equal(['/themes/campus/assets/logo.png', '/themes/campus/assets/favicon.png']);
      for (const url of [logo!, favicon!]) {
        const image = await supertest(portal.app).get(url).buffer(true).expect(200);
        expect(image.headers['content-type'], url).to.equal('image/png');
        expect((image.body as Buffer).subarray(0, 8).toString('hex'), url).to.equal('89504e470d0a1a0a');
      }
    });

    it('never serves theme.json, the views or anything outside assets/', async () => {
      for (const url of [
        '/themes/campus/theme.json',
        '/themes/campus/views/partials/footer.ejs',
        '/themes/campus/assets/theme.json',
        '/themes/campus/assets/..%2Ftheme.json',
        '/themes/campus/assets/..%2Fviews%2Fpartials%2Ffooter.ejs',
        '/themes/campus/../default/theme.json',
        '/themes/default/theme.json',
        '/assets/../theme.json',
        '/assets/..%2Ftheme.json',
        '/themes/missing/theme.css',
        '/themes/default/theme.css',
      ]) {
        const response = await supertest(portal.app).get(url);
        expect(response.status, url).to.equal(404);
        expect(response.text, url).not.to.include('"colours"');
      }
    });

    it('shows its messages on the login, account, top-up, order and receipt pages, in French and in English', async () => {
      const number = await paidOrder(portal, agent, termsId);
      const unpaid = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
      for (const locale of ['fr', 'en'] as const) {
        const messages = campus.messages[locale];
        await chooseLanguage(agent, locale);
        const login = (await supertest(portal.app).get('/login').set('Accept-Language', locale).expect(200)).text;
        expect(login, `login ${locale}`).to.include(`<html lang="${locale}">`).and.include(shown(messages.welcome));
        expect((await agent.get('/account').expect(200)).text, `account ${locale}`).to.include(shown(messages.welcome));
        const topUp = (await agent.get('/topup').expect(200)).text;
        expect(topUp, `top-up ${locale}`).to.include(shown(messages.topUpIntro));
        expect(topUp.indexOf(shown(messages.topUpIntro)), 'above the offers').to.be.lessThan(topUp.indexOf('name="offer"'));
        expect((await agent.get(`/orders/${number}`).expect(200)).text, `paid order ${locale}`).to.include(shown(messages.confirmation));
        expect((await agent.get(`/orders/${number}/receipt`).expect(200)).text, `receipt ${locale}`).to.include(shown(messages.confirmation));
        expect((await agent.get(`/orders/${unpaid}`).expect(200)).text, `unpaid order ${locale}`).not.to.include(shown(messages.confirmation));
        expect(footerOf((await agent.get('/account')).text), `footer ${locale}`).to.include(shown(messages.contact));
      }
    });

    it('keeps the line breaks of a message (the element preserves them) and escapes its text', async () => {
      const page = (await supertest(portal.app).get('/login').set('Accept-Language', 'fr').expect(200)).text;
      expect(campus.messages.fr.welcome).to.include('\n');
      expect(page).to.match(/<p class="theme-message theme-message--welcome">[^<]*\n[^<]*<\/p>/);
      expect(campus.messages.fr.welcome).to.include("'");
      expect(page).to.include(shown(campus.messages.fr.welcome)).and.not.include(campus.messages.fr.welcome);
      const css = readFileSync(path.join(projectRoot, 'themes', 'default', 'assets', 'recharge.css'), 'utf8');
      expect(css).to.match(/\.theme-message\s*\{[^}]*white-space:\s*pre-line/);
    });
  });

  describe('a theme whose messages are empty', () => {
    let portal: TestPortal;
    let themesDir: string;

    before(async () => {
      themesDir = mkdtempSync(path.join(tmpdir(), 'recharge-themes-'));
      cpSync(path.join(projectRoot, 'themes', 'default'), path.join(themesDir, 'default'), { recursive: true });
      cpSync(path.join(projectRoot, 'themes', 'default'), path.join(themesDir, 'quiet'), { recursive: true });
      const quiet = themeJson('default');
      const nothing = { welcome: '', topUpIntro: '', confirmation: '', contact: '  ' };
      writeFileSync(path.join(themesDir, 'quiet', 'theme.json'), JSON.stringify({ ...quiet, name: 'Quiet', messages: { fr: nothing, en: nothing } }));
      portal = await createTestPortal({ THEME: 'quiet', THEMES_DIR: themesDir });
      await publishOffers(portal);
      await portal.addUser('lea', PASSWORD);
    });
    after(async () => {
      await portal.cleanup();
      rmSync(themesDir, { recursive: true, force: true });
    });

    it('shows no message element at all', async () => {
      const agent = supertest.agent(portal.app);
      const login = (await agent.get('/login').expect(200)).text;
      expect(login).to.include('Quiet');
      await logIn(agent, 'lea', PASSWORD);
      for (const url of ['/login', '/account', '/topup']) {
        const page = (await agent.get(url).redirects(1).expect(200)).text;
        expect(page, url).not.to.include('theme-message');
      }
    });
  });
});
