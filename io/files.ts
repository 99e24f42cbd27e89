// Argument checks of the file-namespace operations (rename, unlink, mkdir,
// openDirectory): what io.ts's thin methods submit. Paths travel as the
// submission's side string; rename's two paths as one, split at a NUL that
// checkString guarantees neither path holds.
import type { Callback, RenameOptions } from './types';
import { checkCallback, checkInteger, checkString, describe } from './validate';

/** Bits of a rename's flags, as native/core/operation.h numbers them. */
const RENAME_NO_REPLACE = 1;
const RENAME_OPTION_KEYS = new Set(['noReplace']);
/** mkdir's default mode, before the umask (as mkdir(1) and node:fs use). */
const DIRECTORY_MODE_DEFAULT = 0o777;

/** What a rename submits: its flags, its two paths as one side string, its callback. */
export interface RenameSubmission {
  flags: number;
  paths: string;
  callback: Callback;
}

/** Checks rename's arguments, `(from, to, callback)` or `(from, to, options, callback)`. */
export function renameSubmission(from: unknown, to: unknown, optionsOrCallback: unknown, maybeCallback: unknown): RenameSubmission {
  checkString('from', from);
  checkString('to', to);
  let flags = 0;
  let callback = optionsOrCallback;
  if (typeof optionsOrCallback !== 'function') {
    if (optionsOrCallback !== undefined) {
      if (optionsOrCallback === null || typeof optionsOrCallback !== 'object' || Array.isArray(optionsOrCallback)) {
        throw new TypeError(`tigerio: rename's options must be { noReplace? }, got ${describe(optionsOrCallback)}`);
      }
      for (const key of Object.keys(optionsOrCallback)) {
        if (!RENAME_OPTION_KEYS.has(key)) throw new TypeError(`tigerio: unknown rename option '${key}' (known: noReplace)`);
      }
      const noReplace = (optionsOrCallback as RenameOptions).noReplace;
      if (noReplace !== undefined && typeof noReplace !== 'boolean') {
        throw new TypeError(`tigerio: options.noReplace must be a boolean, got ${describe(noReplace)}`);
      }
      if (noReplace === true) flags |= RENAME_NO_REPLACE;
    }
    callback = maybeCallback;
  }
  checkCallback(callback);
  return { flags, paths: `${from as string}\0${to as string}`, callback: callback as Callback };
}

/** Checks a path argument. */
export function checkPath(path: unknown): string {
  return checkString('path', path);
}

/** Checks mkdir's mode: a number 0..0o7777, or undefined for 0o777. */
export function directoryMode(mode: unknown): number {
  return mode === undefined ? DIRECTORY_MODE_DEFAULT : checkInteger('mode', mode, 0, 0o7777);
}
