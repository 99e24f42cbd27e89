// How a simulation IO finds its world (internal: not exported by index.ts).
// A Simulation passes its world to the IOs it makes under a symbol, so that
// IOOptions stays the public shape; `new IO({ backend: 'simulation', seed })`
// gets a world of its own with every fault off.
import { binding, type NativeWorld } from './native';
import { checkInteger } from './validate';

/** The option key under which Simulation.io() hands its world to the IO constructor. */
export const WORLD = Symbol('tigerio.world');

/** Seeds are integers that a JS number holds exactly. */
export const SEED_MAX = Number.MAX_SAFE_INTEGER;
/** Fields of the native fault array (native/backend/sim_faults.h): the native side's count, never a copy. */
export const FAULT_FIELDS = binding.NativeWorld.faultFields;

/** A new native world; `faults` in the order native/simulation_addon.cc reads them. */
export function createWorld(seed: number, faults: Float64Array): NativeWorld {
  checkInteger('seed', seed, 0, SEED_MAX);
  const high = Math.floor(seed / 2 ** 32);
  const low = seed - high * 2 ** 32;
  return new binding.NativeWorld(high, low, faults);
}

/** The world an IO with backend 'simulation' joins, from its options. */
export function worldOf(options: Record<string | symbol, unknown>): NativeWorld {
  const world = options[WORLD];
  if (world !== undefined) {
    if (options.seed !== undefined) throw new TypeError('tigerio: an IO of a Simulation takes its seed from the Simulation');
    return world as NativeWorld;
  }
  const seed = options.seed === undefined ? 0 : checkInteger('options.seed', options.seed, 0, SEED_MAX);
  return createWorld(seed, new Float64Array(FAULT_FIELDS));
}
