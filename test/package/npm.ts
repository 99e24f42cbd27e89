// Running npm (and other commands) from the package tests, as a user would
// in a shell: no environment inherited from the `npm test` around us
// (npm_* variables would change how the inner npm behaves), and a bounded
// time, so a stuck install fails the test instead of hanging it.
import { spawnSync } from 'node:child_process';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment without the npm_* variables the outer `npm test` set, and
 * without PREBUILDS_ONLY (the release workflow's switch for this checkout's
 * own tests: the installed copy has no prebuild and must load its build).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'PREBUILDS_ONLY') env[key] = value;
  }
  return env;
}

/**
 * `npm ...args` in `cwd`. On Windows npm is npm.cmd, which Node spawns only
 * through a shell, and the shell splits at spaces: quote such arguments.
 */
export function npm(args: string[], cwd: string, timeoutMs: number): Run {
  if (process.platform !== 'win32') return run('npm', args, cwd, timeoutMs);
  return run('npm', args.map((arg) => (/\s/.test(arg) ? `"${arg}"` : arg)), cwd, timeoutMs, true);
}

export function run(command: string, args: string[], cwd: string, timeoutMs: number, shell = false): Run {
  const result = spawnSync(command, args, {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: timeoutMs,
    shell,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A failed command's message: the command and the end of what it printed. */
export function describeRun(what: string, result: Run): string {
  const tail = (text: string): string => text.trim().split('\n').slice(-15).join('\n');
  return `${what} exited ${result.status}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`;
}

export interface PackedFile {
  path: string;
  size: number;
}

/** `npm pack --dry-run --json` in `dir`: the tarball's file list, without building (the tests run after tsc). */
export function packList(dir: string): PackedFile[] {
  const result = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], dir, 60_000);
  if (result.status !== 0) throw new Error(describeRun('npm pack --dry-run', result));
  const parsed = JSON.parse(result.stdout) as { files: PackedFile[] }[];
  return parsed[0].files;
}
