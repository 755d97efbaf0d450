/** An image's width and height in pixels (for an SVG, in its own units): the header draws a logo at this ratio. */
export interface ImageSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const positive = (width: number, height: number): ImageSize | null =>
  Number.isFinite(width) && Number.isFinite(height) && width > 0 && height > 0 ? { width, height } : null;

/** An SVG's own size: its width and height attributes when both are plain numbers, else its viewBox. */
function svgSize(text: string): ImageSize | null {
  const root = /<svg\b[^>]*>/i.exec(text)?.[0] ?? '';
  const attribute = (name: string) => new RegExp(`\\s${name}\\s*=\\s*["']([^"']*)["']`, 'i').exec(root)?.[1];
  const [width, height] = [attribute('width'), attribute('height')].map((value) => (value && /^\s*[\d.]+\s*(px)?\s*$/.test(value) ? Number.parseFloat(value) : Number.NaN));
  const sized = positive(width!, height!);
  if (sized) return sized;
  const box = attribute('viewBox')?.trim().split(/[\s,]+/).map(Number);
  return box?.length === 4 ? positive(box[2]!, box[3]!) : null;
}

/**
 * The size a PNG (from its header) or an SVG states, or null for anything else: theme folders' logos
 * are read when the folder is, without decoding; uploads have their size recorded.
 */
export function imageSizeOf(bytes: Buffer): ImageSize | null {
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return positive(bytes.readUInt32BE(16), bytes.readUInt32BE(20));
  return svgSize(bytes.toString('utf8', 0, 64 * 1024));
}
