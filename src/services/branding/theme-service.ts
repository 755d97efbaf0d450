import path from 'node:path';
import type { Database, Queryable } from '../../db/database.js';
import { findVersion, latestPublication, type BrandingVersion } from '../../db/branding/branding-repository.js';
import type { BrandingSettings, ThemeMessages } from '../../domain/branding/branding.js';
import type { ImageSize } from '../../domain/branding/image-size.js';
import { paletteOf, type Palette, type ThemeColours } from '../../domain/branding/colour-contrast.js';
import { readThemeCatalogue, ThemeFolderError, type ThemeCatalogue, type ThemeFolder } from './theme-folder.js';

/** The views a theme overrides: its folder and the relative paths it holds ("partials/footer.ejs"). */
export interface ViewOverrides {
  viewsDir: string;
  overrides: ReadonlySet<string>;
}

/** Everything a page needs to draw the portal's look. */
export interface PresentedTheme {
  /** The theme folder. */
  folder: string;
  /** The organisation's name beside the logo. */
  name: string;
  colours: ThemeColours;
  palette: Palette;
  /** `--primary: #1d4f91; --on-primary: #ffffff; …` for the layout's nonce'd style element. */
  cssVariables: string;
  messages: ThemeMessages;
  logoUrl: string;
  /** The logo's own size, for the header to keep its ratio; null when unknown. */
  logoSize: ImageSize | null;
  /** Where the logo's bytes are, for what draws it outside a page (PDF documents). */
  logoFile: LogoFile;
  faviconUrl: string;
  /** The folder's theme.css, drawn over the portal's stylesheet. */
  stylesheetUrl: string | null;
  views: ViewOverrides;
  /** The branding version shown, or null for the theme folder as it ships. */
  versionId: number | null;
}

/** An uploaded logo (a PNG in the upload store), or a file in the theme folder's assets (SVG, PNG, JPEG, WebP, ICO). */
export type LogoFile = { upload: string } | { path: string };

export const uploadUrl = (id: string) => `/uploads/${id}.png`;
export const themeAssetUrl = (folder: string, file: string) => `/themes/${folder}/assets/${file}`;

/** A version as shown: its settings, and its uploaded logo's size (null when it uses the folder's logo). */
export type ShownVersion = Pick<BrandingVersion, 'id' | 'settings' | 'logoSize'>;

/** `uploadedLogoSize`: the size of the logo the settings upload, from its upload row. */
export function present(folder: ThemeFolder, settings: BrandingSettings | null, versionId: number | null, uploadedLogoSize: ImageSize | null = null): PresentedTheme {
  const colours = settings?.colours ?? folder.colours;
  const palette = paletteOf(colours);
  return {
    folder: folder.name,
    name: settings?.organisationName ?? folder.displayName,
    colours,
    palette,
    cssVariables: Object.entries(palette)
      .map(([name, value]) => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}: ${value};`)
      .join(' '),
    messages: settings?.messages ?? folder.messages,
    logoUrl: settings?.logoUploadId ? uploadUrl(settings.logoUploadId) : themeAssetUrl(folder.name, folder.logo),
    logoSize: settings?.logoUploadId ? uploadedLogoSize : folder.logoSize,
    logoFile: settings?.logoUploadId ? { upload: settings.logoUploadId } : { path: path.join(folder.assetsDir, folder.logo) },
    faviconUrl: settings?.faviconUploadId ? uploadUrl(settings.faviconUploadId) : themeAssetUrl(folder.name, folder.favicon),
    stylesheetUrl: folder.hasStylesheet ? `/themes/${folder.name}/theme.css` : null,
    views: { viewsDir: folder.viewsDir, overrides: folder.overrides },
    versionId,
  };
}

/** A theme folder as it ships, as the settings of a first draft. */
export const settingsOf = (folder: ThemeFolder): BrandingSettings => ({
  theme: folder.name,
  organisationName: folder.displayName,
  colours: { ...folder.colours },
  messages: structuredClone(folder.messages),
  logoUploadId: null,
  faviconUploadId: null,
});

export interface ThemeServiceOptions {
  db: Database;
  themesDir: string;
  defaultViewsDir: string;
  /** The folder used until IT publishes a look. */
  defaultTheme: string;
  /** How often to ask the database whether another instance published (ms). */
  refreshMs: number;
  now?: () => number;
}

/**
 * The portal's look: the newest published branding version over its theme folder, or the default
 * folder before anything is published. Read once and then re-checked every `refreshMs` with one
 * indexed query, so a change made on any instance shows everywhere without a restart.
 */
export function createThemeService({ db, themesDir, defaultViewsDir, defaultTheme, refreshMs, now = Date.now }: ThemeServiceOptions) {
  let catalogue: ThemeCatalogue = readThemeCatalogue(themesDir, defaultViewsDir);
  const folderNamed = (name: string) => catalogue.themes.find((theme) => theme.name === name);
  const fallback = folderNamed(defaultTheme);
  if (!fallback) {
    const problem = catalogue.problems.find((error) => error.folder === defaultTheme);
    throw problem ?? new ThemeFolderError(defaultTheme, `no such theme in ${themesDir}`);
  }
  let cached: { publicationId: number | null; theme: PresentedTheme; checkedAt: number } | undefined;
  let loading: Promise<PresentedTheme> | undefined;

  /** Theme folders are read again when IT opens its pages, so a folder copied in shows up without a restart. */
  function reloadCatalogue(): ThemeCatalogue {
    catalogue = readThemeCatalogue(themesDir, defaultViewsDir);
    return catalogue;
  }

  /** A version over its folder; a version whose folder was removed is shown over the default one. */
  function presentVersion(version: ShownVersion): PresentedTheme {
    const { theme } = version.settings;
    const folder = folderNamed(theme) ?? reloadCatalogue().themes.find((candidate) => candidate.name === theme);
    return folder ? present(folder, version.settings, version.id, version.logoSize) : present(fallback!, null, null);
  }

  /** The look of the newest publication as `queryable` reads it; the version is read only when it is not the one cached. */
  async function presentPublished(queryable: Queryable): Promise<{ publicationId: number | null; theme: PresentedTheme }> {
    const publication = await latestPublication(queryable);
    const publicationId = publication?.id ?? null;
    if (cached && cached.publicationId === publicationId) return { publicationId, theme: cached.theme };
    const version = publication ? await findVersion(queryable, publication.versionId) : undefined;
    return { publicationId, theme: version ? presentVersion(version) : present(fallback!, null, null) };
  }

  async function load(): Promise<PresentedTheme> {
    const checkedAt = now();
    const { publicationId, theme } = await presentPublished(db.knex);
    cached = { publicationId, theme, checkedAt };
    return theme;
  }

  return {
    catalogue: () => catalogue,
    reloadCatalogue,
    folderNamed,
    presentVersion,
    async current(): Promise<PresentedTheme> {
      if (cached && now() - cached.checkedAt < refreshMs) return cached.theme;
      loading ??= load().finally(() => (loading = undefined));
      return loading;
    },
    /** The published look as a transaction sees it, without waiting for the refresh: documents record it when they are issued. */
    publishedAt: async (queryable: Queryable): Promise<PresentedTheme> => (await presentPublished(queryable)).theme,
    /** After a publication on this instance: the next page shows it at once. */
    invalidate(): void {
      cached = undefined;
    },
  };
}

export type ThemeService = ReturnType<typeof createThemeService>;
