// The addon is context-aware: each worker thread can make its own IO, and a
// worker that ends (or is terminated) frees it without harm to the process.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { fixturePath } from './support/child';
import { connectedPair, exchange } from './support/sockets';

interface WorkerReport {
  type: 'done' | 'ready' | 'error';
  received?: string;
  elapsedNs?: number;
  pending?: number;
  message?: string;
}

/** Runs io-worker in `mode`; resolves with its messages and exit code. */
async function runWorker(
  backend: string,
  mode: string,
  onMessage: (report: WorkerReport, worker: Worker) => void = () => {},
): Promise<{ reports: WorkerReport[]; exitCode: number; errors: unknown[] }> {
  const worker = new Worker(fixturePath('io-worker'), { workerData: { backend, mode } });
  const reports: WorkerReport[] = [];
  const errors: unknown[] = [];
  worker.on('message', (report: WorkerReport) => {
    reports.push(report);
    onMessage(report, worker);
  });
  worker.on('error', (error) => errors.push(error));
  const [exitCode] = (await once(worker, 'exit')) as [number];
  return { reports, exitCode, errors };
}

forEachBackend('worker threads', (scope) => {
  it('runs a timeout and a socket round trip on an IO of its own, deinitializes it and exits cleanly', async function () {
    const { reports, exitCode, errors } = await runWorker(scope.backend, 'clean');
    expect(errors).to.deep.equal([]);
    expect(reports).to.have.length(1);
    expect(reports[0].type, reports[0].message).to.equal('done');
    expect(reports[0].received).to.equal('hello from a worker');
    expect(reports[0].elapsedNs).to.be.at.least(1_000_000);
    expect(reports[0].pending).to.equal(0);
    expect(exitCode).to.equal(0);
  });

  it('exits cleanly when it ends with its IO still holding pending operations', async function () {
    const { reports, exitCode, errors } = await runWorker(scope.backend, 'abandon');
    expect(errors).to.deep.equal([]);
    expect(reports[0].type, reports[0].message).to.equal('done');
    expect(reports[0].pending).to.equal(3);
    expect(exitCode).to.equal(0);
  });

  it('with an attached IO and nothing pending, ends by itself after a promise round trip', async function () {
    const { reports, exitCode, errors } = await runWorker(scope.backend, 'attached');
    expect(errors).to.deep.equal([]);
    expect(reports[0].type, reports[0].message).to.equal('done');
    expect(reports[0].received).to.equal('hello from an attached worker');
    expect(reports[0].pending).to.equal(0);
    expect(exitCode).to.equal(0);
  });

  it('can be terminated while its attached IO has an operation pending', async function () {
    const { reports, exitCode, errors } = await runWorker(scope.backend, 'hold', (report, worker) => {
      if (report.type === 'ready') void worker.terminate();
    });
    expect(errors).to.deep.equal([]);
    expect(reports.map((report) => report.type)).to.deep.equal(['ready']);
    expect(exitCode).to.equal(1); // terminate() exits with 1
  });

  it('survives 10 terminations in a row, each with a flush still queued in a microtask', async function () {
    // The worker's IO is torn down with its environment while a submission
    // flush waits in a microtask: that flush must not turn into a fatal
    // error (it once did: Node-API cannot throw into a terminating worker).
    for (let i = 0; i < 10; i++) {
      const { reports, exitCode, errors } = await runWorker(scope.backend, 'hold', (report, worker) => {
        if (report.type === 'ready') void worker.terminate();
      });
      expect(errors, `termination ${i}`).to.deep.equal([]);
      expect(reports.map((report) => report.type)).to.deep.equal(['ready']);
      expect(exitCode, `termination ${i}`).to.equal(1);
    }
  });

  it("keeps the main thread's IO working while workers come and go", async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    await runWorker(scope.backend, 'clean');
    await runWorker(scope.backend, 'abandon');
    const message = Buffer.from('main thread still fine');
    expect(exchange(io, client, server, message)).to.deep.equal(message);
  });
});
