import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The account CUPS runs a backend as when the backend may be run by anyone (group or other may
 * execute it, as ipp and socket): its `User` and `Group` in cups-files.conf (user lp by default).
 * Only a backend nobody else may execute (0700, as this one) runs as root.
 */
export interface CupsUser {
  name: string;
  uid: number;
  gid: number;
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** `User lp` in cups-files.conf: the directive's value, or null. */
const directive = (conf: string, name: string) => new RegExp(`^\\s*${name}\\s+(\\S+)\\s*$`, 'mi').exec(conf)?.[1] ?? null;

/** The fields of the line of /etc/passwd or /etc/group whose first field is `name` (or whose id is `#id`). */
function entryOf(file: string, name: string): string[] | null {
  const id = /^#(\d+)$/.exec(name)?.[1];
  for (const line of readText(file).split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 4 && (id === undefined ? fields[0] === name : fields[2] === id)) return fields;
  }
  return null;
}

/** CUPS's User and Group as ids, or why they cannot be found. */
export function cupsUser(serverRoot: string, etc = '/etc'): CupsUser | { problem: string } {
  const conf = readText(path.join(serverRoot, 'cups-files.conf'));
  const name = directive(conf, 'User') ?? 'lp';
  const user = entryOf(path.join(etc, 'passwd'), name);
  if (!user) return { problem: `the user "${name}" CUPS runs backends as is not in ${etc}/passwd` };
  const groupName = directive(conf, 'Group');
  const group = groupName === null ? null : entryOf(path.join(etc, 'group'), groupName);
  if (groupName !== null && !group) return { problem: `the group "${groupName}" CUPS runs backends as is not in ${etc}/group` };
  return { name, uid: Number(user[2]), gid: Number(group ? group[2] : user[3]) };
}
