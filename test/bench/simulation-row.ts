// The runner's row for simulation.ts: the mixed scenario on the simulation
// against the same program on epoll (or the first kernel backend here).
import { IO } from '../../io';

type NodeChild = (script: string, args: string[], options: { timeoutMs: number }) => Promise<Record<string, unknown> | null>;
type AddRow = (row: { benchmark: string; backend: string; tigerio: number | null; peer: string; peerFigure: number | null; unit: string; higherIsBetter: boolean }) => void;

function figure(result: Record<string, unknown> | null): number | null {
  const value = result?.opsPerSecond;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export async function simulationRow(nodeChild: NodeChild, addRow: AddRow, durationMs: number): Promise<void> {
  const options = { timeoutMs: durationMs * 4 + 30_000 };
  const kernel = IO.backends().includes('epoll') ? 'epoll' : IO.backends()[0];
  const simulated = await nodeChild('simulation.js', ['--impl', 'simulation', '--duration', String(durationMs)], options);
  const real = await nodeChild('simulation.js', ['--impl', 'kernel', '--backend', kernel, '--duration', String(durationMs)], options);
  addRow({
    benchmark: 'mixed scenario (16 conns echo, 100 us timeouts, file I/O), ops/s', backend: 'simulation',
    tigerio: figure(simulated), unit: 'ops/s', higherIsBetter: true, peer: `the same on ${kernel}`, peerFigure: figure(real),
  });
}
