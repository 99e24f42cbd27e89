// Many connections at once through one IO: `count` clients connect to one
// listener, each accepted socket echoes an 8-byte message, all are closed.
// Shared by many-connections.test.ts and its child-process fixture.
import type { IO } from '../../io';
import { runUntil } from './run';
import { recvExactly, sendAll } from './sockets';

export interface ManyConnectionsReport {
  count: number;
  connected: number;
  accepted: number;
  /** Clients that got their own message back. */
  echoed: number;
  closed: number;
  errors: string[];
}

export function manyConnections(io: IO, count: number): ManyConnectionsReport {
  const report: ManyConnectionsReport = { count, connected: 0, accepted: 0, echoed: 0, closed: 0, errors: [] };
  const note = (what: string, error: { code: string } | null): boolean => {
    if (error === null) return false;
    if (report.errors.length < 20) report.errors.push(`${what}: ${error.code}`);
    return true;
  };
  const limits = { stepsMax: 30_000 };
  const listener = io.listen('127.0.0.1', 0, { backlog: Math.min(count + 16, 65535) });
  const { port } = io.localAddress(listener);

  const accepted: number[] = [];
  for (let i = 0; i < count; i++) {
    io.accept(listener, (error, fd) => {
      if (note('accept', error)) return;
      accepted.push(fd);
      report.accepted++;
      // Echo the client's 8 bytes back.
      const message = Buffer.alloc(8);
      recvExactly(io, fd, message, 8, (received) => {
        if (note('server recv', received.error)) return;
        if (received.bytes !== 8) return void report.errors.push(`server recv: ${received.bytes} bytes`);
        sendAll(io, fd, message, (sent) => void note('server send', sent.error));
      });
    });
  }
  const clients: number[] = [];
  for (let i = 0; i < count; i++) {
    const client = io.socket('ipv4');
    clients.push(client);
    io.connect(client, '127.0.0.1', port, (error) => {
      if (note('connect', error)) return;
      report.connected++;
      const message = Buffer.from(`c${String(i).padStart(6, '0')};`);
      sendAll(io, client, message, (sent) => void note('client send', sent.error));
      const echo = Buffer.alloc(8);
      recvExactly(io, client, echo, 8, (received) => {
        if (note('client recv', received.error)) return;
        if (echo.equals(message)) report.echoed++;
        else report.errors.push(`client ${i} got '${echo.toString()}'`);
      });
    });
  }
  runUntil(io, () => report.errors.length > 0 || report.echoed === count, `${count} echoed connections`, limits);

  for (const fd of [...clients, ...accepted, listener]) {
    io.close(fd, (error) => {
      if (!note('close', error)) report.closed++;
    });
  }
  runUntil(io, () => io.pending === 0, `closing ${2 * count + 1} sockets`, limits);
  return report;
}
