// The public API of tigerio: everything users import, and nothing else.
export { IO } from './io';
export { IOError } from './errors';
export { IOPromises } from './promises';
export { BufferPool } from './buffer-pool';
export type { BufferPoolOptions } from './buffer-pool';
export type { PooledReceive } from './promises';
export { Simulation } from './simulation';
export type { SimulationFaults, SimulationIOOptions, SimulationOptions } from './simulation';
export type { AddressBuffer } from './address';
export type {
  Callback,
  EventHandle,
  IOLimits,
  IOOptions,
  ListenOptions,
  ListenUnixOptions,
  OpenFlags,
  OpenOptions,
  RenameOptions,
  OperationId,
  ProcessExit,
  ProcessExitCallback,
  PooledCallback,
  ShutdownHow,
  SocketAddress,
  SocketFamily,
} from './types';
