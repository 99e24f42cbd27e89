// Running a compiled fixture script in a child Node process, for behaviour
// that only shows at process level (does an attached IO let the process
// exit? does an uncaught callback exception reach Node?). The kill timer is
// a hang guard: a child still running when it fires fails the test.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** dist/test/fixtures/<name>.js, the compiled form of test/fixtures/<name>.ts. */
export function fixturePath(name: string): string {
  return path.join(__dirname, '..', 'fixtures', `${name}.js`);
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the kill timer had to end the child. */
  killed: boolean;
}

export interface ChildOptions {
  /** Hang guard: the child is killed (and `killed` set) after this long. Default 30 s. */
  killAfterMs?: number;
  /** Run through `bash -c` with this command prefix, e.g. 'ulimit -Sn 4096'. */
  shellPrefix?: string;
  /** The child's working directory. Default: this process's. */
  cwd?: string;
  /** The child's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `node <fixture> ...args` and resolves when it exits. */
export function runFixture(name: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return runScript(fixturePath(name), args, options);
}

/** Runs `node <script> ...args` and resolves when it exits. */
export function runScript(script: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  const spawnOptions = { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  const child =
    options.shellPrefix === undefined
      ? spawn(process.execPath, [script, ...args], spawnOptions)
      : spawn('bash', ['-c', `${options.shellPrefix} && exec "$0" "$@"`, process.execPath, script, ...args], spawnOptions);
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.killAfterMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}

/** The last line of a child's stdout parsed as JSON (fixtures report that way). */
export function lastJsonLine(result: ChildResult): unknown {
  const lines = result.stdout.trim().split('\n').filter((line) => line.length > 0);
  if (lines.length === 0) {
    throw new Error(`child printed nothing (code ${result.code}, signal ${result.signal}); stderr:\n${result.stderr}`);
  }
  return JSON.parse(lines[lines.length - 1]);
}

/** A readable account of a child's exit, for assertion messages. */
export function describeExit(result: ChildResult): string {
  return `code ${result.code}, signal ${result.signal}, killed by hang guard: ${result.killed}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
