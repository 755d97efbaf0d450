import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../config.js';

const colour = z.string().regex(/^#[0-9a-f]{6}$/i, 'must be #rrggbb');
const fileName = z.string().regex(/^[\w-]+\.(svg|png|jpe?g|webp|ico)$/, 'must be a file name in the theme assets folder');

const themeSchema = z.object({
  name: z.string().min(1).max(100),
  colours: z.object({ primary: colour, accent: colour, background: colour, text: colour }),
  logo: fileName,
  favicon: fileName,
});

export type Theme = z.infer<typeof themeSchema> & { assetsDir: string };

/** Reads and validates themes/<name>/theme.json; a bad theme stops start-up. */
export function loadTheme(name = 'default'): Theme {
  const dir = path.join(projectRoot, 'themes', name);
  const theme = themeSchema.parse(JSON.parse(readFileSync(path.join(dir, 'theme.json'), 'utf8')));
  return { ...theme, assetsDir: path.join(dir, 'assets') };
}
