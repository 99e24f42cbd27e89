// The ESM entry (package.json exports, "import" condition). It re-exports the
// CommonJS build instead of being a second build: `import` and `require` must
// reach the same module, hence the same native addon instance and the same
// classes (`instanceof IOError` holds whichever way the error was loaded).
export * from './index.js';
