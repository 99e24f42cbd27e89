// The benchmark chart: well-formed SVG (a strict XML parser reads it), one
// bar per row of the results, each bar's ratio and its printed value the
// JSON's, its length on the chart's log scale, and the committed chart the
// one its committed JSON draws (so nobody hand-edits a number in it).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chartPath, escapeXml, renderChart, scaleDomain } from './chart';
import { parseResults, readResults, rowKey, type ResultRow, type Results } from './results-file';
import { allElements, parseXml, type XmlElement } from './xml';

const source = path.join(__dirname, '..', '..', '..', 'test', 'bench', 'results');

function row(fields: Partial<ResultRow>): ResultRow {
  return {
    benchmark: 'ping-pong', backend: 'epoll', tigerio: 100, peer: 'node:net', peerFigure: 50,
    unit: 'rt/s', higherIsBetter: true, ratio: 2, ...fields,
  };
}

function results(rows: ResultRow[]): Results {
  return { started: '2026-11-23T14:27:40.746Z', quick: false, machine: { cpus: 2, platform: 'linux', kernel: '6.18', node: 'v20.20.2' }, loadBefore: [0.2], rows };
}

function rowGroups(svg: XmlElement): XmlElement[] {
  return allElements(svg).filter((e) => e.name === 'g' && e.attributes.class === 'row');
}

function number(element: XmlElement, attribute: string): number {
  const value = Number(element.attributes[attribute]);
  expect(Number.isFinite(value), `${element.name} ${attribute}="${element.attributes[attribute]}"`).to.equal(true);
  return value;
}

/** Checks a chart against the results it was drawn from. */
function checkChart(text: string, data: Results): void {
  const svg = parseXml(text);
  expect(svg.name).to.equal('svg');
  expect(svg.attributes.xmlns).to.equal('http://www.w3.org/2000/svg');
  expect(number(svg, 'width')).to.be.above(0);
  expect(number(svg, 'height')).to.be.above(0);
  expect(svg.attributes.viewBox).to.equal(`0 0 ${svg.attributes.width} ${svg.attributes.height}`);

  const ones = allElements(svg).filter((e) => e.name === 'line' && e.attributes.class === 'one');
  expect(ones, 'the 1.0 line').to.have.length(1);
  const oneX = number(ones[0], 'x1');
  const ticks = allElements(svg).filter((e) => e.attributes.class === 'tick').map((e) => e.text);
  expect(ticks).to.include('1.0');

  // Rows are drawn grouped by benchmark: find each row's bar by its key.
  const groups = new Map(rowGroups(svg).map((g) => [
    rowKey(row({ benchmark: g.attributes['data-benchmark'], backend: g.attributes['data-backend'], peer: g.attributes['data-peer'] })), g,
  ]));
  expect(rowGroups(svg)).to.have.length(data.rows.length);
  expect(groups.size, 'one bar per benchmark, backend and peer').to.equal(data.rows.length);
  const perLog2: number[] = [];
  data.rows.forEach((expected) => {
    const group = groups.get(rowKey(expected));
    if (group === undefined) throw new Error(`no bar for ${expected.benchmark} / ${expected.backend} / ${expected.peer}`);
    const value = group.children.find((e) => e.attributes.class === 'value');
    const bar = group.children.find((e) => e.name === 'rect');
    if (expected.ratio === null) {
      expect(group.attributes['data-ratio']).to.equal(undefined);
      expect(value?.text).to.equal('n/a');
      expect(bar).to.equal(undefined);
      return;
    }
    expect(number(group, 'data-ratio')).to.equal(expected.ratio);
    expect(value?.text).to.equal(`${expected.ratio.toFixed(2)}x`);
    expect(bar, 'a bar').to.not.equal(undefined);
    const left = number(bar!, 'x');
    const width = number(bar!, 'width');
    // Ahead: the bar starts at the 1.0 line and goes right; behind: it ends there.
    expect(expected.ratio >= 1 ? left : left + width).to.be.closeTo(oneX, 0.011);
    if (Math.abs(Math.log2(expected.ratio)) > 0.05) perLog2.push(width / Math.abs(Math.log2(expected.ratio)));
  });
  // One log scale for every bar: length / |log2 ratio| is the same everywhere
  // (up to the two decimals coordinates are written with).
  for (const scale of perLog2) expect(scale).to.be.closeTo(perLog2[0], perLog2[0] * 0.01);
}

describe('bench chart', () => {
  const committed = fs.readdirSync(source).filter((name) => name.endsWith('.svg'));

  it('the chart the README shows is committed beside its results', () => {
    const readme = fs.readFileSync(path.join(source, '..', '..', '..', 'README.md'), 'utf8');
    const shown = /!\[[^\]]*\]\(test\/bench\/results\/([^)]+\.svg)\)/.exec(readme);
    expect(shown, 'the README shows a chart from test/bench/results').to.not.equal(null);
    expect(committed).to.include(shown![1]);
    expect(fs.existsSync(path.join(source, shown![1].replace(/\.svg$/, '.json')))).to.equal(true);
  });

  for (const name of committed) {
    it(`${name} is well-formed SVG whose bars are its JSON's rows, and is what that JSON draws`, () => {
      const jsonFile = path.join(source, name.replace(/\.svg$/, '.json'));
      const data = readResults(jsonFile);
      expect(data.rows.length).to.be.above(0);
      // A Windows checkout may turn the committed file's LF into CRLF.
      const text = fs.readFileSync(path.join(source, name), 'utf8').replace(/\r\n/g, '\n');
      checkChart(text, data);
      expect(text, `regenerate with: npm run bench -- --chart ${path.relative(process.cwd(), jsonFile)}`).to.equal(renderChart(data));
    });
  }

  it('draws rows without a ratio as n/a, rows behind and ahead on both sides of 1.0', () => {
    const data = results([
      row({ ratio: 3.66, peer: 'a' }),
      row({ ratio: 0.07, peer: 'b', higherIsBetter: false, unit: 'ns/op' }),
      row({ ratio: null, tigerio: null, peer: 'c' }),
      row({ ratio: 1, peer: 'd', backend: 'io_uring' }),
    ]);
    checkChart(renderChart(data), data);
    expect(scaleDomain(data.rows)).to.deep.equal({ low: -4, high: 2 });
  });

  it('the check fails a chart whose numbers are not the JSON\'s (so a pass means something)', () => {
    const data = results([row({ peer: 'a', ratio: 2 }), row({ peer: 'b', ratio: 0.5 })]);
    const drawn = renderChart(data);
    expect(() => checkChart(drawn, results([row({ peer: 'a', ratio: 2 }), row({ peer: 'b', ratio: 0.25 })]))).to.throw();
    expect(() => checkChart(drawn.replace('>2.00x<', '>2.10x<'), data)).to.throw();
    expect(() => checkChart(drawn.replace(/width="([\d.]+)" height="11"/, 'width="1.00" height="11"'), data)).to.throw();
    checkChart(drawn, data);
  });

  it('escapes names, so any benchmark or peer name gives well-formed SVG with that text', () => {
    const name = `<script>&"quotes" 'and' ]]>`;
    const data = results([row({ benchmark: name, peer: name, backend: name })]);
    const svg = parseXml(renderChart(data));
    const group = rowGroups(svg)[0];
    expect(group.attributes['data-peer']).to.equal(name);
    expect(allElements(svg).some((e) => e.attributes.class === 'heading' && e.text === name)).to.equal(true);
    expect(escapeXml(name)).to.not.match(/[<>"']/);
  });

  it('the XML check rejects what is not well-formed (so a pass means something)', () => {
    for (const bad of ['<svg><g></svg>', '<svg a="1" a="2"/>', '<svg>&nbsp;</svg>', '<svg/><svg/>', '<svg x=1/>']) {
      expect(() => parseXml(bad), bad).to.throw();
    }
  });

  it('refuses a results file without rows, naming it', () => {
    expect(() => parseResults('{"started":"x"}', 'old.json')).to.throw(/old\.json: not a bench results file \(no rows\)/);
    expect(() => parseResults('{"started":"x","rows":[{"benchmark":"b"}]}', 'bad.json')).to.throw(/bad\.json/);
  });

  it('writes the chart beside the JSON, as .svg', () => {
    expect(chartPath('/r/bench-2026.json')).to.equal('/r/bench-2026.svg');
  });
});
