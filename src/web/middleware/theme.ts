import type { RequestHandler } from 'express';
import type { Database } from '../../db/database.js';
import { findVersion } from '../../services/branding/records.js';
import type { ThemeService } from '../../services/branding/theme-service.js';

/** The published look, for every page; error pages rendered before this point ask the service themselves. */
export function publishedTheme(themes: ThemeService): RequestHandler {
  return async (_request, response, next) => {
    response.locals.theme = await themes.current();
    next();
  };
}

/**
 * IT previewing a draft sees the whole portal in it, with a banner to publish or leave; nobody else
 * does, and the preview ends with the session or if the person loses the role.
 */
export function brandingPreview({ db, themes }: { db: Database; themes: ThemeService }): RequestHandler {
  return async (request, response, next) => {
    const versionId = request.session.brandingPreview;
    if (versionId === undefined) return next();
    const role = request.user?.role;
    const version = role === 'it' || role === 'admin' ? await findVersion(db.knex, versionId) : undefined;
    if (!version) {
      delete request.session.brandingPreview;
      return next();
    }
    response.locals.theme = themes.presentVersion(version);
    response.locals.brandingPreview = { versionId: version.id };
    next();
  };
}
