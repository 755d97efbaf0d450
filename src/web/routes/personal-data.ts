import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Database } from '../../db/database.js';
import type { Clock } from '../../domain/time/clock.js';
import { personalDataArchive } from '../../services/people/personal-data-export.js';
import type { Translate } from '../../i18n/index.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { renderPage } from '../render.js';

export const PERSONAL_DATA_PATH = '/account/data';
const HOUR_MS = 3600_000;

/**
 * "Download my data": the page that explains it, and the download itself, a ZIP built as it is sent
 * (never cached: the portal's no-store applies). Each download reads the whole history, so a person
 * may make only `exportsPerHour` of them an hour (429 past it).
 */
export function personalDataRoutes({ db, clock, exportsPerHour }: { db: Database; clock: Clock; exportsPerHour: number }): Router {
  const router = Router();
  const limitDownloads = perPersonLimit({ limit: exportsPerHour, windowMs: HOUR_MS, clock });

  router.get(PERSONAL_DATA_PATH, requireUser, async (_request, response) => {
    const t = response.locals.t as Translate;
    await renderPage(response, 'pages/personal-data', { title: t('retention.export.title'), exportsPerHour });
  });

  router.get(`${PERSONAL_DATA_PATH}/download`, requireUser, limitDownloads, async (request, response) => {
    const now = clock.now();
    response.setHeader('Content-Type', 'application/zip');
    response.setHeader('Content-Disposition', `attachment; filename="my-data-${now.toISOString().slice(0, 10)}.zip"`);
    // A failure half-way ends the connection: the browser reports an incomplete download, never a truncated ZIP as complete.
    await pipeline(Readable.from(personalDataArchive(db, request.user!.id, now)), response);
  });

  return router;
}
