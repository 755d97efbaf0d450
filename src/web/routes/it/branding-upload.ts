import type { RequestHandler } from 'express';
import multer from 'multer';
import { MAX_UPLOAD_BYTES } from '../../../domain/branding/image-upload.js';
import type { Role } from '../../../domain/people/users.js';

/** The one branding form with files: the look IT edits. */
export const BRANDING_DRAFT_PATH = '/it/branding/drafts';
export const BRANDING_ROLES: readonly Role[] = ['it', 'admin'];
export const IMAGE_FIELDS = ['logo', 'favicon'] as const;
export type ImageField = (typeof IMAGE_FIELDS)[number];

/** Why the form could not be read: a file over the limit (named), or anything else wrong with the request. */
export type UploadProblem = { code: 'too_large'; field: ImageField } | { code: 'bad_form' };

const parseForm = multer({
  storage: multer.memoryStorage(),
  // Browsers send file names in UTF-8.
  defParamCharset: 'utf8',
  // About twenty fields; a message is at most 600 characters, 8 KiB leaves room for any of them.
  limits: { fileSize: MAX_UPLOAD_BYTES, files: IMAGE_FIELDS.length, fields: 40, parts: 42, fieldSize: 8 * 1024, headerPairs: 20 },
}).fields(IMAGE_FIELDS.map((name) => ({ name, maxCount: 1 })));

const isImageField = (field: unknown): field is ImageField => (IMAGE_FIELDS as readonly unknown[]).includes(field);

/**
 * Parses the branding form (multipart) before the CSRF check, which reads `_csrf` from the parsed
 * body; mounted on BRANDING_DRAFT_PATH in app.ts. Only IT's and admins' uploads are read: anyone
 * else's body stays unparsed, so the CSRF check refuses it. A refused upload is answered by the route
 * with the form and the reason, as long as `_csrf`, sent before the files, arrived.
 */
export const brandingFormUpload: RequestHandler = (request, response, next) => {
  if (request.method !== 'POST' || request.path !== '/' || !request.user || !BRANDING_ROLES.includes(request.user.role)) return next();
  parseForm(request, response, (error: unknown) => {
    if (error) {
      const tooLarge = error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE' && isImageField(error.field);
      response.locals.uploadProblem = (tooLarge ? { code: 'too_large', field: (error as multer.MulterError).field as ImageField } : { code: 'bad_form' }) satisfies UploadProblem;
    }
    next();
  });
};
