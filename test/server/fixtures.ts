// A static root for the server tests, made in a temporary directory:
// ordinary files, a directory with index.html, symlinks inside and out of
// the root, and (on demand) one large file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Size of sparse.bin. */
export const SPARSE_SIZE = 48 * 1024 * 1024;

export interface StaticRoot {
  dir: string;
  outside: string;
  bigPath: string | null;
  bigSha256: string | null;
  bigSize: number;
  remove(): void;
}

export function makeStaticRoot(bigSize = 0): StaticRoot {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-server-'));
  const dir = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(dir);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET\n');
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from a file\n');
  fs.writeFileSync(path.join(dir, 'style.css'), 'body { color: red }\n');
  fs.writeFileSync(path.join(dir, 'data.json'), '{"a":1}\n');
  fs.writeFileSync(path.join(dir, 'a b.txt'), 'space\n');
  fs.writeFileSync(path.join(dir, 'empty.txt'), '');
  fs.writeFileSync(path.join(dir, 'noext'), 'raw');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'index.html'), '<h1>sub</h1>\n');
  fs.mkdirSync(path.join(dir, 'noindex'));
  fs.symlinkSync(path.join(dir, 'hello.txt'), path.join(dir, 'link-in.txt'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'link-out.txt'));
  fs.symlinkSync(outside, path.join(dir, 'dir-out'));
  // Medium file: several chunks, bigger than a socket buffer.
  const medium = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < medium.length; i++) medium[i] = (i * 31 + (i >> 13)) & 0xff;
  fs.writeFileSync(path.join(dir, 'medium.bin'), medium);
  // Large and sparse (costs no disk): more than the kernel's socket buffers can hold.
  fs.closeSync(fs.openSync(path.join(dir, 'sparse.bin'), 'w'));
  fs.truncateSync(path.join(dir, 'sparse.bin'), SPARSE_SIZE);
  let bigPath: string | null = null;
  let bigSha256: string | null = null;
  if (bigSize > 0) {
    bigPath = path.join(dir, 'big.bin');
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(bigPath, 'w');
    const block = crypto.randomBytes(1024 * 1024);
    for (let written = 0; written < bigSize; written += block.length) {
      block.writeUInt32LE(written, 0); // no two blocks alike
      const piece = block.subarray(0, Math.min(block.length, bigSize - written));
      fs.writeSync(fd, piece);
      hash.update(piece);
    }
    fs.closeSync(fd);
    bigSha256 = hash.digest('hex');
  }
  return {
    dir,
    outside,
    bigPath,
    bigSha256,
    bigSize,
    remove: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}

export function mediumFile(root: StaticRoot): Buffer {
  return fs.readFileSync(path.join(root.dir, 'medium.bin'));
}
