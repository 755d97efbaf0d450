import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import ejs from 'ejs';

/** The views a theme overrides: its folder and the relative paths it holds ("partials/footer.ejs"). */
export interface ViewOverrides {
  viewsDir: string;
  overrides: ReadonlySet<string>;
}

/**
 * Theme-first view lookup. Pages are resolved by `resolveView`; includes inside any template go
 * through EJS's `includer`, which asks the theme of the render in progress. Compiled templates are
 * cached per file and shared by every theme, so the theme cannot be baked into them: it travels in
 * an AsyncLocalStorage around each render.
 */
export function themedViews(defaultViewsDir: string) {
  const current = new AsyncLocalStorage<ViewOverrides>();

  const relativeName = (file: string, theme: ViewOverrides | undefined): string | null => {
    for (const root of [defaultViewsDir, theme?.viewsDir]) {
      if (!root) continue;
      const relative = path.relative(root, file);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
    }
    return null;
  };

  const overrideOf = (relative: string | null, theme: ViewOverrides | undefined): string | null =>
    relative !== null && theme?.overrides.has(relative) ? path.join(theme.viewsDir, relative) : null;

  /** `pages/account` → the theme's copy if it has one, else the portal's. */
  function resolveView(name: string, theme: ViewOverrides | undefined): string {
    const relative = `${name}.ejs`;
    return overrideOf(relative, theme) ?? path.join(defaultViewsDir, relative);
  }

  const includer = (original: string, parsed: string | undefined) => {
    const theme = current.getStore();
    return { filename: (parsed && overrideOf(relativeName(parsed, theme), theme)) || parsed || original };
  };

  /** The Express view engine: EJS with the includer and the portal's views as the include root. */
  function engine(cache: boolean) {
    return (file: string, data: object, callback: (error: Error | null, html?: string) => void) =>
      ejs.renderFile(file, data, { cache, includer, views: [defaultViewsDir] }, callback);
  }

  /** Runs a render with `theme`'s overrides visible to every include inside it. */
  const withTheme = <T>(theme: ViewOverrides | undefined, render: () => T): T =>
    theme ? current.run(theme, render) : current.exit(render);

  return { resolveView, engine, withTheme };
}

export type ThemedViews = ReturnType<typeof themedViews>;
