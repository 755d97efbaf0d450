/**
 * `node --import ./test/helpers/loaded-modules.mjs …` writes the URL of every module the process loads
 * to the file named by LOADED_MODULES_FILE, one a line: ES modules (and the CommonJS modules they import)
 * as the module loader loads them, through a hook; every CommonJS module, required from anywhere,
 * from require's cache when the process exits. Plain JavaScript, so that it loads no TypeScript
 * toolchain itself.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.LOADED_MODULES_FILE;
if (!file) throw new Error('LOADED_MODULES_FILE names no file');
register('./loaded-modules-hooks.mjs', import.meta.url, { data: { file } });
const requireCache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(file, Object.keys(requireCache).map((path) => `${pathToFileURL(path).href}\n`).join('')));
