import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { colourProblems } from '../../src/domain/branding/colour-contrast.js';
import { MESSAGE_NAMES } from '../../src/domain/branding/branding.js';
import { SUPPORTED_LOCALES } from '../../src/i18n/index.js';
import { loadThemeFolder, readThemeCatalogue, ThemeFolderError } from '../../src/services/branding/theme-folder.js';

const themesDir = path.join(projectRoot, 'themes');
const viewsDir = path.join(projectRoot, 'views');
const shippedThemes = readdirSync(themesDir).filter((name) => statSync(path.join(themesDir, name)).isDirectory());

type ThemeJson = Record<string, unknown> & { colours: Record<string, string>; messages: Record<string, Record<string, string>> };

describe('theme folders', () => {
  describe('the themes that ship', () => {
    it('include the default theme and at least one example', () => {
      expect(shippedThemes).to.include('default');
      expect(shippedThemes.length).to.be.greaterThan(1);
    });

    for (const name of shippedThemes) {
      it(`${name} loads, with readable colours, its files and every message in every language`, () => {
        const theme = loadThemeFolder(themesDir, name, viewsDir);
        expect(colourProblems(theme.colours)).to.deep.equal([]);
        for (const locale of SUPPORTED_LOCALES) {
          for (const message of MESSAGE_NAMES) expect(theme.messages[locale][message], `${locale}.${message}`).to.be.a('string').and.not.equal('');
        }
      });
    }

    for (const name of shippedThemes) {
      it(`${name} describes itself in every language, each in its own words`, () => {
        const { description } = loadThemeFolder(themesDir, name, viewsDir);
        for (const locale of SUPPORTED_LOCALES) expect(description[locale], locale).to.be.a('string').and.not.equal('');
        expect(new Set(Object.values(description)).size).to.equal(SUPPORTED_LOCALES.length);
      });
    }

    it('an example theme shows the whole contract: its stylesheet, its own images and a view override', () => {
      const examples = shippedThemes.filter((name) => name !== 'default').map((name) => loadThemeFolder(themesDir, name, viewsDir));
      const complete = examples.find((theme) => theme.hasStylesheet && theme.overrides.size > 0 && theme.logo !== 'logo.svg');
      expect(complete, 'an example with theme.css, a PNG logo and an overridden view').to.not.equal(undefined);
      expect(complete!.overrides.has('partials/footer.ejs')).to.equal(true);
    });
  });

  describe('a folder that breaks the contract', () => {
    let dir: string;
    const good = (): ThemeJson => JSON.parse(readFileSync(path.join(themesDir, 'default', 'theme.json'), 'utf8')) as ThemeJson;

    /** themes/<name> in the temporary folder: a valid theme unless `change` breaks it. */
    function writeTheme(name: string, change: (theme: ThemeJson, folder: string) => ThemeJson | string | void = () => undefined): void {
      const folder = path.join(dir, name);
      mkdirSync(path.join(folder, 'assets'), { recursive: true });
      cpSync(path.join(themesDir, 'default', 'assets', 'logo.svg'), path.join(folder, 'assets', 'logo.svg'));
      const theme = good();
      const changed = change(theme, folder) ?? theme;
      writeFileSync(path.join(folder, 'theme.json'), typeof changed === 'string' ? changed : JSON.stringify(changed));
    }

    /** The ThemeFolderError's message for the folder, or a failure if it loads. */
    function refusal(name: string): string {
      try {
        loadThemeFolder(dir, name, viewsDir);
      } catch (error) {
        expect(error).to.be.instanceOf(ThemeFolderError);
        expect((error as ThemeFolderError).folder).to.equal(name);
        return (error as Error).message;
      }
      throw new Error(`theme ${name} was accepted`);
    }

    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'recharge-themes-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('accepts the control folder: the refusals below come from what each one breaks', () => {
      writeTheme('control', (_theme, folder) => {
        mkdirSync(path.join(folder, 'views', 'partials'), { recursive: true });
        writeFileSync(path.join(folder, 'views', 'partials', 'footer.ejs'), '<footer></footer>');
        writeFileSync(path.join(folder, 'theme.css'), '.card {}');
      });
      const theme = loadThemeFolder(dir, 'control', viewsDir);
      expect([...theme.overrides]).to.deep.equal(['partials/footer.ejs']);
      expect(theme.hasStylesheet).to.equal(true);
    });

    it('refuses theme.json that is not JSON', () => {
      writeTheme('broken', () => '{ "name": "Broken",');
      expect(refusal('broken')).to.include('theme.json cannot be read');
    });

    it('refuses a folder without theme.json', () => {
      mkdirSync(path.join(dir, 'empty'));
      expect(refusal('empty')).to.include('theme.json cannot be read');
    });

    it('refuses a missing field', () => {
      writeTheme('nameless', (theme) => {
        delete theme.name;
      });
      expect(refusal('nameless')).to.include(': name Invalid input');
    });

    it('refuses a field the contract does not know (a typo would be silently ignored)', () => {
      writeTheme('extra', (theme) => ({ ...theme, colour: { primary: '#000000' } }));
      expect(refusal('extra')).to.include('Unrecognized key: "colour"');
    });

    it('refuses a colour that is not #rrggbb', () => {
      for (const [index, value] of ['blue', '#12345', '#1234567', 'rgb(0,0,0)', '#gg0000'].entries()) {
        writeTheme(`colour-${index}`, (theme) => {
          theme.colours.primary = value;
        });
        expect(refusal(`colour-${index}`), value).to.include('colours.primary');
      }
    });

    it('refuses colours below WCAG AA contrast, naming the pair', () => {
      writeTheme('pale', (theme) => {
        theme.colours.text = '#999999';
      });
      expect(refusal('pale')).to.include('contrast').and.include('text-background');
      writeTheme('dim-focus', (theme) => {
        theme.colours.accent = '#f0f0f0';
      });
      expect(refusal('dim-focus')).to.include('accent-background');
    });

    it('refuses a logo or favicon missing from assets/', () => {
      writeTheme('no-logo', (theme) => ({ ...theme, logo: 'missing.png' }));
      expect(refusal('no-logo')).to.include('assets/missing.png is missing');
      writeTheme('no-favicon', (theme) => ({ ...theme, favicon: 'icon.png' }));
      expect(refusal('no-favicon')).to.include('assets/icon.png is missing');
    });

    it('refuses an image name that is not a plain file name in assets/', () => {
      writeTheme('escape', (theme) => ({ ...theme, logo: '../../secret.svg' }));
      expect(refusal('escape')).to.include('logo must be a file name');
    });

    it('refuses messages missing a language or a message', () => {
      writeTheme('no-english', (theme) => {
        delete theme.messages.en;
      });
      expect(refusal('no-english')).to.include('messages.en');
      writeTheme('no-contact', (theme) => {
        delete theme.messages.fr!.contact;
      });
      expect(refusal('no-contact')).to.include('messages.fr.contact');
    });

    it('refuses an override of a view the portal does not have', () => {
      writeTheme('typo', (_theme, folder) => {
        mkdirSync(path.join(folder, 'views', 'partials'), { recursive: true });
        writeFileSync(path.join(folder, 'views', 'partials', 'foter.ejs'), '<footer></footer>');
      });
      expect(refusal('typo')).to.include('views/partials/foter.ejs override no view');
    });

    it('reads a description per language (a missing one from the other) or one text for both', () => {
      writeTheme('both', (theme) => ({ ...theme, description: 'Same words.' }));
      writeTheme('english', (theme) => ({ ...theme, description: { en: 'English only.' } }));
      expect(loadThemeFolder(dir, 'both', viewsDir).description).to.deep.equal({ fr: 'Same words.', en: 'Same words.' });
      expect(loadThemeFolder(dir, 'english', viewsDir).description).to.deep.equal({ fr: 'English only.', en: 'English only.' });
      writeTheme('typo', (theme) => ({ ...theme, description: { fr: 'Bleu.', de: 'Blau.' } }));
      expect(refusal('typo')).to.include('description');
    });

    it("reads the logo's own size for the header: an SVG's sizes or viewBox, a PNG's header", () => {
      writeTheme('square');
      expect(loadThemeFolder(dir, 'square', viewsDir).logoSize).to.deep.equal({ width: 32, height: 32 });
      writeTheme('wide', (theme, folder) => {
        writeFileSync(path.join(folder, 'assets', 'wide.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100" viewBox="0 0 40 10"></svg>');
        return { ...theme, logo: 'wide.svg' };
      });
      expect(loadThemeFolder(dir, 'wide', viewsDir).logoSize).to.deep.equal({ width: 400, height: 100 });
      const png = Buffer.alloc(33);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
      png.writeUInt32BE(300, 16);
      png.writeUInt32BE(60, 20);
      writeTheme('banner', (theme, folder) => {
        writeFileSync(path.join(folder, 'assets', 'banner.png'), png);
        return { ...theme, logo: 'banner.png' };
      });
      expect(loadThemeFolder(dir, 'banner', viewsDir).logoSize).to.deep.equal({ width: 300, height: 60 });
    });

    it('refuses a folder name that cannot be a URL segment', () => {
      for (const name of ['Campus', 'my.theme', '-dash', 'a b', 'x'.repeat(41)]) {
        writeTheme(name);
        expect(refusal(name), name).to.include('folder name');
      }
    });

    it('lists a bad folder in the catalogue as a problem and keeps the good ones', () => {
      writeTheme('alpha');
      writeTheme('broken', () => '{');
      writeTheme('zeta');
      mkdirSync(path.join(dir, 'not-a-theme'));
      const catalogue = readThemeCatalogue(dir, viewsDir);
      expect(catalogue.themes.map((theme) => theme.name)).to.deep.equal(['alpha', 'zeta']);
      expect(catalogue.problems.map((problem) => problem.folder)).to.deep.equal(['broken']);
      expect(catalogue.problems[0]).to.be.instanceOf(ThemeFolderError);
    });
  });
});
