// Fuzzing the HTTP server with arbitrary and mutated byte streams, over
// real connections to the real CLI (parser, connection state machine,
// timeouts and the IO under it all at once). Each case: connect, write the
// bytes in random pieces, half-close, read until the server closes.
// Checked: the server closes every connection within a bound after the
// client's end of stream (never a hang); what it sent is a sequence of
// well-formed HTTP/1.x responses (never garbage or a cut-off response);
// the process never exits and still answers GET / afterwards (never a crash).
// Seeded (mulberry32): a failure prints the seed, the case and its bytes.
import * as net from 'node:net';
import { seededRandom } from '../../support/random';

/** The fuzzed server's flags: small limits, so they are reached, and the given header and idle timeouts. */
function fuzzServerFlags(headerAndIdleTimeoutMs: number): string[] {
  const timeout = String(headerAndIdleTimeoutMs);
  return [
    '--port', '0', '--threads', '2', '--quiet',
    '--header-timeout-ms', timeout, '--idle-timeout-ms', timeout, '--send-timeout-ms', '2000',
    '--max-header-bytes', '4096', '--max-body-bytes', '65536',
  ];
}

/**
 * The server configurations every fuzz run covers. The first has short
 * timeouts, so a stalled case ends fast. The second has its
 * header and idle timeouts far beyond a case's bound: every case ends with
 * the client's end of stream, so the server must close because of it,
 * never because a timeout ran out (a missed end of stream then fails the
 * case instead of being covered by the timeout).
 */
export const FUZZ_SERVER_CONFIGURATIONS: { name: string; flags: string[] }[] = [
  { name: '', flags: fuzzServerFlags(1000) },
  { name: ', timeouts far away (the end of stream alone must close)', flags: fuzzServerFlags(600_000) },
];


const CORPUS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /json HTTP/1.0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: 1\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  'GET /?q=1 HTTP/1.1\r\nHost: a\r\n\r\nGET http://a/json HTTP/1.1\r\nHost: a\r\n\r\nHEAD /json HTTP/1.1\r\nHost: a\r\n\r\n',
  'DELETE / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /missing HTTP/1.1\r\nHost: a\r\n\r\n',
];
const INTERESTING = [0x0d, 0x0a, 0x3a, 0x20, 0x09, 0x00, 0xff, 0x30, 0x39, 0x66, 0x3b, 0x2c, 0x2f, 0x25, 0x7f];
const TOKENS = ['\r\n', '\r\n\r\n', 'Content-Length: ', 'Transfer-Encoding: chunked\r\n', '0\r\n\r\n', 'Host: b\r\n', 'HTTP/1.1', ' ', '99999999999999999999', '-1', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'Connection: close\r\n', 'Expect: 100-continue\r\n'];

/** One case's bytes: a mutated corpus entry, a splice of several, or random bytes. */
export function generateCase(random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  const kind = random();
  if (kind < 0.1) {
    const bytes = Buffer.alloc(1 + int(2048));
    for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
    return bytes;
  }
  let bytes = Buffer.from(CORPUS[int(CORPUS.length)], 'latin1');
  if (kind < 0.3) {
    for (let n = int(3); n > 0; n--) bytes = Buffer.concat([bytes, Buffer.from(CORPUS[int(CORPUS.length)], 'latin1')]);
  }
  for (let m = 1 + int(6); m > 0; m--) {
    const at = int(bytes.length + 1);
    switch (int(7)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] ^= 1 << int(8);
        break;
      case 1: // insert an interesting byte
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([INTERESTING[int(INTERESTING.length)]]), bytes.subarray(at)]);
        break;
      case 2: // delete a range
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(16))]);
        break;
      case 3: // duplicate a range
        bytes = Buffer.concat([bytes.subarray(0, at + 1 + int(32)), bytes.subarray(at)]);
        break;
      case 4: // insert a token
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(TOKENS[int(TOKENS.length)], 'latin1'), bytes.subarray(at)]);
        break;
      case 5: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 6: // a long run of one byte (limits)
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(1 + int(20_000), int(2) === 0 ? 0x61 : 0x20), bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}

/** Null when `data` is zero or more complete, well-formed HTTP/1.x responses; else what is wrong. */
export function checkResponses(data: Buffer, at = 0, count = 0): string | null {
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) return `response ${count} at byte ${at}: no end of head`;
    const lines = data.toString('latin1', at, headEnd).split('\r\n');
    const status = /^HTTP\/1\.[01] ([1-5]\d\d) [^\r\n]*$/.exec(lines[0]);
    if (status === null) return `response ${count} at byte ${at}: bad status line ${JSON.stringify(lines[0].slice(0, 80))}`;
    let length = -1;
    for (const line of lines.slice(1)) {
      const field = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): ?(.*)$/.exec(line);
      if (field === null) return `response ${count}: bad header line ${JSON.stringify(line.slice(0, 80))}`;
      if (field[1].toLowerCase() === 'content-length') length = Number(field[2]);
      if (field[1].toLowerCase() === 'transfer-encoding') return `response ${count}: chunked responses are not expected here`;
    }
    at = headEnd + 4;
    count++;
    const code = Number(status[1]);
    if (code < 200 || code === 204 || code === 304) continue;
    if (!(length >= 0)) return `response ${count - 1} (${code}): no Content-Length`;
    if (length === 0) continue;
    // A HEAD response has the GET body's length but no body: the next
    // response (or the end) follows its head. Try the body first.
    const headLike = at === data.length || data.toString('latin1', at, at + 7) === 'HTTP/1.';
    if (data.length - at >= length) {
      const withBody = checkResponses(data, at + length, count);
      if (withBody === null || !headLike) return withBody;
    } else if (!headLike) {
      return `response ${count - 1} (${code}): body cut off (${data.length - at} of ${length} bytes)`;
    }
    // As a HEAD response: go on from here.
  }
  return null;
}

export interface CaseResult {
  /** Null when the case passed, else what went wrong. */
  failure: string | null;
  responseBytes: number;
}

/** Sends one case to 127.0.0.1:port; resolves once the server closed (or the bound passed). */
export function runCase(port: number, bytes: Buffer, random: () => number, closeWithinMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let settled = false;
    const finish = (failure: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(received);
      resolve({ failure: failure ?? checkResponses(data), responseBytes: data.length });
    };
    const timer = setTimeout(() => finish(`the server did not close the connection within ${closeWithinMs} ms of the client's end of stream`), closeWithinMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // A reset is a close too (the server may drop a connection with unread input).
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('connect', () => {
      // Random pieces, so every split point of the parser gets exercised.
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : bytes.length));
        socket.write(bytes.subarray(at, at + size));
        at += size;
      }
      socket.end();
    });
  });
}

export interface ServerFuzzOptions {
  port: number;
  seed: number;
  cases: number;
  seconds: number;
  concurrency?: number;
  closeWithinMs?: number;
}

/** Runs cases until `cases` or `seconds`; rejects with the seed, the case and its bytes on the first failure. */
export async function fuzzServer(options: ServerFuzzOptions): Promise<{ cases: number; responseBytes: number }> {
  const deadline = Date.now() + options.seconds * 1000;
  let next = 0;
  let done = 0;
  let responseBytes = 0;
  let failure: Error | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < options.cases && Date.now() < deadline) {
      const index = next++;
      const random = seededRandom((options.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
      const bytes = generateCase(random);
      const result = await runCase(options.port, bytes, random, options.closeWithinMs ?? 5_000);
      responseBytes += result.responseBytes;
      done++;
      if (result.failure !== null && failure === null) {
        failure = new Error(
          `server fuzz case ${index} (seed ${options.seed}; replay: TIGERIO_FUZZ_SEED=${options.seed}): ${result.failure}\n` +
            `request bytes (${bytes.length}): ${JSON.stringify(bytes.toString('latin1').slice(0, 2000))}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  if (failure !== null) throw failure;
  return { cases: done, responseBytes };
}
