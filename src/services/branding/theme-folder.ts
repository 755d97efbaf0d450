import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { THEME_NAME, themeColoursSchema, themeMessagesSchema, type ThemeMessages } from '../../domain/branding/branding.js';
import { colourProblems, type ThemeColours } from '../../domain/branding/colour-contrast.js';
import { imageSizeOf, type ImageSize } from '../../domain/branding/image-size.js';
import { SUPPORTED_LOCALES, type Locale } from '../../domain/shared/locale.js';

/** A file a theme may serve from its assets/ folder: a plain name, an image or a font. */
export const ASSET_FILE = /^[\w-]+\.(svg|png|jpe?g|webp|ico|woff2)$/;

const themeFileSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** One text for every language, or one per language (a missing language reads the other). */
  description: z.union([z.string().max(300), z.strictObject(Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, z.string().max(300).optional()])))]).optional(),
  colours: themeColoursSchema,
  logo: z.string().regex(ASSET_FILE, 'must be a file name in the theme assets folder'),
  favicon: z.string().regex(ASSET_FILE, 'must be a file name in the theme assets folder'),
  messages: themeMessagesSchema,
});

/** themes/<name>: theme.json, assets/, an optional theme.css and optional view overrides. */
export interface ThemeFolder {
  /** The folder name. */
  name: string;
  /** The organisation's name shown beside the logo. */
  displayName: string;
  description: Record<Locale, string>;
  colours: ThemeColours;
  messages: ThemeMessages;
  logo: string;
  /** The logo file's own size, or null when it does not state one (JPEG, WebP, an SVG without sizes). */
  logoSize: ImageSize | null;
  favicon: string;
  hasStylesheet: boolean;
  /** Root of the theme's views (themes/<name>/views), and which views it overrides ("partials/footer.ejs"). */
  viewsDir: string;
  overrides: ReadonlySet<string>;
  assetsDir: string;
}

export class ThemeFolderError extends Error {
  constructor(
    readonly folder: string,
    message: string,
  ) {
    super(`theme "${folder}": ${message}`);
  }
}

function filesUnder(root: string, relative = ''): string[] {
  const here = path.join(root, relative);
  if (!existsSync(here)) return [];
  return readdirSync(here, { withFileTypes: true }).flatMap((entry) => {
    const child = path.posix.join(relative, entry.name);
    return entry.isDirectory() ? filesUnder(root, child) : [child];
  });
}

function descriptionsOf(description: string | Partial<Record<string, string>> | undefined): Record<Locale, string> {
  const given = typeof description === 'string' ? Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, description])) : (description ?? {});
  const any = SUPPORTED_LOCALES.map((locale) => given[locale]).find(Boolean) ?? '';
  return Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, given[locale] || any])) as Record<Locale, string>;
}

/** Reads and checks one theme folder; anything wrong is a ThemeFolderError naming the folder. */
export function loadThemeFolder(themesDir: string, name: string, defaultViewsDir: string): ThemeFolder {
  if (!THEME_NAME.test(name)) throw new ThemeFolderError(name, 'the folder name must be lowercase letters, digits and dashes');
  const dir = path.join(themesDir, name);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path.join(dir, 'theme.json'), 'utf8'));
  } catch (error) {
    throw new ThemeFolderError(name, `theme.json cannot be read: ${(error as Error).message}`);
  }
  const parsed = themeFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ThemeFolderError(name, parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
  }
  const theme = parsed.data;
  const contrast = colourProblems(theme.colours);
  if (contrast.length > 0) throw new ThemeFolderError(name, `colours below WCAG AA contrast: ${JSON.stringify(contrast)}`);
  const assetsDir = path.join(dir, 'assets');
  for (const file of [theme.logo, theme.favicon]) {
    if (!existsSync(path.join(assetsDir, file))) throw new ThemeFolderError(name, `assets/${file} is missing`);
  }
  const viewsDir = path.join(dir, 'views');
  const overrides = filesUnder(viewsDir).filter((file) => file.endsWith('.ejs'));
  const unknown = overrides.filter((file) => !existsSync(path.join(defaultViewsDir, file)));
  // An override of a view the portal does not have is a typo that would silently do nothing.
  if (unknown.length > 0) throw new ThemeFolderError(name, `views/${unknown.join(', views/')} override no view of the portal`);
  return {
    name,
    displayName: theme.name,
    description: descriptionsOf(theme.description),
    colours: theme.colours,
    messages: theme.messages,
    logo: theme.logo,
    logoSize: imageSizeOf(readFileSync(path.join(assetsDir, theme.logo))),
    favicon: theme.favicon,
    hasStylesheet: existsSync(path.join(dir, 'theme.css')),
    viewsDir,
    overrides: new Set(overrides),
    assetsDir,
  };
}

export interface ThemeCatalogue {
  themes: ThemeFolder[];
  /** Folders that are not usable themes, with why: shown to IT, never fatal. */
  problems: ThemeFolderError[];
}

/** Every folder under themesDir that holds a theme.json. */
export function readThemeCatalogue(themesDir: string, defaultViewsDir: string): ThemeCatalogue {
  const folders = readdirSync(themesDir)
    .filter((name) => statSync(path.join(themesDir, name)).isDirectory() && existsSync(path.join(themesDir, name, 'theme.json')))
    .sort();
  const catalogue: ThemeCatalogue = { themes: [], problems: [] };
  for (const name of folders) {
    try {
      catalogue.themes.push(loadThemeFolder(themesDir, name, defaultViewsDir));
    } catch (error) {
      if (!(error instanceof ThemeFolderError)) throw error;
      catalogue.problems.push(error);
    }
  }
  return catalogue;
}
