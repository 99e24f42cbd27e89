// A scratch directory per test, for the suites that write files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Registers hooks that give each test of the calling suite a new directory
 * under the OS's temporary one (`prefix` + random) and remove it after the
 * test, after the suite's earlier afterEach hooks (forEachBackend's deinit
 * closes the files first). Returns the current test's directory.
 */
export function directoryPerTest(prefix: string): () => string {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  return () => {
    if (dir === '') throw new Error('directoryPerTest: no test is running');
    return dir;
  };
}
