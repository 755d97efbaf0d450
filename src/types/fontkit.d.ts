// fontkit ships no types; the documents' fonts are parsed with it once per thread (src/services/documents/document-fonts.ts).
declare module 'fontkit' {
  /** A parsed font, as pdfkit takes it; only what the portal touches is declared. */
  export interface Font {
    readonly postscriptName: string;
    /** fontkit's own cache of the glyphs it has handed out, by glyph id (internal: see document-fonts.ts). */
    _glyphs: Record<number, unknown>;
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font;
}
