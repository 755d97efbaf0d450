import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
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

/**
 * The system calls an allow-list of SystemCallFilter= lets through, as this machine's systemd
 * (systemd-analyze syscall-filter) expands its groups, and with @default, which systemd adds to every allow-list.
 */
export async function allowedSystemCalls(entries: string[]): Promise<Set<string>> {
  const groups = new Map<string, string[]>();
  let group: string[] | null = null;
  for (const line of (await run('systemd-analyze', ['syscall-filter'])).stdout.split('\n')) {
    const entry = line.trim();
    if (line.startsWith('@')) groups.set(entry, (group = []));
    // What follows the groups (a blank line, notes in column 0) belongs to none.
    else if (!line.startsWith(' ')) group = null;
    else if (group && !entry.startsWith('#')) group.push(entry);
  }
  const allowed = new Set<string>();
  const add = (entry: string): void => {
    if (!entry.startsWith('@')) {
      allowed.add(entry);
      return;
    }
    const members = groups.get(entry);
    if (!members) throw new Error(`systemd-analyze syscall-filter knows no group ${entry}`);
    members.forEach(add);
  };
  ['@default', ...entries].forEach(add);
  return allowed;
}

/**
 * Node `major` from the npm registry (the package node-linux-<arch> holds the official binary, as CI
 * takes Node 24) installed into `folder`; resolves with the binary's path as process.execPath names it.
 */
export async function nodeFromRegistry(major: number, folder: string): Promise<string> {
  await run('npm', ['install', '--prefix', folder, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-${process.arch}@${major}`]);
  return realpath(path.join(folder, 'node_modules', '.bin', 'node'));
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
