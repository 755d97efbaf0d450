/**
 * What an uploaded file's bytes are, read from the bytes themselves (never from its name or the
 * browser's word): the format, where the image ends, and whether markup hides in it. A polyglot — a
 * file that is an image and also a page or a script to some other reader — is refused on these.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp';
export type SniffedFormat = ImageFormat | 'svg' | 'gif' | 'bmp' | 'tiff' | 'ico' | 'unknown';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const hasBytes = (bytes: Buffer, signature: readonly number[], at = 0) => signature.every((byte, index) => bytes[at + index] === byte);
const hasText = (bytes: Buffer, text: string, at = 0) => bytes.toString('latin1', at, at + text.length) === text;

/** SVG is text: an opening tag first (after a byte-order mark or blanks), and an svg element early on. */
function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.toString('utf8', 0, 64 * 1024).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>/]/i.test(head);
}

export function sniffFormat(bytes: Buffer): SniffedFormat {
  if (hasBytes(bytes, PNG_SIGNATURE)) return 'png';
  if (hasBytes(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (hasText(bytes, 'RIFF') && hasText(bytes, 'WEBP', 8)) return 'webp';
  if (hasText(bytes, 'GIF87a') || hasText(bytes, 'GIF89a')) return 'gif';
  if (hasText(bytes, 'BM')) return 'bmp';
  if (hasText(bytes, 'II*\0') || hasText(bytes, 'MM\0*')) return 'tiff';
  if (hasBytes(bytes, [0, 0, 1, 0])) return 'ico';
  return looksLikeSvg(bytes) ? 'svg' : 'unknown';
}

/** PNG: chunks (length, type, data, CRC) up to and including IEND. */
function pngEnd(bytes: Buffer): number | null {
  let at = PNG_SIGNATURE.length;
  while (at + 12 <= bytes.length) {
    const end = at + 12 + bytes.readUInt32BE(at);
    if (end > bytes.length) return null;
    const type = bytes.toString('latin1', at + 4, at + 8);
    at = end;
    if (type === 'IEND') return at;
  }
  return null;
}

const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

/**
 * JPEG: marker segments (each with its length) up to EOI. After a start of scan, entropy-coded data
 * runs to the next marker: 0xFF followed by a stuffed zero, a restart or fill is still data.
 * Thumbnails inside EXIF sit within their segment's length, so their own EOI is skipped.
 */
function jpegEnd(bytes: Buffer): number | null {
  let at = 2;
  while (at + 2 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd9) return at + 2;
    if (isRestart(marker) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) return null;
    at += 2 + bytes.readUInt16BE(at + 2);
    if (at > bytes.length) return null;
    if (marker !== 0xda) continue;
    while (at + 1 < bytes.length) {
      const next = bytes[at + 1]!;
      if (bytes[at] === 0xff && next !== 0x00 && next !== 0xff && !isRestart(next)) break;
      at += 1;
    }
    if (at + 1 >= bytes.length) return null;
  }
  return null;
}

/** WebP: one RIFF chunk whose length says where the file ends. */
function webpEnd(bytes: Buffer): number | null {
  if (bytes.length < 12) return null;
  const end = 8 + bytes.readUInt32LE(4);
  return end <= bytes.length ? end : null;
}

/** Where the image's own bytes end, or null when the file stops before that (truncated or damaged). */
export function imageEnd(bytes: Buffer, format: ImageFormat): number | null {
  if (format === 'png') return pngEnd(bytes);
  if (format === 'jpeg') return jpegEnd(bytes);
  return webpEnd(bytes);
}

/**
 * Markup a browser or a server would act on, anywhere in the file (metadata, comments, text chunks).
 * Each marker is long enough that compressed pixel data does not produce it by chance (under one in
 * ten thousand for a full-size upload); XMP metadata (`<x:xmpmeta`, `<rdf:RDF`) does not match.
 */
const MARKUP = /<(?:script|iframe|object|embed|!doctype|!entity|\?php)|<(?:html|svg|body)[\s/>]|javascript:/i;

export function containsMarkup(bytes: Buffer): boolean {
  return MARKUP.test(bytes.toString('latin1'));
}
