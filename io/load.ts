// Finding the compiled addon. node-gyp-build tries, in order: a local build
// (build/Release, build/Debug; skipped when PREBUILDS_ONLY is set), then the
// prebuilt binary for this platform (prebuilds/<platform>-<arch>/*.node,
// chosen by tags: napi, libc). `npm install` builds from source when no
// prebuild matches. When nothing loads, the error says what was tried and
// how to build. Internal: the public API is io/index.ts.
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

export function loadNativeAddon(packageRoot: string): unknown {
  try {
    return nodeGypBuild(packageRoot);
  } catch (cause) {
    const platform = `${process.platform}-${process.arch}`;
    const reason = cause instanceof Error ? cause.message.trim() : String(cause);
    const tried = [
      process.env.PREBUILDS_ONLY ? null : path.join(packageRoot, 'build', 'Release', 'tigerio.node') + ' (a build from source)',
      path.join(packageRoot, 'prebuilds', platform) + ' (a prebuilt binary for ' + platform + ')',
    ].filter((entry): entry is string => entry !== null);
    const error = new Error(
      `tigerio: could not load its native addon on ${platform} (Node ${process.version}).\n` +
        `  Tried:\n${tried.map((entry) => `    - ${entry}`).join('\n')}\n` +
        `  Cause: ${reason.split('\n')[0]}\n` +
        '  To build it from source: `npm rebuild tigerio` (in a checkout: `npm run build:native`); ' +
        'this needs Python 3, make and a C++17 compiler (node-gyp\'s requirements).',
    );
    (error as Error & { cause?: unknown }).cause = cause;
    throw error;
  }
}
