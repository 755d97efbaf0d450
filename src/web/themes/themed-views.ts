import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import ejs from 'ejs';
import type { ViewOverrides } from '../../services/branding/theme-service.js';

/** The theme of the render in progress, and the portal views it overrides. */
interface Rendering {
  defaultViewsDir: string;
  theme: ViewOverrides;
}

/**
 * One store for the whole process: EJS caches each compiled template, with the includer it was
 * compiled with, globally per file. A store per app would leave a second app in the same process
 * (the tests build many) asking the first app's store, and its overrides would never be found.
 */
const rendering = new AsyncLocalStorage<Rendering>();

function relativeName(file: string, { defaultViewsDir, theme }: Rendering): string | null {
  for (const root of [defaultViewsDir, theme.viewsDir]) {
    const relative = path.relative(root, file);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
  }
  return null;
}

const overrideOf = (relative: string | null, theme: ViewOverrides | undefined): string | null =>
  relative !== null && theme?.overrides.has(relative) ? path.join(theme.viewsDir, relative) : null;

const includer = (original: string, parsed: string | undefined) => {
  const current = rendering.getStore();
  return { filename: (parsed && current && overrideOf(relativeName(parsed, current), current.theme)) || parsed || original };
};

/**
 * Theme-first view lookup. Pages are resolved by `resolveView`; includes inside any template go
 * through EJS's `includer`, which asks the theme of the render in progress. Compiled templates are
 * cached per file and shared by every theme, so the theme cannot be baked into them: it travels in
 * an AsyncLocalStorage around each render.
 */
export function themedViews(defaultViewsDir: string) {
  /** `pages/account` → the theme's copy if it has one, else the portal's. */
  function resolveView(name: string, theme: ViewOverrides | undefined): string {
    const relative = `${name}.ejs`;
    return overrideOf(relative, theme) ?? path.join(defaultViewsDir, relative);
  }

  /** The Express view engine: EJS with the includer and the portal's views as the include root. */
  function engine(cache: boolean) {
    return (file: string, data: object, callback: (error: Error | null, html?: string) => void) =>
      ejs.renderFile(file, data, { cache, includer, views: [defaultViewsDir] }, callback);
  }

  /** Runs a render with `theme`'s overrides visible to every include inside it. */
  const withTheme = <T>(theme: ViewOverrides | undefined, render: () => T): T =>
    theme ? rendering.run({ defaultViewsDir, theme }, render) : rendering.exit(render);

  return { resolveView, engine, withTheme };
}

export type ThemedViews = ReturnType<typeof themedViews>;
