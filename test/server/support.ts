// Helpers of the server tests: start the real CLI as a user would, talk to
// it with real clients (node:http, raw sockets), every wait bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export const MAIN = path.join(__dirname, '..', '..', 'server', 'main.js');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  startupLine: string;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit; kills with SIGKILL (and rejects) after `ms`. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the server's stderr matches `pattern` (checked on every chunk), bounded. */
  stderrMatches(pattern: RegExp, ms?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every server still running (after hooks). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Rejects after `ms` with `what` in the message: every wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `node [nodeArgs] dist/server/main.js ...args` (optionally through
 * bash with a prefix such as `ulimit -n 64`) and waits for the startup line.
 */
export async function startServer(args: string[], options: { shellPrefix?: string; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const nodeArgs = options.nodeArgs ?? [];
  const child =
    options.shellPrefix === undefined
      ? spawn(process.execPath, [...nodeArgs, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `${options.shellPrefix} && exec "$0" "$@"`, process.execPath, ...nodeArgs, MAIN, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const line = await within(
    new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const match = /^.*listening on .*$/m.exec(out);
        if (match) resolve(match[0]);
      };
      child.stdout!.on('data', check);
      void exited.then(({ code }) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
    }),
    20_000,
    'server startup line',
  ).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  const port = Number(/:(\d+) \(/.exec(line)![1]);
  return {
    child,
    port,
    startupLine: line,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrMatches(pattern: RegExp, ms = 15_000) {
      return within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (pattern.test(err)) {
              child.stderr!.off('data', check);
              resolve();
            }
          };
          child.stderr!.on('data', check);
          check();
        }),
        ms,
        `server stderr to match ${pattern}`,
      );
    },
    stop(signal: NodeJS.Signals = 'SIGTERM', ms = 15_000) {
      child.kill(signal);
      return within(exited, ms, `server exit after ${signal}`).catch((error) => {
        child.kill('SIGKILL');
        throw error;
      });
    },
  };
}

/** Runs the CLI to completion (for --help and bad flags). */
export function runCli(args: string[], ms = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return within(
    new Promise((resolve) => {
      // 'close', not 'exit': 'exit' may come before the last of stderr has
      // been read (seen under Wine: an empty stderr, 1 run in 3).
      child.on('close', (code) => {
        running.delete(child);
        resolve({ code, stdout, stderr });
      });
    }),
    ms,
    `node main.js ${args.join(' ')}`,
  );
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reusedSocket: boolean;
}

/** One request with node:http; resolves with the whole response. */
export function request(
  port: number,
  options: http.RequestOptions & { body?: Buffer | string; chunks?: (Buffer | string)[] } = {},
  ms = 15_000,
): Promise<Response> {
  return within(
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), reusedSocket: req.reusedSocket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (options.chunks) for (const c of options.chunks) req.write(c);
      req.end(options.body);
    }),
    ms,
    `${options.method ?? 'GET'} ${options.path ?? '/'}`,
  );
}

/** A raw TCP client: everything received, and whether/how the server closed. */
export class RawClient {
  readonly socket: net.Socket;
  data = Buffer.alloc(0);
  ended = false;
  error: Error | null = null;
  private readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, ms = 10_000): Promise<RawClient> {
    return within(
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
          socket.off('error', reject);
          resolve(new RawClient(socket));
        });
        socket.on('error', reject);
      }),
      ms,
      'connect',
    );
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `predicate` holds (checked on every event), bounded. */
  until(predicate: () => boolean, ms: number, what: string): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (predicate()) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      what,
    );
  }

  /** Waits for `count` complete responses; returns them. */
  async responses(count: number, ms = 10_000): Promise<ParsedResponse[]> {
    await this.until(() => parseResponses(this.data).length >= count || this.ended, ms, `${count} responses`);
    return parseResponses(this.data);
  }

  /** Waits for the server to close the connection. */
  waitClosed(ms = 10_000): Promise<void> {
    return within(this.closed, ms, 'server closing the connection');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parses complete responses (Content-Length framed; HEAD not supported) from raw bytes. */
export function parseResponses(data: Buffer, headRequests = 0): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let p = 0;
  while (p < data.length) {
    const end = data.indexOf('\r\n\r\n', p);
    if (end < 0) break;
    const lines = data.toString('latin1', p, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = status === 100 || out.length < headRequests ? 0 : Number(headers['content-length'] ?? 0);
    if (end + 4 + length > data.length) break;
    out.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) });
    p = end + 4 + length;
  }
  return out;
}

/**
 * Resolves once connecting to `port` is refused (every listener closed):
 * the event that shows a shutdown reached every accept path. Each attempt
 * waits for its own outcome; bounded overall.
 */
export function untilRefused(port: number, ms = 15_000): Promise<void> {
  return within(
    (async () => {
      for (;;) {
        const code = await new Promise<string | null>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.on('connect', () => {
            socket.destroy();
            resolve(null);
          });
          socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        if (code === 'ECONNREFUSED') return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })(),
    ms,
    `connections to port ${port} refused`,
  );
}

/** Whether this machine can listen on the IPv6 loopback (::1). */
export function ipv6LoopbackAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
