// Replacing a file atomically and durably, and the crash that shows why the
// directory's fsync is a step of it. The worked example of the README
// ("Replacing a file durably") in callback form:
//
//   1. write the new contents to a temporary file in the same directory;
//   2. fsync the temporary file (its bytes are on the disk);
//   3. rename it over the old name (atomic: a reader sees old or new);
//   4. fsync the directory (the rename is on the disk).
//
// Without step 4, a crash may roll the rename back: the old contents come
// back. The simulated disk rolls back un-synced namespace changes at a
// crash, chosen by the seed (SimulationFaults.crashLostNameProbability).
import { Simulation, type IO, type IOError } from '../../io';

/** The directory, the file replaced, and its temporary sibling. */
const DIRECTORY = '/db';
const MANIFEST = '/db/MANIFEST';
const TEMPORARY = '/db/MANIFEST.tmp';
/** A few operations at a time: small tables, so that a thousand seeds make little garbage. */
const SMALL = { entries: 16, operationsMax: 16, fdsMax: 64 };

/**
 * Replaces the file at `target` with `bytes`: temp file, fsync, rename, and
 * (when `syncDirectory`) fsync of the directory. `done` gets the first
 * error, or null once every step succeeded.
 */
export function replaceFile(
  io: IO,
  directory: string,
  target: string,
  temporary: string,
  bytes: Uint8Array,
  syncDirectory: boolean,
  done: (error: IOError | null) => void,
): void {
  io.open(temporary, 'w', undefined, (openError, fd) => {
    if (openError !== null) return done(openError);
    io.write(fd, bytes, 0, (writeError, written) => {
      if (writeError === null && written !== bytes.byteLength) throw new Error('a short write to the simulated disk');
      io.fsync(fd, (syncError) => {
        io.close(fd, (closeError) => {
          const failed = writeError ?? syncError ?? closeError;
          if (failed !== null) return done(failed);
          io.rename(temporary, target, (renameError) => {
            if (renameError !== null || !syncDirectory) return done(renameError);
            io.openDirectory(directory, (directoryError, directoryFd) => {
              if (directoryError !== null) return done(directoryError);
              io.fsync(directoryFd, (directorySyncError) => {
                io.close(directoryFd, (directoryCloseError) => done(directorySyncError ?? directoryCloseError));
              });
            });
          });
        });
      });
    });
  });
}

/** What one seed's crash left in MANIFEST. */
export type ReplaceOutcome = 'new' | 'old' | string;

/** Runs `io` until `finished()` holds, bounded (a hang is a failure, not a wait). */
function drive(sim: Simulation, finished: () => boolean, what: string): void {
  for (let round = 0; !finished(); round++) {
    if (round > 100_000) throw new Error(`replace scenario: ${what} never finished`);
    sim.run();
  }
}

/** Reads the whole of `path` through `io`: its text, or its open's error code. */
function readText(sim: Simulation, io: IO, path: string): string {
  let text: string | null = null;
  io.open(path, 'r', undefined, (openError, fd) => {
    if (openError !== null) {
      text = openError.code;
      return;
    }
    const buffer = Buffer.alloc(64);
    io.read(fd, buffer, 0, (readError, n) => {
      io.close(fd, () => {
        text = readError !== null ? readError.code : buffer.subarray(0, n).toString();
      });
    });
  });
  drive(sim, () => text !== null, `reading ${path}`);
  return text!;
}

/**
 * One seed: MANIFEST holds "old" (created and its directory synced), is
 * replaced by "new", the machine crashes, and a fresh IO reads MANIFEST.
 */
export function replaceScenario(seed: number, syncDirectory: boolean): ReplaceOutcome {
  const sim = new Simulation({ seed, faults: { crashLostNameProbability: 0.5, crashLostSectorProbability: 0.5 } });
  const io = sim.io(SMALL);
  let setUp: IOError | null | undefined;
  io.mkdir(DIRECTORY, undefined, (error) => {
    if (error !== null) return (setUp = error);
    replaceFile(io, DIRECTORY, MANIFEST, TEMPORARY, Buffer.from('old'), true, (replaced) => (setUp = replaced));
  });
  drive(sim, () => setUp !== undefined, 'the first version');
  if (setUp !== null) throw new Error(`replace scenario: writing the first version failed: ${setUp!.code}`);
  let replaced: IOError | null | undefined;
  replaceFile(io, DIRECTORY, MANIFEST, TEMPORARY, Buffer.from('new'), syncDirectory, (error) => (replaced = error));
  drive(sim, () => replaced !== undefined, 'the replacement');
  if (replaced !== null) throw new Error(`replace scenario: the replacement failed: ${replaced!.code}`);
  sim.crash(io);
  const rebooted = sim.io(SMALL);
  const text = readText(sim, rebooted, MANIFEST);
  rebooted.deinit();
  return text;
}

/** Counts of what `count` seeds from `first` left after the crash. */
export function replaceSeeds(first: number, count: number, syncDirectory: boolean): Map<ReplaceOutcome, number> {
  const seen = new Map<ReplaceOutcome, number>();
  for (let seed = first; seed < first + count; seed++) {
    const outcome = replaceScenario(seed, syncDirectory);
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
  }
  return seen;
}
