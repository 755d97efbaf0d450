import { readFileSync } from 'node:fs';

/**
 * A process as a spool file names it. A pid alone may name another process later (after a reboot,
 * or once pids wrapped around), so the boot and the process's start time go with it where Linux
 * says them (/proc); elsewhere they are null and the pid alone decides.
 */
export interface ProcessOwner {
  pid: number;
  bootId: string | null;
  startTime: string | null;
}

const readOrNull = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

const currentBootId = () => readOrNull('/proc/sys/kernel/random/boot_id')?.trim() ?? null;

/** Field `index` (1 for the command) of /proc/<pid>/stat; read after the command's `)`, which may hold spaces. */
function statField(pid: number | 'self', index: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[index - 3] ?? null;
}

/** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
export const startTimeOf = (pid: number): string | null => statField(pid, 22);

/** Whether this process leads its process group (field 5, pgrp, is its pid); null where /proc does not say. */
export function leadsProcessGroup(): boolean | null {
  const group = statField('self', 5);
  return group === null ? null : Number(group) === process.pid;
}

/** Whether a process runs (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const thisProcess = (): ProcessOwner => ({ pid: process.pid, bootId: currentBootId(), startTime: startTimeOf(process.pid) });

/** Whether the process that wrote an entry still runs: same boot, pid alive, and started when it did. */
export function ownerIsAlive(owner: ProcessOwner): boolean {
  const bootId = currentBootId();
  if (owner.bootId !== null && bootId !== null && owner.bootId !== bootId) return false;
  if (!isRunning(owner.pid)) return false;
  const startTime = owner.startTime === null ? null : startTimeOf(owner.pid);
  return startTime === null || startTime === owner.startTime;
}
