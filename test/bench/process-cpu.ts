// CPU time of benchmark processes, read from Linux's /proc: what a server
// spends per request (user + system, all its threads and child processes),
// and what the load generator spends. With both sides on one small machine,
// a req/s figure alone cannot say which side was the bottleneck; the CPU
// per request of each side can (a side near 1 s of CPU per second of wall
// time is saturated). Elsewhere than Linux every reading is null.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** USER_HZ, the unit of /proc's CPU times; 0 where there is no /proc to read. */
export const TICKS_PER_SECOND = ((): number => {
  if (process.platform !== 'linux') return 0;
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100; // USER_HZ on every Linux architecture we build for
  }
})();

/** The fields of a /proc/PID/stat line after its "(comm)", which may itself hold spaces or parentheses. */
function statFields(line: string): string[] | null {
  const end = line.lastIndexOf(')');
  if (end < 0) return null;
  return line.slice(end + 2).trim().split(/\s+/);
}

// Field numbers of proc(5), counted from 1; statFields() starts at field 3 (state).
const FIELD_UTIME = 14;
const FIELD_STIME = 15;
const FIELD_CUTIME = 16;
const FIELD_CSTIME = 17;
const fieldAt = (fields: string[], field: number): number => Number(fields[field - 3]);

function ownTicks(pid: number): number | null {
  try {
    const fields = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (fields === null) return null;
    return fieldAt(fields, FIELD_UTIME) + fieldAt(fields, FIELD_STIME);
  } catch {
    return null; // gone, or no /proc
  }
}

function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') for (const child of text.split(/\s+/)) pids.push(Number(child));
    }
  } catch {
    // gone, or a kernel without the children file: the process's own time only
  }
  return pids;
}

/** CPU seconds (user + system) used so far by `pid`, its threads and its live descendants (an nginx master's worker). */
export function processTreeCpuSeconds(pid: number): number | null {
  if (TICKS_PER_SECOND === 0) return null;
  const own = ownTicks(pid);
  if (own === null) return null;
  let ticks = own;
  const pending = childPids(pid);
  for (let visited = 0; pending.length > 0 && visited < 1000; visited++) {
    const child = pending.pop()!;
    ticks += ownTicks(child) ?? 0;
    pending.push(...childPids(child));
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * A shell command line that runs `command` and then prints its CPU time
 * (user + system, from the shell's waited-for children) on a line that
 * starts with WAITED_CPU_PREFIX; null where that cannot be read.
 */
export function withWaitedCpu(command: string, argv: string[]): [string, string[]] | null {
  if (TICKS_PER_SECOND === 0) return null;
  // $$ is the shell itself: after "$@" returns, its stat's cutime and cstime hold the command's time.
  const script = `"$@"; status=$?; echo; echo "${WAITED_CPU_PREFIX}$(cat /proc/$$/stat)"; exit $status`;
  return ['sh', ['-c', script, 'sh', command, ...argv]];
}

export const WAITED_CPU_PREFIX = 'tigerio-bench-waited-cpu: ';

/** The CPU seconds withWaitedCpu() printed into `output`, or null. */
export function waitedCpuSeconds(output: string): number | null {
  const line = output.split('\n').find((l) => l.startsWith(WAITED_CPU_PREFIX));
  if (line === undefined || TICKS_PER_SECOND === 0) return null;
  const fields = statFields(line.slice(WAITED_CPU_PREFIX.length));
  if (fields === null) return null;
  const ticks = fieldAt(fields, FIELD_CUTIME) + fieldAt(fields, FIELD_CSTIME);
  return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : null;
}
