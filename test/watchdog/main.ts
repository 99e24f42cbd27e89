// The watchdog around a mocha run (`npm test`, `npm run test:asan`,
// `npm run test:windows`): runs mocha in a child process and, when no test
// or hook has begun or finished for too long, prints the one that is
// running (full title and file) and the native stacks of the process, then
// kills it and fails the run. Mocha's own timeouts cannot fire while the
// main thread is blocked in native code; this runs outside that thread,
// outside that process.
//
//   node dist/test/watchdog/main.js [--launch WORD]... [mocha arguments]
//
// --launch words make up the command that runs node (default: this node),
// e.g. `--launch wine --launch .../node.exe` for Windows' node under Wine.
// TIGERIO_WATCHDOG_SECONDS (default 120) is how long nothing may happen;
// a running test or hook gets its own mocha timeout on top (mocha fails
// it then by itself, unless it is blocked).
// Exit status: mocha's, or 1 when the watchdog ended the run.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fold, initialState, isProgress, parseEvents, type RunState, type WatchdogEvent } from './events';
import { nativeStacks } from './stacks';

const defaultQuietSeconds = 120;
/** Before the mocha process reports at all (node and mocha loading, slow under Wine or ASan). */
const startupSecondsMin = 60;
const pollIntervalMs = 250;
/** How long a killed run may take to exit before the watchdog exits anyway. */
const exitGraceMs = 10_000;

function say(line: string): void {
  fs.writeSync(2, `watchdog: ${line}\n`);
}

function parseArguments(argv: string[]): { launch: string[]; mochaArgs: string[] } {
  const launch: string[] = [];
  let index = 0;
  while (argv[index] === '--launch' && index + 1 < argv.length) {
    launch.push(argv[index + 1]);
    index += 2;
  }
  return { launch: launch.length > 0 ? launch : [process.execPath], mochaArgs: argv.slice(index) };
}

function quietSeconds(): number {
  const text = process.env.TIGERIO_WATCHDOG_SECONDS;
  if (text === undefined || text === '') return defaultQuietSeconds;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(`TIGERIO_WATCHDOG_SECONDS must be a positive number of seconds, not '${text}'`);
  }
  return seconds;
}

function named(event: WatchdogEvent): string {
  return `${event.runnable} "${event.title}"${event.file === undefined ? '' : ` in ${event.file}`}`;
}

/** How long the run may stay quiet in `state` before the watchdog ends it. */
function limitMs(state: RunState, quietMs: number): number {
  if (!state.started) return Math.max(quietMs, startupSecondsMin * 1000);
  return quietMs + (state.running?.timeoutMs ?? 0);
}

/** What the process was doing when it went quiet, in words. */
function describeStall(state: RunState, quietMs: number): string[] {
  const seconds = (quietMs / 1000).toFixed(1);
  if (!state.started) return [`the mocha process reported nothing in ${seconds} s: it is stuck starting (node, mocha or a --require)`];
  if (state.running !== null) {
    const timeout = state.running.timeoutMs ?? 0;
    return [
      `BLOCKED: ${named(state.running)}`,
      `it began ${seconds} s ago and has not finished${timeout > 0 ? `, though its mocha timeout is ${timeout / 1000} s` : ''}: ` +
        'its thread is blocked (in a native call, or in JS that never yields), where mocha cannot fail it',
    ];
  }
  const last = state.lastFinished === null ? 'none yet' : named(state.lastFinished);
  if (state.ended) {
    return [`every test ran (the last to finish: ${last}), but the process has not exited ${seconds} s later: something keeps it alive`];
  }
  return [`no test or hook is running and none began for ${seconds} s (the last to finish: ${last}): stuck between tests, or loading test files`];
}

function main(): void {
  const { launch, mochaArgs } = parseArguments(process.argv.slice(2));
  const quietMs = quietSeconds() * 1000;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-watchdog-'));
  const logPath = path.join(directory, 'events.jsonl');
  fs.writeFileSync(logPath, '');
  const logFd = fs.openSync(logPath, 'r');
  // Paths relative to the working directory: the same for Linux's node and
  // for a Windows node.exe under Wine, whose working directory is on Z:.
  const mochaBin = path.relative(process.cwd(), require.resolve('mocha/bin/mocha.js'));
  const hooks = path.relative(process.cwd(), path.join(__dirname, 'hooks.js'));
  // Windows cannot kill a process group; elsewhere the run is a group of its
  // own, so that killing it ends the children its tests started as well.
  const ownGroup = process.platform !== 'win32';
  const child = spawn(launch[0], [...launch.slice(1), mochaBin, '--require', hooks, ...mochaArgs], {
    stdio: 'inherit',
    detached: ownGroup,
    env: { ...process.env, TIGERIO_WATCHDOG_LOG: logPath },
  });
  const pid = child.pid;

  let state = initialState();
  let leftover = '';
  let readOffset = 0;
  let lastEventMs = performance.now();
  let fired = false;

  const killRun = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      if (ownGroup) process.kill(-pid, signal);
      else child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  const forwarded: NodeJS.Signals[] = ownGroup ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : [];
  for (const signal of forwarded) process.on(signal, () => killRun(signal));

  const readEvents = (): void => {
    const size = fs.fstatSync(logFd).size;
    if (size <= readOffset) return;
    const buffer = Buffer.alloc(size - readOffset);
    const read = fs.readSync(logFd, buffer, 0, buffer.length, readOffset);
    readOffset += read;
    const parsed = parseEvents(leftover, buffer.subarray(0, read).toString('utf8'));
    leftover = parsed.leftover;
    for (const event of parsed.events) state = fold(state, event);
    if (parsed.events.some(isProgress)) lastEventMs = performance.now();
  };

  const fire = (quietForMs: number): void => {
    fired = true;
    clearInterval(poll);
    say(`no test or hook began or finished for ${(quietForMs / 1000).toFixed(1)} s`);
    for (const line of describeStall(state, quietForMs)) say(line);
    if (pid !== undefined) {
      const stacks = nativeStacks(pid, path.basename(launch[0]) === 'wine');
      say(stacks.tool === null ? stacks.text : `native stacks of pid ${pid} (${stacks.tool}):`);
      if (stacks.tool !== null) fs.writeSync(2, `${stacks.text}\n`);
    }
    say(`killing the run (pid ${pid}${ownGroup ? ' and its process group' : ''}); the run fails`);
    killRun('SIGKILL');
    setTimeout(() => process.exit(1), exitGraceMs).unref();
  };

  const poll = setInterval(() => {
    readEvents();
    const quietForMs = performance.now() - lastEventMs;
    if (quietForMs > limitMs(state, quietMs)) fire(quietForMs);
  }, pollIntervalMs);

  let finished = false;
  const finish = (): void => {
    if (finished) return; // 'error' (a failed kill) may come before 'exit'
    finished = true;
    clearInterval(poll);
    fs.closeSync(logFd);
    fs.rmSync(directory, { recursive: true, force: true });
  };
  child.on('error', (error) => {
    // Mostly: not started, and no 'exit' follows (--launch wine where wine is missing).
    finish();
    say(`could not start ${launch[0]}: ${error.message}`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    finish();
    if (fired) process.exitCode = 1;
    else if (signal !== null) {
      say(`mocha ended by ${signal}`);
      process.exitCode = 1;
    } else process.exitCode = code ?? 1;
  });
}

main();
