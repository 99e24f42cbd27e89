// The ESM entry (package.json exports, "import" condition). It re-exports the
// CommonJS build instead of being a second build: `import` and `require` must
// reach the same module, hence the same native addon instance and the same
// classes (`instanceof IOError` holds whichever way the error was loaded).
// The values are named rather than `export *`, which would also export the
// CommonJS build's `__esModule` marker; test/package/install.test.ts checks
// that this list and index.ts's stay the same.
export { BufferPool, IO, IOError, IOPromises, Simulation } from './index.js';
export type * from './index.js';
