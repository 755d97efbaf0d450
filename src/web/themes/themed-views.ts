import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { ViewOverrides } from '../../services/branding/theme-service.js';

/** A template compiled once, and the templates its includes led to, in the theme it was compiled for. */
interface Template {
  file: string;
  render: (data: object) => string;
  includes: Map<string, Template>;
}

function relativeName(file: string, defaultViewsDir: string, theme: ViewOverrides | undefined): string | null {
  for (const root of theme ? [defaultViewsDir, theme.viewsDir] : [defaultViewsDir]) {
    const relative = path.relative(root, file);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
  }
  return null;
}

/** `values`' own properties into `into`, but for `__proto__` and `constructor`: what EJS copies into a template's locals. */
function copyOwnValues(into: Record<string, unknown>, values: object | undefined): Record<string, unknown> {
  for (const name in values) {
    if (Object.hasOwn(values, name) && name !== '__proto__' && name !== 'constructor') into[name] = (values as Record<string, unknown>)[name];
  }
  return into;
}

const overrideOf = (relative: string | null, theme: ViewOverrides | undefined): string | null =>
  relative !== null && theme?.overrides.has(relative) ? path.join(theme.viewsDir, relative) : null;

/**
 * The templates of one theme: each compiled at its first use, each include resolved once, where
 * EJS looks for it (beside the including file, then in the portal's views), then swapped for the
 * theme's copy if it has one. EJS's own include would check paths on disk and copy all the locals
 * twice at every include; here a page's locals are copied once, as EJS does (own properties, onto
 * an object without prototype), and each template sees them through an object of its own.
 */
function templateSet(defaultViewsDir: string, theme: ViewOverrides | undefined) {
  const templates = new Map<string, Template>();

  function templateAt(file: string): Template {
    let template = templates.get(file);
    if (!template) {
      const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      // The locals handed in are the template's own already (see `render`): EJS need not copy them.
      const options = { filename: file, unsafePrototypeLocals: true };
      template = { file, render: ejs.compile(text, options), includes: new Map() };
      templates.set(file, template);
    }
    return template;
  }

  function includedFile(including: string, name: string): string {
    const beside = ejs.resolveInclude(name, including);
    const inViews = ejs.resolveInclude(name, defaultViewsDir, true);
    const found = existsSync(beside) ? beside : existsSync(inViews) ? inViews : null;
    return (found && overrideOf(relativeName(found, defaultViewsDir, theme), theme)) ?? found ?? name;
  }

  /**
   * Renders `template` with `data`: its locals are an object over them, holding what the template
   * assigns and its own include (inside `with (locals)`, found before EJS's). An include's data
   * are its includer's data, not locals, with the values it was given over them.
   */
  function render(template: Template, data: object): string {
    const locals = Object.create(data) as Record<string, unknown>;
    locals.include = (name: string, includeData?: object) => {
      let included = template.includes.get(name);
      if (!included) {
        included = templateAt(includedFile(template.file, name));
        template.includes.set(name, included);
      }
      return render(included, includeData ? copyOwnValues(Object.create(data) as Record<string, unknown>, includeData) : data);
    };
    return template.render(locals);
  }

  return { theme, render: (file: string, data: object) => render(templateAt(file), copyOwnValues(Object.create(null) as Record<string, unknown>, data)) };
}

type TemplateSet = ReturnType<typeof templateSet>;

/**
 * Theme-first views. Pages are resolved by `resolveView`; includes inside any template by the
 * theme the page is drawn in (its `theme` local). With the view cache on, each theme's templates
 * are compiled and their includes resolved once (a theme folder read again brings a new set of
 * overrides, so its templates are compiled again); without it, as in development, they are read
 * again at every render.
 */
export function themedViews(defaultViewsDir: string) {
  const portalViews = templateSet(defaultViewsDir, undefined);
  const themes = new WeakMap<ReadonlySet<string>, TemplateSet>();

  function compiledFor(theme: ViewOverrides | undefined): TemplateSet {
    if (!theme) return portalViews;
    let set = themes.get(theme.overrides);
    if (set?.theme?.viewsDir !== theme.viewsDir) {
      set = templateSet(defaultViewsDir, theme);
      themes.set(theme.overrides, set);
    }
    return set;
  }

  /** `pages/account` → the theme's copy if it has one, else the portal's. */
  function resolveView(name: string, theme: ViewOverrides | undefined): string {
    const relative = `${name}.ejs`;
    return overrideOf(relative, theme) ?? path.join(defaultViewsDir, relative);
  }

  /** The Express view engine: `file` as resolveView found it, its includes in the theme of the `theme` local. */
  function engine(cache: boolean) {
    return (file: string, data: object, callback: (error: Error | null, html?: string) => void) => {
      const theme = (data as { theme?: { views?: ViewOverrides } }).theme?.views;
      let html: string;
      try {
        html = (cache ? compiledFor(theme) : templateSet(defaultViewsDir, theme)).render(file, data);
      } catch (error) {
        return callback(error as Error);
      }
      callback(null, html);
    };
  }

  return { resolveView, engine };
}

export type ThemedViews = ReturnType<typeof themedViews>;
