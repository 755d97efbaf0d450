import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { UploadStore } from '../../db/branding/upload-store.js';
import { contrastRatio, TEXT_CONTRAST } from '../../domain/branding/colour-contrast.js';
import { loadSharp } from '../../domain/branding/sharp-loader.js';
import type { DocumentBrand } from '../../domain/documents/documents.js';
import type { DocumentBranding } from '../documents/document-pdf.js';
import type { LogoFile, PresentedTheme } from './theme-service.js';

/** Large enough for print at the size a document draws it (about 2 cm), small enough to embed in every PDF. */
const LOGO_MAX_PIXELS = 256;
/** SVG logos are drawn at 8× their nominal size (576 dpi) before being scaled down, so they stay sharp. */
const SVG_DENSITY = 576;
/** Logos kept as PNG: documents of a few successive looks may be drawn in turn. */
const LOGOS_KEPT = 8;
const PAPER = '#ffffff';

/** Headings are printed on white paper: the theme's primary colour if it reads there, else its text colour, else black. */
function accentOnPaper(theme: PresentedTheme): string {
  return [theme.colours.primary, theme.colours.text].find((colour) => contrastRatio(colour, PAPER) >= TEXT_CONTRAST) ?? '#000000';
}

/** An upload by its id (uploads never change), a theme asset by its place in the themes folder (themes ship with the release). */
function logoReference(logo: LogoFile, themesDir: string): string {
  return 'upload' in logo ? `upload:${logo.upload}` : `theme:${path.relative(themesDir, logo.path).split(path.sep).join('/')}`;
}

/** A look as a document records it when issued: its name, a colour readable on paper, and where its logo is. */
export function documentBrandOf(theme: PresentedTheme, themesDir: string): DocumentBrand {
  return { organisationName: theme.name, accentColour: accentOnPaper(theme), logo: logoReference(theme.logoFile, themesDir) };
}

/**
 * A recorded brand as documents draw it, its logo as a small PNG (pdfkit draws PNG and JPEG only, and
 * themes may ship SVG). The PNG is made once per logo, not per document.
 */
export function createBrandDrawing({ uploads, themesDir }: { uploads: UploadStore; themesDir: string }): (brand: DocumentBrand) => Promise<DocumentBranding> {
  const pngs = new Map<string, Promise<Buffer | null>>();

  async function bytesOf(logo: string): Promise<Buffer | undefined> {
    const [, kind, where = ''] = /^(upload|theme):(.*)$/.exec(logo) ?? [];
    if (kind === 'upload') return uploads.read(where);
    const file = path.resolve(themesDir, where);
    if (kind !== 'theme' || path.relative(themesDir, file).startsWith('..')) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async function pngOf(logo: string): Promise<Buffer | null> {
    const bytes = await bytesOf(logo);
    // A logo gone from disk leaves documents without a logo rather than without documents.
    if (!bytes) return null;
    const sharp = await loadSharp();
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

  return async ({ organisationName, accentColour, logo }) => {
    let png = pngs.get(logo);
    if (!png) {
      const converting = pngOf(logo);
      png = converting;
      if (pngs.size >= LOGOS_KEPT) pngs.delete(pngs.keys().next().value!);
      pngs.set(logo, converting);
      // A failed read is tried again by the next document instead of being remembered.
      converting.catch(() => {
        if (pngs.get(logo) === converting) pngs.delete(logo);
      });
    }
    return { organisationName, accentColour, logoPng: await png };
  };
}
