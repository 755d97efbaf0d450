import path from 'node:path';
import { Router, type NextFunction, type Response } from 'express';
import { ASSET_FILE } from '../../services/branding/theme-folder.js';
import type { ThemeService } from '../../services/branding/theme-service.js';


/**
 * A theme folder's public files: its theme.css and assets/. Nothing else in the folder (theme.json,
 * views) is served, and only folders that are valid themes are.
 */
export function themeAssetRoutes(themes: ThemeService): Router {
  const router = Router();
  /** A file that vanished since the folder was read is a 404, not an error. */
  const send = (response: Response, next: NextFunction, root: string, file: string) =>
    new Promise<void>((resolve, reject) =>
      response.sendFile(file, { root, dotfiles: 'deny', maxAge: '1h' }, (error) => (error ? reject(error) : resolve())),
    ).catch((error: { status?: number }) => {
      if (error.status !== 404) throw error;
      next();
    });

  router.get('/themes/:folder/theme.css', async (request, response, next) => {
    const folder = themes.folderNamed(request.params.folder);
    if (!folder?.hasStylesheet) return next();
    await send(response, next, path.dirname(folder.assetsDir), 'theme.css');
  });

  router.get('/themes/:folder/assets/:file', async (request, response, next) => {
    const folder = themes.folderNamed(request.params.folder);
    if (!folder || !ASSET_FILE.test(request.params.file)) return next();
    await send(response, next, folder.assetsDir, request.params.file);
  });

  return router;
}
