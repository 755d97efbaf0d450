import type { Express } from 'express';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route the app answers, walking nested routers (Express 5's router stack). */
export function listRoutes(app: Express): Array<{ method: string; path: string }> {
  const walk = (stack: Layer[]): Array<{ method: string; path: string }> =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        return paths.flatMap((path) => Object.keys(layer.route!.methods).filter((method) => method !== '_all').map((method) => ({ method: method.toUpperCase(), path })));
      }
      return layer.handle?.stack ? walk(layer.handle.stack) : [];
    });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
}
