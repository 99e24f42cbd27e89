// `npm run bench -- --compare A.json B.json`: what changed between two
// recorded runs, row by row (same benchmark, backend and peer), so a
// performance commit can show its before and after. For each row: tigerio's
// figure in A and B and the change, said as better or worse whichever way
// the unit runs; the ratio against the peer in A and B; rows found in only
// one run are listed as such. It only reads the two files.
import { formatFigure, readResults, rowKey, type ResultRow, type Results } from './results-file';

function percent(before: number, after: number): string {
  const change = ((after - before) / before) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}

/** "+7.2% (better)": the change of tigerio's own figure, judged by the unit's direction. */
export function figureChange(before: ResultRow, after: ResultRow): string {
  if (before.tigerio === null || after.tigerio === null || before.tigerio === 0) return 'n/a';
  const shown = percent(before.tigerio, after.tigerio);
  if (/^[+-]0\.0%$/.test(shown)) return '0.0%';
  const better = after.higherIsBetter ? after.tigerio > before.tigerio : after.tigerio < before.tigerio;
  return `${shown} (${better ? 'better' : 'worse'})`;
}

function ratio(row: ResultRow): string {
  return row.ratio === null ? 'n/a' : `${row.ratio.toFixed(2)}x`;
}

function describeRun(name: string, results: Results): string {
  const m = results.machine;
  const load = results.loadBefore.length > 0 ? `, load ${results.loadBefore[0].toFixed(2)}` : '';
  return `${name}: ${results.started}${results.quick ? ' (--quick)' : ''}, ${m.cpus ?? '?'} CPUs, ${m.platform ?? '?'} ${m.kernel ?? ''}, Node ${m.node ?? '?'}${load}`;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n') + '\n';
}

export function compareResults(a: Results, b: Results, fileA = '', fileB = ''): string {
  const nameA = 'A';
  const nameB = 'B';
  const label = (name: string, file: string): string => (file === '' ? name : `${name} = ${file}`);
  const out: string[] = [describeRun(label(nameA, fileA), a), describeRun(label(nameB, fileB), b)];
  const warnings: string[] = [];
  if (a.quick || b.quick) warnings.push('a --quick run is compared: its figures are not meaningful');
  const same = (key: 'cpus' | 'kernel' | 'node'): boolean => a.machine[key] === b.machine[key];
  if (!same('cpus') || !same('kernel') || !same('node')) warnings.push('the runs were on different machines, kernels or Node versions');
  out.push(...warnings.map((w) => `warning: ${w}`), '');

  const inA = new Map(a.rows.map((row) => [rowKey(row), row]));
  const inB = new Map(b.rows.map((row) => [rowKey(row), row]));
  const body: string[][] = [];
  for (const after of b.rows) {
    const before = inA.get(rowKey(after));
    if (before === undefined) continue;
    body.push([
      after.benchmark, after.backend, after.peer,
      formatFigure(before.tigerio, before.unit), formatFigure(after.tigerio, after.unit), figureChange(before, after),
      `${ratio(before)} -> ${ratio(after)}`,
    ]);
  }
  out.push(table(['benchmark', 'backend', 'peer', `tigerio ${nameA}`, `tigerio ${nameB}`, 'change', `ratio ${nameA} -> ${nameB}`], body));
  const only = (rows: ResultRow[], other: Map<string, ResultRow>, name: string): void => {
    for (const row of rows.filter((r) => !other.has(rowKey(r)))) {
      out.push(`only in ${name}: ${row.benchmark} | ${row.backend} | ${row.peer} | ${formatFigure(row.tigerio, row.unit)} | ratio ${ratio(row)}`);
    }
  };
  only(a.rows, inB, nameA);
  only(b.rows, inA, nameB);
  return out.join('\n') + '\n';
}

export function compareFiles(fileA: string, fileB: string): string {
  return compareResults(readResults(fileA), readResults(fileB), fileA, fileB);
}
