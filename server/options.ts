// Command-line flags: parsing, validation with clear errors, and --help.
// Pure (no I/O): main.ts prints and exits. One table drives both the parser
// and the help text, so every flag is documented by construction.
import { isIP } from 'node:net';
import * as os from 'node:os';
import * as limits from './limits';

export type AcceptMode = 'reuseport' | 'single';

export interface ServerOptions {
  host: string;
  port: number;
  threads: number;
  /** Directory served as static files; null: no static files. */
  root: string | null;
  /** IO backend name; null: the best this machine has. */
  backend: string | null;
  acceptMode: AcceptMode;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  sendTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxConnections: number;
  /** Cache-Control value for static files (200, 206, 304); null: none sent. */
  cacheControl: string | null;
  quiet: boolean;
}

/** A bad command line: main.ts prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Kind = 'string' | 'int' | 'bool' | 'mode';

interface Flag {
  name: string;
  key: keyof ServerOptions | 'help';
  kind: Kind;
  arg?: string;
  min?: number;
  max?: number;
  help: string;
}

const INT_MAX = 2 ** 31 - 1;

export const FLAGS: readonly Flag[] = [
  { name: 'host', key: 'host', kind: 'string', arg: 'ADDR', help: 'IP address to listen on (IPv4 or IPv6 literal). Default 127.0.0.1; 0.0.0.0 or :: for every interface.' },
  { name: 'port', key: 'port', kind: 'int', arg: 'N', min: 0, max: 65535, help: 'TCP port. 0 picks any free port; the startup line prints the real one. Default 8080.' },
  { name: 'threads', key: 'threads', kind: 'int', arg: 'N', min: 1, max: 256, help: 'Worker threads, each with its own IO. Default: the CPU count.' },
  { name: 'root', key: 'root', kind: 'string', arg: 'DIR', help: 'Serve the files under DIR (GET/HEAD; index.html for directories). Default: no static files.' },
  { name: 'backend', key: 'backend', kind: 'string', arg: 'NAME', help: 'IO backend (epoll, io_uring, kqueue, iocp; those this machine has). Default: the best one.' },
  { name: 'accept-mode', key: 'acceptMode', kind: 'mode', arg: 'MODE', help: "'reuseport': each worker listens on the port (SO_REUSEPORT, the kernel balances; Linux default). 'single': the main thread accepts and hands sockets to the workers (default elsewhere)." },
  { name: 'max-header-bytes', key: 'maxHeaderBytes', kind: 'int', arg: 'N', min: 256, max: 1024 * 1024, help: `Largest request header block; 431 beyond it. Default ${limits.MAX_HEADER_BYTES}.` },
  { name: 'max-body-bytes', key: 'maxBodyBytes', kind: 'int', arg: 'N', min: 0, max: 1024 * 1024 * 1024, help: `Largest request body; 413 beyond it. Default ${limits.MAX_BODY_BYTES}.` },
  { name: 'header-timeout-ms', key: 'headerTimeoutMs', kind: 'int', arg: 'MS', min: 1, max: INT_MAX, help: `Time from a request's first byte to the end of its headers; then 408 and close (slowloris). Default ${limits.HEADER_TIMEOUT_MS}.` },
  { name: 'idle-timeout-ms', key: 'idleTimeoutMs', kind: 'int', arg: 'MS', min: 1, max: INT_MAX, help: `Idle keep-alive connections, and bodies that stall this long, are closed. Default ${limits.IDLE_TIMEOUT_MS}.` },
  { name: 'send-timeout-ms', key: 'sendTimeoutMs', kind: 'int', arg: 'MS', min: 1, max: INT_MAX, help: `A response that makes no progress this long (client stopped reading) is dropped. Default ${limits.SEND_TIMEOUT_MS}.` },
  { name: 'shutdown-timeout-ms', key: 'shutdownTimeoutMs', kind: 'int', arg: 'MS', min: 0, max: INT_MAX, help: `On SIGINT/SIGTERM, in-flight requests get this long before every connection is closed. Default ${limits.SHUTDOWN_TIMEOUT_MS}.` },
  { name: 'max-connections', key: 'maxConnections', kind: 'int', arg: 'N', min: 1, max: limits.MAX_CONNECTIONS_LIMIT, help: `Open connections per worker; accepting pauses at the limit. Default ${limits.MAX_CONNECTIONS}, at most ${limits.MAX_CONNECTIONS_LIMIT} (what one IO can carry).` },
  { name: 'cache-control', key: 'cacheControl', kind: 'string', arg: 'VALUE', help: "Cache-Control for static files, e.g. 'public, max-age=3600'. Default: none (browsers revalidate with the ETag / Last-Modified every file carries)." },
  { name: 'quiet', key: 'quiet', kind: 'bool', help: 'Print nothing but the startup line and errors.' },
  { name: 'help', key: 'help', kind: 'bool', help: 'Print this help and exit.' },
];

export function defaultOptions(platform: NodeJS.Platform = process.platform): ServerOptions {
  return {
    host: '127.0.0.1',
    port: 8080,
    threads: Math.max(1, Math.min(256, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)),
    root: null,
    backend: null,
    acceptMode: platform === 'linux' ? 'reuseport' : 'single',
    maxHeaderBytes: limits.MAX_HEADER_BYTES,
    maxBodyBytes: limits.MAX_BODY_BYTES,
    headerTimeoutMs: limits.HEADER_TIMEOUT_MS,
    idleTimeoutMs: limits.IDLE_TIMEOUT_MS,
    sendTimeoutMs: limits.SEND_TIMEOUT_MS,
    shutdownTimeoutMs: limits.SHUTDOWN_TIMEOUT_MS,
    maxConnections: limits.MAX_CONNECTIONS,
    cacheControl: null,
    quiet: false,
  };
}

export type ParsedArgs = { help: true } | { help: false; options: ServerOptions };

/** Parses `argv` (without node and the script). Throws UsageError on anything wrong. */
export function parseArgs(argv: readonly string[], platform: NodeJS.Platform = process.platform): ParsedArgs {
  const options = defaultOptions(platform);
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '-h') return { help: true };
    if (!word.startsWith('--')) throw new UsageError(`unexpected argument '${word}': every flag starts with -- (e.g. --port 8080)`);
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const flag = FLAGS.find((f) => f.name === name);
    if (flag === undefined) {
      const near = nearestFlag(name);
      throw new UsageError(`unknown flag --${name}${near === null ? '' : `; did you mean --${near}?`}`);
    }
    if (flag.key === 'help') return { help: true };
    if (seen.has(flag.name)) throw new UsageError(`--${flag.name} given twice; give it once`);
    seen.add(flag.name);
    if (flag.kind === 'bool') {
      if (eq >= 0) throw new UsageError(`--${flag.name} takes no value; write --${flag.name} alone`);
      (options as unknown as Record<string, unknown>)[flag.key] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = word.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${flag.name} needs a value (${flag.arg})`);
      value = argv[++i];
    }
    (options as unknown as Record<string, unknown>)[flag.key] = convert(flag, value);
  }
  if (options.maxHeaderBytes < 256) throw new UsageError('--max-header-bytes must be at least 256');
  return { help: false, options };
}

function convert(flag: Flag, value: string): unknown {
  switch (flag.kind) {
    case 'int': {
      if (!/^[0-9]+$/.test(value)) {
        throw new UsageError(`--${flag.name} must be an integer in ${flag.min}..${flag.max}, got '${value}'`);
      }
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < flag.min! || n > flag.max!) {
        throw new UsageError(`--${flag.name} must be an integer in ${flag.min}..${flag.max}, got '${value}'`);
      }
      return n;
    }
    case 'mode':
      if (value !== 'reuseport' && value !== 'single') {
        throw new UsageError(`--${flag.name} must be 'reuseport' or 'single', got '${value}'`);
      }
      return value;
    case 'string':
      if (value === '') throw new UsageError(`--${flag.name} must not be empty; give ${flag.arg ?? 'a value'}, or leave the flag out`);
      if (flag.name === 'cache-control' && !/^[\x20-\x7e]+$/.test(value)) {
        // It goes into every static response's head verbatim: no CR/LF (header injection), no control bytes.
        throw new UsageError(`--cache-control must be printable ASCII (a header field value), got ${JSON.stringify(value)}`);
      }
      if (flag.name === 'host' && !isIpLiteral(value)) {
        throw new UsageError(`--host must be an IPv4 or IPv6 address literal (no names), got '${value}'`);
      }
      return value;
    default:
      throw new UsageError(`--${flag.name}: unexpected value`);
  }
}

/** The flag a mistyped name most likely meant (at most 2 edits away), or null. */
function nearestFlag(name: string): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const flag of FLAGS) {
    const distance = editDistance(name, flag.name);
    if (distance < bestDistance) {
      best = flag.name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function isIpLiteral(value: string): boolean {
  return isIP(value) !== 0;
}

/** The --help text: usage, every flag with its argument and default, the routes, and signals. */
export function helpText(): string {
  const lines = [
    'Usage: tigerio-server [flags]      (in a checkout: npm start -- [flags], or node dist/server/main.js [flags])',
    '',
    'A small multi-threaded HTTP/1.1 server on tigerio.',
    '',
    'Routes:',
    '  GET  /       --root\'s index.html when --root is given and has one; otherwise',
    '               "Hello, World!" as text/plain (the benchmark route)',
    '  GET  /json   {"message":"Hello, World!"} as application/json',
    '  POST /echo   the request body back, with its Content-Type',
    '  GET  /...    files under --root, when given: ETag, Last-Modified, 304 for',
    '               If-None-Match / If-Modified-Since, single byte ranges (206, 416;',
    '               several ranges get the whole file), a directory without its',
    '               trailing slash redirects (301) to it with the slash',
    '  OPTIONS      200 with Allow (also OPTIONS *)',
    '',
    'Flags (--flag VALUE or --flag=VALUE):',
  ];
  for (const flag of FLAGS) {
    const left = `  --${flag.name}${flag.arg ? ` ${flag.arg}` : ''}`;
    lines.push(left.padEnd(28) + flag.help);
  }
  lines.push(
    '',
    'SIGINT/SIGTERM: stop accepting, finish in-flight requests, close idle',
    'connections, exit 0 (a second signal exits at once).',
    '',
  );
  return lines.join('\n');
}
