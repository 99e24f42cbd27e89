// Shared by the benchmark children: flag parsing and the one-line result
// protocol. A child prints exactly one line `BENCH_RESULT {json}` on stdout;
// the runner (run.ts) parses it. Everything else a child prints is ignored.
export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface ChildArgs {
  [flag: string]: string;
}

/** `--name value` pairs (and bare `--flag` as "true"). */
export function parseFlags(argv: string[]): ChildArgs {
  const out: ChildArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      out[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[arg.slice(2)] = argv[++i];
    } else {
      out[arg.slice(2)] = 'true';
    }
  }
  return out;
}

export function numberFlag(args: ChildArgs, name: string, fallback: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name}: not a number: ${raw}`);
  return value;
}

export function report(result: Record<string, unknown>): void {
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
}


export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Resident set size in bytes, from /proc where it is exact, else process.memoryUsage. */
export function rss(): number {
  return process.memoryUsage().rss;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
