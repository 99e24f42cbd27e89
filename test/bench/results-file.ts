// The JSON a recorded run leaves (`npm run bench -- --results DIR`, written
// by run.ts), read back for the chart and for --compare: only the fields
// they use, each checked, so an old or hand-edited file fails with its name
// instead of drawing nonsense.
import * as fs from 'node:fs';

export interface ResultRow {
  benchmark: string;
  backend: string;
  tigerio: number | null;
  peer: string;
  peerFigure: number | null;
  unit: string;
  /** true: more is better (throughput); false: less is better (time, memory). */
  higherIsBetter: boolean;
  /** > 1: tigerio ahead. */
  ratio: number | null;
}

export interface ResultMachine {
  cpus?: number;
  cpuModel?: string;
  kernel?: string;
  platform?: string;
  node?: string;
}

export interface Results {
  started: string;
  quick: boolean;
  machine: ResultMachine;
  loadBefore: number[];
  rows: ResultRow[];
}

function fail(file: string, what: string): never {
  throw new Error(`${file}: not a bench results file (${what})`);
}

function numberOrNull(value: unknown, file: string, what: string): number | null {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  fail(file, `${what} is neither a number nor null`);
}

function text(value: unknown, file: string, what: string): string {
  if (typeof value !== 'string') fail(file, `${what} is not a string`);
  return value;
}

export function parseResults(json: string, file: string): Results {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    fail(file, (error as Error).message);
  }
  if (data === null || typeof data !== 'object') fail(file, 'not an object');
  const record = data as Record<string, unknown>;
  if (!Array.isArray(record.rows)) fail(file, 'no rows');
  const rows = record.rows.map((value: unknown, i): ResultRow => {
    if (value === null || typeof value !== 'object') fail(file, `rows[${i}] is not an object`);
    const row = value as Record<string, unknown>;
    if (typeof row.higherIsBetter !== 'boolean') fail(file, `rows[${i}].higherIsBetter is not a boolean`);
    return {
      benchmark: text(row.benchmark, file, `rows[${i}].benchmark`),
      backend: text(row.backend, file, `rows[${i}].backend`),
      tigerio: numberOrNull(row.tigerio, file, `rows[${i}].tigerio`),
      peer: text(row.peer, file, `rows[${i}].peer`),
      peerFigure: numberOrNull(row.peerFigure, file, `rows[${i}].peerFigure`),
      unit: text(row.unit, file, `rows[${i}].unit`),
      higherIsBetter: row.higherIsBetter,
      ratio: numberOrNull(row.ratio, file, `rows[${i}].ratio`),
    };
  });
  const machine = (record.machine !== null && typeof record.machine === 'object' ? record.machine : {}) as ResultMachine;
  const loadBefore = Array.isArray(record.loadBefore) ? record.loadBefore.filter((x): x is number => typeof x === 'number') : [];
  return { started: text(record.started, file, 'started'), quick: record.quick === true, machine, loadBefore, rows };
}

export function readResults(file: string): Results {
  return parseResults(fs.readFileSync(file, 'utf8'), file);
}

/** The same row in two runs: one benchmark, backend and peer. */
export function rowKey(row: ResultRow): string {
  return `${row.benchmark}\u0000${row.backend}\u0000${row.peer}`;
}

/** Figures as the bench table prints them. */
export function formatFigure(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  let shown: string;
  if (unit === 's') shown = value.toFixed(2);
  else if (unit === 'ns/op') shown = value.toFixed(1);
  else if (unit === 'us/req' || unit === 'us/conn') shown = value.toFixed(2);
  else shown = Math.round(value).toLocaleString('en-US');
  return `${shown} ${unit}`;
}
