// The benchmark results as a picture: one horizontal bar per row of the
// table (benchmark x backend x peer), its length the ratio against that
// peer on a log2 scale around 1.0, so 2x ahead and 2x behind are equally
// long and the 1.0 line (even with the peer) is the axis everything is read
// against. Plain SVG text, no library and no browser: the file is committed
// beside the JSON it was drawn from, and test/bench/chart.test.ts checks
// that it is well-formed and that every number in it is the JSON's.
import * as fs from 'node:fs';
import { formatFigure, readResults, type ResultRow, type Results } from './results-file';

const WIDTH = 900;
const LABEL_X = 16; // row labels start here
const PLOT_LEFT = 330; // the bars' log scale spans PLOT_LEFT..PLOT_RIGHT
const PLOT_RIGHT = 800;
const VALUE_X = 812; // the ratio, as text, right of the plot
const TOP = 96; // below the title, subtitle and legend
const ROW_HEIGHT = 18;
const HEADING_HEIGHT = 24;
const BAR_HEIGHT = 11;
const BOTTOM = 48; // the axis' tick labels and caption
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2'];

/** Text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Coordinates with two decimals: exact enough, and stable text for a committed file. */
function px(value: number): string {
  return value.toFixed(2);
}

/** The scale's ends: whole powers of two around every ratio and 1.0, at least 0.5..2. */
export function scaleDomain(rows: readonly ResultRow[]): { low: number; high: number } {
  const logs = rows.filter((row) => row.ratio !== null).map((row) => Math.log2(row.ratio!));
  return { low: Math.min(-1, Math.floor(Math.min(0, ...logs))), high: Math.max(1, Math.ceil(Math.max(0, ...logs))) };
}

export function renderChart(results: Results): string {
  const rows = results.rows;
  const { low, high } = scaleDomain(rows);
  const x = (ratio: number): number => PLOT_LEFT + ((Math.log2(ratio) - low) / (high - low)) * (PLOT_RIGHT - PLOT_LEFT);
  const one = x(1);
  const backends = [...new Set(rows.map((row) => row.backend))];
  const color = (backend: string): string => COLORS[backends.indexOf(backend) % COLORS.length];
  const benchmarks = [...new Set(rows.map((row) => row.benchmark))];

  const body: string[] = [];
  let y = TOP;
  for (const benchmark of benchmarks) {
    y += HEADING_HEIGHT;
    body.push(`<text class="heading" x="${LABEL_X}" y="${px(y - 6)}">${escapeXml(benchmark)}</text>`);
    for (const row of rows.filter((r) => r.benchmark === benchmark)) {
      const top = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
      const baseline = y + ROW_HEIGHT / 2 + 4;
      const tip = `${row.backend}: tigerio ${formatFigure(row.tigerio, row.unit)}, ${row.peer} ${formatFigure(row.peerFigure, row.unit)}`;
      const attributes = `data-benchmark="${escapeXml(row.benchmark)}" data-backend="${escapeXml(row.backend)}" data-peer="${escapeXml(row.peer)}"`;
      const parts = [
        `<title>${escapeXml(tip)}</title>`,
        `<text x="${LABEL_X + 12}" y="${px(baseline)}">${escapeXml(`${row.backend} vs ${row.peer}`)}</text>`,
      ];
      if (row.ratio === null) {
        parts.push(`<text class="value" x="${VALUE_X}" y="${px(baseline)}">n/a</text>`);
        body.push(`<g class="row" ${attributes}>${parts.join('')}</g>`);
      } else {
        const end = x(row.ratio);
        parts.push(
          `<rect x="${px(Math.min(one, end))}" y="${px(top)}" width="${px(Math.abs(end - one))}" height="${BAR_HEIGHT}" fill="${color(row.backend)}"/>`,
          `<text class="value" x="${VALUE_X}" y="${px(baseline)}">${row.ratio.toFixed(2)}x</text>`,
        );
        body.push(`<g class="row" ${attributes} data-ratio="${row.ratio}">${parts.join('')}</g>`);
      }
      y += ROW_HEIGHT;
    }
  }
  const plotTop = TOP + 4;
  const plotBottom = y + 6;
  const height = plotBottom + BOTTOM;

  const axis: string[] = [];
  for (let power = low; power <= high; power++) {
    const ratio = 2 ** power;
    const at = x(ratio);
    axis.push(
      `<line class="${power === 0 ? 'one' : 'grid'}" x1="${px(at)}" y1="${plotTop}" x2="${px(at)}" y2="${px(plotBottom)}"/>`,
      `<text class="tick" x="${px(at)}" y="${px(plotBottom + 16)}">${power === 0 ? '1.0' : String(ratio)}</text>`,
    );
  }

  const machine = results.machine;
  const subtitle = [
    machine.cpus !== undefined ? `${machine.cpus} CPUs${machine.cpuModel ? ` (${machine.cpuModel})` : ''}` : null,
    machine.platform && machine.kernel ? `${machine.platform} ${machine.kernel}` : null,
    machine.node ? `Node ${machine.node}` : null,
    results.loadBefore.length > 0 ? `load ${results.loadBefore[0].toFixed(2)} at the start` : null,
  ].filter((part): part is string => part !== null).join(', ');
  const legend = backends.map((backend, i) => {
    const left = LABEL_X + i * 120;
    return `<rect x="${left}" y="62" width="12" height="12" fill="${color(backend)}"/><text x="${left + 18}" y="72">${escapeXml(backend)}</text>`;
  });
  const started = results.started.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${px(height)}" viewBox="0 0 ${WIDTH} ${px(height)}" font-family="sans-serif" font-size="12">`,
    '<style>.heading{font-weight:bold}.value{font-variant-numeric:tabular-nums}.tick{text-anchor:middle;fill:#555}' +
      '.grid{stroke:#ddd}.one{stroke:#000;stroke-width:1.5}.note{fill:#555}</style>',
    `<rect width="${WIDTH}" height="${px(height)}" fill="#fff"/>`,
    `<text x="${LABEL_X}" y="22" font-size="16" font-weight="bold">${escapeXml(`tigerio against its peers: ratio per benchmark and backend (run of ${started})`)}</text>`,
    `<text class="note" x="${LABEL_X}" y="42">${escapeXml(subtitle + (results.quick ? '; --quick: figures not meaningful' : ''))}</text>`,
    ...legend,
    `<text class="note" x="${PLOT_LEFT}" y="72">${escapeXml('right of 1.0: tigerio ahead; left: behind (log scale)')}</text>`,
    ...axis,
    ...body,
    `<text class="note" x="${LABEL_X}" y="${px(plotBottom + 36)}">${escapeXml('ratio = tigerio / peer for throughput, peer / tigerio for time and memory; 1.0 = even with the peer')}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The chart's file: the JSON's path with .svg for .json. */
export function chartPath(resultsFile: string): string {
  return resultsFile.replace(/\.json$/, '') + '.svg';
}

/** Draws the chart of a results file beside it; returns the chart's path. */
export function writeChart(resultsFile: string): string {
  const file = chartPath(resultsFile);
  fs.writeFileSync(file, renderChart(readResults(resultsFile)));
  return file;
}
