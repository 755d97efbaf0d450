import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { ViewOverrides } from '../../src/services/branding/theme-service.js';
import { themedViews } from '../../src/web/themes/themed-views.js';

/** Renders like Express does: the engine, on the file resolveView picked, with the page's theme among the locals. */
function render(views: ReturnType<typeof themedViews>, theme: ViewOverrides | undefined, name: string, data: object = {}, { cache = true } = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    views.engine(cache)(views.resolveView(name, theme), { ...data, theme: theme && { views: theme } }, (error, html) => (error ? reject(error) : resolve(html!))),
  );
}

describe('theme-first views', () => {
  let root: string;
  let views: ReturnType<typeof themedViews>;
  let theme: ViewOverrides;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'recharge-views-'));
    const write = async (file: string, text: string) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    };
    await write('views/pages/home.ejs', "home[<%- include('partials/box') %>]");
    await write('views/admin/deep/page.ejs', "deep[<%- include('partials/box') %>]");
    await write('views/partials/box.ejs', "box[<%- include('partials/label') %>]");
    await write('views/partials/label.ejs', 'default label <%= who %>');
    await write('theme/views/partials/label.ejs', 'theme label <%= who %>');
    await write('theme/views/pages/home.ejs', "theme home[<%- include('partials/box') %>]");
    views = themedViews(path.join(root, 'views'));
    theme = { viewsDir: path.join(root, 'theme', 'views'), overrides: new Set(['partials/label.ejs', 'pages/home.ejs']) };
  });

  after(() => rm(root, { recursive: true, force: true }));

  it('uses the portal views when there is no theme or the theme overrides nothing', async () => {
    expect(await render(views, undefined, 'pages/home', { who: 'x' })).to.equal('home[box[default label x]]');
    expect(await render(views, { viewsDir: theme.viewsDir, overrides: new Set() }, 'pages/home', { who: 'x' })).to.equal('home[box[default label x]]');
  });

  it("uses a theme's page and its partials, however deep the include that asks for them", async () => {
    expect(await render(views, theme, 'pages/home', { who: 'y' })).to.equal('theme home[box[theme label y]]');
    expect(await render(views, theme, 'admin/deep/page', { who: 'y' })).to.equal('deep[box[theme label y]]');
  });

  it('finds overrides for a second set of views in the same process', async () => {
    const again = themedViews(path.join(root, 'views'));
    expect(await render(views, undefined, 'admin/deep/page', { who: 1 })).to.equal('deep[box[default label 1]]');
    expect(await render(again, theme, 'admin/deep/page', { who: 2 })).to.equal('deep[box[theme label 2]]');
  });

  it('keeps renders of different themes apart, each with its templates compiled once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => render(views, index % 2 ? theme : undefined, 'admin/deep/page', { who: index })),
    );
    results.forEach((html, index) => expect(html).to.equal(`deep[box[${index % 2 ? 'theme' : 'default'} label ${index}]]`));
  });
});

describe('theme-first views: compiled once with the view cache, read again without it', () => {
  let root: string;
  let theme: ViewOverrides;
  const write = async (file: string, text: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'recharge-views-'));
    await write('views/pages/home.ejs', "home <%= who %>[<%- include('partials/box', { size: 2 }) %>]");
    await write('views/partials/box.ejs', "box <%= size %>[<%- include('partials/label') %>]");
    await write('views/partials/label.ejs', 'default label <%= who %>');
    await write('theme/views/partials/label.ejs', 'theme label <%= who %>');
    theme = { viewsDir: path.join(root, 'theme', 'views'), overrides: new Set(['partials/label.ejs']) };
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('renders from what the first render compiled and resolved: no template is read or looked for again', async () => {
    const views = themedViews(path.join(root, 'views'));
    expect(await render(views, undefined, 'pages/home', { who: 1 })).to.equal('home 1[box 2[default label 1]]');
    expect(await render(views, theme, 'pages/home', { who: 2 })).to.equal('home 2[box 2[theme label 2]]');
    await rm(path.join(root, 'views'), { recursive: true });
    await rm(path.join(root, 'theme'), { recursive: true });
    expect(await render(views, theme, 'pages/home', { who: 3 })).to.equal('home 3[box 2[theme label 3]]');
    expect(await render(views, undefined, 'pages/home', { who: 4 })).to.equal('home 4[box 2[default label 4]]');
  });

  it('reads the templates again at every render without the view cache (development)', async () => {
    const views = themedViews(path.join(root, 'views'));
    expect(await render(views, theme, 'pages/home', { who: 1 }, { cache: false })).to.equal('home 1[box 2[theme label 1]]');
    await write('views/partials/box.ejs', "new box <%= size %>[<%- include('partials/label') %>]");
    await write('theme/views/partials/label.ejs', 'new theme label <%= who %>');
    expect(await render(views, theme, 'pages/home', { who: 2 }, { cache: false })).to.equal('home 2[new box 2[new theme label 2]]');
  });

  it("gives an include its including template's data and its own values, and lets neither change the other's", async () => {
    await write('views/pages/locals.ejs', "<%- include('partials/setter', { extra: 'e' }) %>|<%- include('partials/setter') %>|<%= who %>|<%= typeof extra %>");
    await write('views/pages/assigns.ejs', "<% who = 'assigned'; %><%- include('partials/setter') %>|<%- include('partials/shows', { extra: 'e' }) %>|<%= who %>");
    await write('views/partials/setter.ejs', "<% who = 'set'; %><%= who %>+<%= locals.extra %>");
    await write('views/partials/shows.ejs', '<%= who %>+<%= extra %>');
    const views = themedViews(path.join(root, 'views'));
    for (const cache of [true, false]) {
      expect(await render(views, undefined, 'pages/locals', { who: 'page' }, { cache })).to.equal('set+e|set+|page|undefined');
      expect(await render(views, undefined, 'pages/assigns', { who: 'page' }, { cache })).to.equal('set+|page+e|assigned');
    }
  });
});
