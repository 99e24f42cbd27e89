// Static files under --root: URL path -> file path that cannot leave the
// root, and opening it with the IO. Escapes refused: `..` segments (also
// percent-encoded, %2e%2e), encoded slashes or backslashes inside a
// segment, NUL bytes, and symlinks whose target lies outside the root (the
// path is canonicalized with realpath and must stay under the canonical
// root). Files are opened with io.open (their bytes go out with
// io.sendFile, connection.ts) and closed with io.close; node:fs is used
// only for what the IO has no operation for: realpath and stat (size,
// mtime and type of the opened file).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IO } from '../io';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a URL path (origin-form, query removed, still percent-encoded) to
 * a path under `root`, or an HTTP status: 400 for bad percent-encoding or
 * a NUL byte, 404 for anything that tries to leave the root.
 */
export function resolveUnderRoot(root: string, urlPath: string): string | 400 | 404 {
  if (!urlPath.startsWith('/')) return 400;
  const segments: string[] = [];
  for (const raw of urlPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return 400;
    }
    if (segment.includes('\0')) return 400;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return 404;
    if (segment.includes('/') || segment.includes('\\')) return 404;
    if (process.platform === 'win32' && (segment.includes(':') || /[<>"|?*]/.test(segment))) return 404;
    segments.push(segment);
  }
  return segments.length === 0 ? root : path.join(root, ...segments);
}

/** True when `candidate` (canonical) is `root` (canonical) or inside it. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

export interface OpenedFile {
  fd: number;
  size: number;
  mtimeMs: number;
  contentType: string;
}

/** What a URL path names: an opened file, a directory named without its trailing slash (301 to the slashed path), or an error status. */
export type StaticResult =
  | { status: 200; file: OpenedFile }
  | { status: 301 }
  | { status: 400 | 404 };

/**
 * Opens the file a URL path names: realpath, the root check, io.open, stat.
 * A directory named with a trailing slash is served as its index.html; one
 * named without it is a 301, so that the page's relative links resolve
 * inside the directory (as nginx does). Calls back exactly once; an opened
 * file's fd is the caller's to close.
 */
export function openStatic(io: IO, root: string, urlPath: string, callback: (result: StaticResult) => void): void {
  const resolved = resolveUnderRoot(root, urlPath);
  if (typeof resolved === 'number') {
    queueMicrotask(() => callback({ status: resolved }));
    return;
  }
  openCanonical(io, root, resolved, urlPath.endsWith('/') ? 'index' : 'redirect', callback);
}

function openCanonical(
  io: IO,
  root: string,
  candidate: string,
  directory: 'index' | 'redirect' | 'refuse',
  callback: (result: StaticResult) => void,
): void {
  fs.realpath.native(candidate, (error, real) => {
    if (error !== null || !isInside(root, real)) {
      callback({ status: 404 });
      return;
    }
    io.open(real, 'r', undefined, (openError, fd) => {
      if (openError !== null) {
        callback({ status: 404 });
        return;
      }
      // stat by path, not fstat(fd): on Windows the IO's fd is an OS handle,
      // which node:fs (C runtime descriptors) does not take.
      fs.stat(real, (statError, stats) => {
        if (statError === null && stats.isFile()) {
          callback({ status: 200, file: { fd, size: stats.size, mtimeMs: stats.mtimeMs, contentType: contentTypeOf(real) } });
          return;
        }
        io.close(fd, () => {
          if (statError !== null || !stats.isDirectory() || directory === 'refuse') callback({ status: 404 });
          else if (directory === 'redirect') callback({ status: 301 });
          else openCanonical(io, root, path.join(real, 'index.html'), 'refuse', callback);
        });
      });
    });
  });
}
