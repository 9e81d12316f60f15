// CPU time of another process (a broker the bench started), from Linux's /proc/<pid>/stat:
// user + system time in clock ticks of 1/100 s (USER_HZ, fixed at 100 on Linux's ABI for /proc).

import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** CPU seconds the process has used so far, or null where /proc is not readable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime, stime: fields 14 and 15 of stat
  } catch {
    return null;
  }
}
