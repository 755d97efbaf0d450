import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/config.js';

export const run = promisify(execFile);

export const deployFolder = path.join(projectRoot, 'docs', 'deploy');

/** The systemd unit's [Service] settings, each key with its values in order (a key may repeat). */
export function serviceSettings(): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(path.join(deployFolder, 'recharge.service'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    const [key = '', ...value] = line.split('=');
    if (section === 'Service') settings.set(key, [...(settings.get(key) ?? []), value.join('=')]);
  }
  return settings;
}

/** The one value of a [Service] key; throws when it is missing or given twice. */
export function serviceSetting(key: string): string {
  const values = serviceSettings().get(key) ?? [];
  if (values.length !== 1) throw new Error(`recharge.service sets ${key} ${values.length} times, not once`);
  return values[0] as string;
}

/** Fails with what to install when a program the deploy suite runs is missing. */
export async function requireProgram(program: string, versionArgs: string[], debianPackage: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(program, versionArgs);
    return `${stdout}${stderr}`.trim();
  } catch (error) {
    throw new Error(`${program} is needed by npm run test:deploy and could not be run (${(error as Error).message.trim()}): apt-get install -y ${debianPackage}`);
  }
}
