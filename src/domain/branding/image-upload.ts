import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ResizeOptions, SharpOptions } from 'sharp';
import { DomainError } from '../shared/errors.js';
import { containsMarkup, imageEnd, sniffFormat, type ImageFormat } from './image-bytes.js';
import { loadSharp } from './sharp-loader.js';

export type ImagePurpose = 'logo' | 'favicon';

/** Larger than any logo needs; the form and the upload parser refuse bigger files. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;
/** Width and height at most this: read from the header, before any pixel is decoded. */
export const MAX_INPUT_SIDE = 4096;
/** Width and height at least this: a smaller image is a mistake, not a logo. */
export const MIN_INPUT_SIDE = 16;

/** What is kept: logos fit within 512×512 (never enlarged), favicons are 64×64 on transparent. */
const OUTPUT: Record<ImagePurpose, ResizeOptions> = {
  logo: { width: 512, height: 512, fit: 'inside', withoutEnlargement: true },
  favicon: { width: 64, height: 64, fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } },
};

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };
const FORMAT_OF_EXTENSION: Record<string, ImageFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };
const FORMAT_OF_TYPE: Record<string, ImageFormat> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' };
/** Types browsers send when they do not know: they say nothing against the content. */
const UNSPECIFIC_TYPES = new Set(['', 'application/octet-stream']);

export const IMAGE_PROBLEM_CODES = ['empty', 'too_large', 'svg', 'unsupported', 'type_mismatch', 'corrupt', 'trailing_data', 'markup', 'too_big_dimensions', 'too_small'] as const;
export type ImageProblemCode = (typeof IMAGE_PROBLEM_CODES)[number];

export class ImageUploadError extends DomainError<ImageProblemCode> {
  constructor(
    code: ImageProblemCode,
    message: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(code, message);
  }
}

export interface UploadedFile {
  bytes: Buffer;
  /** As the browser named it. */
  fileName: string;
  /** The Content-Type the browser declared. */
  declaredType: string;
}

/** An upload made safe: re-encoded as PNG, without metadata, ready to store. */
export interface PreparedImage {
  purpose: ImagePurpose;
  png: Buffer;
  width: number;
  height: number;
  sha256: string;
}

/** libvips never decodes more than this, whatever the header claims. */
const DECODE_OPTIONS: SharpOptions = {
  limitInputPixels: MAX_INPUT_SIDE * MAX_INPUT_SIDE,
  // A warning while decoding means damaged data: refused rather than drawn half.
  failOn: 'warning',
};

/** Checks the bytes (format, end, markup) before sharp reads them; throws ImageUploadError. */
function checkBytes(file: UploadedFile): ImageFormat {
  const { bytes } = file;
  if (bytes.length === 0) throw new ImageUploadError('empty', 'the file is empty');
  if (bytes.length > MAX_UPLOAD_BYTES) throw new ImageUploadError('too_large', `${bytes.length} bytes`, { max: MAX_UPLOAD_BYTES });
  const format = sniffFormat(bytes);
  const extension = path.extname(file.fileName).toLowerCase();
  const declaredType = file.declaredType.toLowerCase();
  if (format === 'svg' || extension === '.svg' || extension === '.svgz' || declaredType === 'image/svg+xml') throw new ImageUploadError('svg', 'SVG refused');
  if (format !== 'png' && format !== 'jpeg' && format !== 'webp') throw new ImageUploadError('unsupported', `format ${format}`);
  const declaredFormat = UNSPECIFIC_TYPES.has(declaredType) ? format : FORMAT_OF_TYPE[declaredType];
  if (FORMAT_OF_EXTENSION[extension] !== format || declaredFormat !== format) {
    throw new ImageUploadError('type_mismatch', `${format} content named ${extension || 'without extension'} declared ${declaredType}`, { actual: FORMAT_NAMES[format] });
  }
  const end = imageEnd(bytes, format);
  if (end === null) throw new ImageUploadError('corrupt', 'the image stops before its end');
  if (end < bytes.length) throw new ImageUploadError('trailing_data', `${bytes.length - end} bytes after the image`, { count: bytes.length - end });
  if (containsMarkup(bytes)) throw new ImageUploadError('markup', 'markup inside the image');
  return format;
}

const decodeFailure = (error: unknown) => new ImageUploadError('corrupt', `cannot be decoded: ${(error as Error).message}`);

/**
 * Checks an uploaded logo or favicon and re-encodes it with sharp (libvips): PNG, JPEG or WebP only,
 * content agreeing with its name and declared type, nothing before or after the image, no markup,
 * within the size limits; then turned upright, stripped of metadata (EXIF, text chunks, profiles),
 * resized and written as a fresh PNG, which is decoded once more before it is accepted.
 */
export async function prepareImage(purpose: ImagePurpose, file: UploadedFile): Promise<PreparedImage> {
  const format = checkBytes(file);
  const sharp = await loadSharp();
  // The header only, so no pixel limit here: the dimensions it claims are checked just below, with
  // a message naming them, before anything is decoded (with the limit).
  const metadata = await sharp(file.bytes, { ...DECODE_OPTIONS, limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => Promise.reject(decodeFailure(error)));
  const { width = 0, height = 0 } = metadata;
  if (metadata.format !== format || width === 0 || height === 0) throw new ImageUploadError('corrupt', `sharp reads ${metadata.format} ${width}×${height}`);
  if (width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE) throw new ImageUploadError('too_big_dimensions', `${width}×${height}`, { width, height, max: MAX_INPUT_SIDE });
  if (width < MIN_INPUT_SIDE || height < MIN_INPUT_SIDE) throw new ImageUploadError('too_small', `${width}×${height}`, { width, height, min: MIN_INPUT_SIDE });

  const { data: png, info } = await sharp(file.bytes, DECODE_OPTIONS)
    .timeout({ seconds: 10 })
    .autoOrient()
    .resize(OUTPUT[purpose])
    .png({ compressionLevel: 9 })
    .toBuffer({ resolveWithObject: true })
    .catch((error: unknown) => Promise.reject(decodeFailure(error)));
  const check = await sharp(png, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  if (sniffFormat(png) !== 'png' || check.info.width !== info.width || check.info.height !== info.height) throw new Error('the re-encoded image does not read back');
  return { purpose, png, width: info.width, height: info.height, sha256: createHash('sha256').update(png).digest('hex') };
}
