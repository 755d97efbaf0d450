import { Router } from 'express';
import { findUpload, UPLOAD_ID, type UploadStore } from '../../services/branding/records.js';
import type { Database } from '../../db/database.js';

/** Uploads never change (a new image is a new id), and are only ever PNG images, read as nothing else. */
const UPLOAD_HEADERS = {
  'Content-Type': 'image/png',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
  'Cache-Control': 'public, max-age=31536000, immutable',
};

/**
 * IT's uploaded logos and favicons, at `/uploads/<id>.png`: only ids with a `branding_uploads` row,
 * read from the uploads folder by id alone (the id's pattern leaves no room for a path).
 */
export function uploadRoutes({ db, uploads }: { db: Database; uploads: UploadStore }): Router {
  const router = Router();
  router.get('/uploads/:file', async (request, response, next) => {
    const id = /^(.+)\.png$/.exec(request.params.file)?.[1] ?? '';
    const upload = UPLOAD_ID.test(id) ? await findUpload(db.knex, id) : undefined;
    const bytes = upload ? await uploads.read(upload.id) : undefined;
    if (!bytes) return next();
    response.set({ ...UPLOAD_HEADERS, 'Content-Length': String(bytes.length) });
    response.end(bytes);
  });
  return router;
}
