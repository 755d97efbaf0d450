import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { UploadStore } from '../../db/upload-store.js';
import { contrastRatio, TEXT_CONTRAST } from '../../domain/colour-contrast.js';
import type { DocumentBranding } from '../../documents/document-files.js';
import type { LogoFile, PresentedTheme, ThemeService } from './theme-service.js';

/** Large enough for print at the size a document draws it (about 2 cm), small enough to embed in every PDF. */
const LOGO_MAX_PIXELS = 256;
/** SVG logos are drawn at 8× their nominal size (576 dpi) before being scaled down, so they stay sharp. */
const SVG_DENSITY = 576;
const PAPER = '#ffffff';

/** Headings are printed on white paper: the theme's primary colour if it reads there, else its text colour, else black. */
function accentOnPaper(theme: PresentedTheme): string {
  return [theme.colours.primary, theme.colours.text].find((colour) => contrastRatio(colour, PAPER) >= TEXT_CONTRAST) ?? '#000000';
}

/**
 * The published theme as documents show it: its name, a readable colour and its logo as a small PNG
 * (pdfkit draws PNG and JPEG only, and themes may ship SVG). The PNG is made once per logo, not per document.
 */
export function createDocumentBranding({ themes, uploads }: { themes: ThemeService; uploads: UploadStore }): () => Promise<DocumentBranding> {
  let converted: { key: string; png: Promise<Buffer | null> } | undefined;

  async function bytesOf(logo: LogoFile): Promise<Buffer | undefined> {
    if ('upload' in logo) return uploads.read(logo.upload);
    try {
      return await readFile(logo.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async function pngOf(logo: LogoFile): Promise<Buffer | null> {
    const bytes = await bytesOf(logo);
    // A logo gone from disk leaves documents without a logo rather than without documents.
    if (!bytes) return null;
    try {
      return await sharp(bytes, { density: SVG_DENSITY })
        .resize({ width: LOGO_MAX_PIXELS, height: LOGO_MAX_PIXELS, fit: 'inside', withoutEnlargement: true })
        .png()
        .toBuffer();
    } catch {
      // Nor does a logo sharp cannot read (an .ico asset) stop them.
      return null;
    }
  }

  return async () => {
    const theme = await themes.current();
    const key = JSON.stringify(theme.logoFile);
    if (converted?.key !== key) {
      const png = pngOf(theme.logoFile);
      converted = { key, png };
      // A failed read is tried again by the next document instead of being remembered.
      png.catch(() => {
        if (converted?.png === png) converted = undefined;
      });
    }
    return { organisationName: theme.name, accentColour: accentOnPaper(theme), logoPng: await converted.png };
  };
}
