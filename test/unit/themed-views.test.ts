import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { ViewOverrides } from '../../src/services/branding/theme-service.js';
import { themedViews } from '../../src/web/themes/themed-views.js';

/** Renders like Express does: the engine, on the file resolveView picked, inside withTheme. */
function render(views: ReturnType<typeof themedViews>, theme: ViewOverrides | undefined, name: string, data: object = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    views.withTheme(theme, () => views.engine(true)(views.resolveView(name, theme), data, (error, html) => (error ? reject(error) : resolve(html!)))),
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

  it('finds overrides for a second set of views in the same process (EJS caches templates process-wide)', async () => {
    const again = themedViews(path.join(root, 'views'));
    expect(await render(views, undefined, 'admin/deep/page', { who: 1 })).to.equal('deep[box[default label 1]]');
    expect(await render(again, theme, 'admin/deep/page', { who: 2 })).to.equal('deep[box[theme label 2]]');
  });

  it('keeps renders of different themes apart, though compiled templates are cached and shared', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => render(views, index % 2 ? theme : undefined, 'admin/deep/page', { who: index })),
    );
    results.forEach((html, index) => expect(html).to.equal(`deep[box[${index % 2 ? 'theme' : 'default'} label ${index}]]`));
  });
});
