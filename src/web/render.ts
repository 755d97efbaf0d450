import type { Response } from 'express';
import type { ThemedViews } from './themes/themed-views.js';
import type { PresentedTheme, ThemeService } from '../services/branding/theme-service.js';

/** Renders `view` in `theme`: the theme's copy of the view and of each include first (src/web/themes/themed-views.ts). */
function renderView(response: Response, views: ThemedViews, theme: PresentedTheme, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    response.render(views.resolveView(view, theme.views), { ...locals, theme }, (error, html) => (error ? reject(error) : resolve(html))),
  );
}

/** Renders `view` into the layout (views/layout.ejs receives it as `body`), the theme's copies of either first. */
export async function renderPage(response: Response, view: string, locals: Record<string, unknown> = {}): Promise<void> {
  const views = response.app.locals.themedViews as ThemedViews;
  const theme = (response.locals.theme as PresentedTheme | undefined) ?? (await (response.app.locals.themes as ThemeService).current());
  const body = await renderView(response, views, theme, view, locals);
  const page = await renderView(response, views, theme, 'layout', { ...locals, body });
  response.type('html').send(page);
}
