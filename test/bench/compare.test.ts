// `npm run bench -- --compare A.json B.json`: rows matched by benchmark,
// backend and peer; the change of tigerio's figure judged by the unit's
// direction; rows in one run only listed; bad input refused.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareResults, figureChange } from './compare';
import type { ResultRow, Results } from './results-file';

const runner = path.join(__dirname, 'run.js');

function row(fields: Partial<ResultRow>): ResultRow {
  return {
    benchmark: 'ping-pong', backend: 'epoll', tigerio: 100, peer: 'node:net', peerFigure: 50,
    unit: 'rt/s', higherIsBetter: true, ratio: 2, ...fields,
  };
}

function results(rows: ResultRow[], started = '2026-11-23T14:27:40.746Z'): Results {
  return { started, quick: false, machine: { cpus: 2, platform: 'linux', kernel: '6.18', node: 'v20.20.2' }, loadBefore: [0.2], rows };
}

describe('bench --compare', () => {
  it('says better or worse by the unit: more throughput, less time', () => {
    expect(figureChange(row({ tigerio: 100 }), row({ tigerio: 110 }))).to.equal('+10.0% (better)');
    expect(figureChange(row({ tigerio: 100 }), row({ tigerio: 80 }))).to.equal('-20.0% (worse)');
    const time = { unit: 's', higherIsBetter: false };
    expect(figureChange(row({ ...time, tigerio: 2 }), row({ ...time, tigerio: 1.5 }))).to.equal('-25.0% (better)');
    expect(figureChange(row({ ...time, tigerio: 2 }), row({ ...time, tigerio: 3 }))).to.equal('+50.0% (worse)');
    expect(figureChange(row({ tigerio: 100 }), row({ tigerio: 100.01 }))).to.equal('0.0%');
    expect(figureChange(row({ tigerio: null }), row({ tigerio: 1 }))).to.equal('n/a');
  });

  it('matches rows by benchmark, backend and peer, and lists rows found in one run only', () => {
    const a = results([row({ tigerio: 100, ratio: 2 }), row({ peer: 'C loop', tigerio: 100, peerFigure: 200, ratio: 0.5 }), row({ benchmark: 'gone' })]);
    const b = results([row({ peer: 'C loop', tigerio: 150, peerFigure: 200, ratio: 0.75 }), row({ tigerio: 150, ratio: 3 }), row({ benchmark: 'new' })]);
    const text = compareResults(a, b, 'a.json', 'b.json');
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^A = a\.json: 2026-11-23T14:27:40\.746Z, 2 CPUs, linux 6\.18, Node v20\.20\.2, load 0\.20$/);
    expect(lines[1]).to.match(/^B = b\.json: /);
    const line = (peer: string): string => {
      const found = lines.filter((l) => l.startsWith('| ping-pong') && l.includes(`| ${peer} `));
      expect(found, peer).to.have.length(1);
      return found[0];
    };
    expect(line('node:net')).to.match(/100 rt\/s\s+\| 150 rt\/s\s+\| \+50\.0% \(better\) \| 2\.00x -> 3\.00x/);
    expect(line('C loop')).to.match(/\+50\.0% \(better\) \| 0\.50x -> 0\.75x/);
    expect(text).to.include('only in A: gone | epoll | node:net | 100 rt/s | ratio 2.00x');
    expect(text).to.include('only in B: new | epoll | node:net | 100 rt/s | ratio 2.00x');
    expect(text).to.not.include('warning:');
  });

  it('warns when a run is --quick or from another machine', () => {
    const quick = { ...results([row({})]), quick: true };
    const other = { ...results([row({})]), machine: { cpus: 8, platform: 'linux', kernel: '6.1', node: 'v22.0.0' } };
    expect(compareResults(quick, results([row({})]))).to.include('warning: a --quick run is compared');
    expect(compareResults(results([row({})]), other)).to.include('warning: the runs were on different machines');
  });

  it('runs from the command line on two results files, and refuses bad arguments', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-compare-'));
    try {
      const fileA = path.join(dir, 'a.json');
      const fileB = path.join(dir, 'b.json');
      fs.writeFileSync(fileA, JSON.stringify(results([row({ tigerio: 100 })])));
      fs.writeFileSync(fileB, JSON.stringify(results([row({ tigerio: 90 })])));
      const ok = spawnSync(process.execPath, [runner, '--compare', fileA, fileB], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).to.equal(0);
      expect(ok.stdout).to.include('-10.0% (worse)');

      const one = spawnSync(process.execPath, [runner, '--compare', fileA], { encoding: 'utf8' });
      expect(one.status).to.equal(2);
      expect(one.stderr).to.include('--compare takes two results files');

      fs.writeFileSync(fileB, '{"started":"x"}');
      const bad = spawnSync(process.execPath, [runner, '--compare', fileA, fileB], { encoding: 'utf8' });
      expect(bad.status).to.equal(1);
      expect(bad.stderr).to.include('b.json: not a bench results file (no rows)');

      const chart = spawnSync(process.execPath, [runner, '--chart', fileA], { encoding: 'utf8' });
      expect(chart.status, chart.stderr).to.equal(0);
      expect(fs.readFileSync(path.join(dir, 'a.svg'), 'utf8')).to.match(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
