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
  /** Why cups-files.conf's User or Group was not taken (and lp was), as CUPS would have said. */
  warning: string | null;
}

const DEFAULT_USER = 'lp';

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/**
 * A directive's value in cups-files.conf, as CUPS reads it: names in any case, `#` starts a comment,
 * and the last line wins. Null when absent.
 */
function directive(conf: string, name: string): string | null {
  let value: string | null = null;
  for (const line of conf.split('\n')) {
    const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(line.replace(/#.*/, ''));
    if (match?.[1]?.toLowerCase() === name.toLowerCase()) value = match[2] ?? null;
  }
  return value;
}

/** The fields of the line of /etc/passwd or /etc/group with this name, or with this id for a number (as CUPS takes `User 7`). */
function entryOf(file: string, nameOrId: string): string[] | null {
  const byId = /^\d+$/.test(nameOrId);
  for (const line of readText(file).split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 4 && (byId ? fields[2] === String(Number(nameOrId)) : fields[0] === nameOrId)) return fields;
  }
  return null;
}

/** A user and group as ids, or why not; never root, which CUPS refuses as User. */
function lookUp(userValue: string, groupValue: string | null, etc: string): Omit<CupsUser, 'warning'> | { problem: string } {
  const user = entryOf(path.join(etc, 'passwd'), userValue);
  const uid = /^\d+$/.test(userValue) ? Number(userValue) : user ? Number(user[2]) : null;
  if (uid === null) return { problem: `the user "${userValue}" is not in ${etc}/passwd` };
  if (uid === 0) return { problem: `CUPS does not run backends as root (User ${userValue})` };
  let gid: number | null;
  if (groupValue === null) gid = user ? Number(user[3]) : null;
  else if (/^\d+$/.test(groupValue)) gid = Number(groupValue);
  else gid = Number(entryOf(path.join(etc, 'group'), groupValue)?.[2] ?? Number.NaN);
  if (gid === null || !Number.isInteger(gid)) return { problem: groupValue === null ? `the user "${userValue}" has no group in ${etc}/passwd` : `the group "${groupValue}" is not in ${etc}/group` };
  return { name: user?.[0] ?? userValue, uid, gid };
}

/**
 * CUPS's User and Group as ids. As CUPS, a User or Group it cannot use leaves user lp; without lp
 * either, says why: the printer's backend must then not run at all, never as root in CUPS's place.
 */
export function cupsUser(serverRoot: string, etc = '/etc'): CupsUser | { problem: string } {
  const conf = readText(path.join(serverRoot, 'cups-files.conf'));
  const configured = lookUp(directive(conf, 'User') ?? DEFAULT_USER, directive(conf, 'Group'), etc);
  if (!('problem' in configured)) return { ...configured, warning: null };
  const fallback = lookUp(DEFAULT_USER, null, etc);
  if ('problem' in fallback) return { problem: `${configured.problem}, and ${fallback.problem}` };
  return { ...fallback, warning: `${configured.problem}: the printer's backend runs as ${DEFAULT_USER}` };
}
