// The HTTP parser on its own: property tests (any request, serialized and
// split at any byte boundaries, parses the same as in one piece and as
// generated) and the error cases of RFC 9112 that matter for smuggling.
import { expect } from 'chai';
import fc from 'fast-check';
import { CONTINUE, ERROR, NEED_MORE, REQUEST, RequestParser, type ParserLimits } from '../../server/http/parser';
import { propertyParameters } from '../support/property';

const LIMITS: ParserLimits = { maxHeaderBytes: 4096, maxHeaderCount: 100, maxBodyBytes: 64 * 1024 };

type Event =
  | { type: 'request'; method: string; target: string; versionMinor: number; headers: string[]; body: string; keepAlive: boolean }
  | { type: 'error'; status: number };

/**
 * Feeds the chunks as a connection would: appended to one buffer, parsed
 * as far as possible after each, consumed bytes dropped. Returns what came out.
 */
function parseChunks(chunks: Uint8Array[], limits: ParserLimits = LIMITS): Event[] {
  const parser = new RequestParser(limits);
  const events: Event[] = [];
  let pending = Buffer.alloc(0);
  for (const chunk of chunks) {
    pending = Buffer.concat([pending, chunk]);
    let start = 0;
    for (;;) {
      const consumed = parser.execute(pending, start, pending.length);
      expect(consumed).to.be.within(0, pending.length - start);
      start += consumed;
      if (parser.result === REQUEST) {
        const r = parser.request!;
        events.push({
          type: 'request',
          method: r.method,
          target: r.target,
          versionMinor: r.versionMinor,
          headers: r.headers,
          body: r.body.toString('hex'),
          keepAlive: r.keepAlive,
        });
      } else if (parser.result === CONTINUE) {
        continue;
      } else if (parser.result === ERROR) {
        events.push({ type: 'error', status: parser.errorStatus });
        return events;
      } else {
        expect(parser.result).to.equal(NEED_MORE);
        break;
      }
    }
    pending = pending.subarray(start);
  }
  return events;
}

/** Splits `bytes` at the given cut points (any integers; taken modulo the length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  chunks.push(bytes.subarray(last));
  return chunks;
}

// ---- Generators -----------------------------------------------------------------

const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const token = fc.array(fc.constantFrom(...tchars), { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const RESERVED = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'expect']);
const fieldName = token.filter((n) => !RESERVED.has(n.toLowerCase()));
const vchar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const obsText = fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c));
const fieldValue = fc
  .array(fc.oneof({ weight: 8, arbitrary: vchar }, { weight: 1, arbitrary: fc.constantFrom(' ', '\t') }, { weight: 1, arbitrary: obsText }), { maxLength: 30 })
  .map((a) => a.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), token);
const target = fc
  .array(fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), { maxLength: 40 })
  .map((a) => '/' + a.join(''));
const ows = fc.constantFrom('', ' ', '\t', '  ');

interface GeneratedRequest {
  bytes: Buffer;
  expected: Event;
}

const request: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    method,
    target,
    versionMinor: fc.constantFrom(0, 1),
    fields: fc.array(fc.record({ name: fieldName, value: fieldValue, before: ows, after: ows }), { maxLength: 8 }),
    body: fc.uint8Array({ maxLength: 300 }),
    framing: fc.constantFrom('length', 'chunked', 'none'),
    chunkCuts: fc.array(fc.nat(), { maxLength: 5 }),
    extensions: fc.boolean(),
    trailer: fc.boolean(),
    connection: fc.constantFrom<'close' | 'keep-alive' | null>('close', 'keep-alive', null),
    hostFirst: fc.boolean(),
  })
  .map((g) => {
    const framing = g.versionMinor === 0 && g.framing === 'chunked' ? 'length' : g.framing === 'none' && g.body.length > 0 ? 'length' : g.framing;
    const lines: string[] = [`${g.method} ${g.target} HTTP/1.${g.versionMinor}`];
    const headers: string[] = [];
    const add = (name: string, value: string, before = '', after = ''): void => {
      lines.push(`${name}:${before}${value}${after}`);
      headers.push(name, value);
    };
    if (g.hostFirst) add('Host', 'example.com');
    for (const f of g.fields) add(f.name, f.value, f.before, f.after);
    if (!g.hostFirst) add('hOsT', 'example.com:8080');
    if (g.connection !== null) add('Connection', g.connection);
    let bodyBytes = Buffer.alloc(0);
    if (framing === 'length') {
      add('Content-Length', String(g.body.length));
      bodyBytes = Buffer.from(g.body);
    } else if (framing === 'chunked') {
      add('Transfer-Encoding', 'chunked');
      const parts = split(Buffer.from(g.body), g.chunkCuts).filter((p) => p.length > 0);
      const pieces: Buffer[] = [];
      for (const part of parts) {
        pieces.push(Buffer.from(`${part.length.toString(16)}${g.extensions ? ';name="v"' : ''}\r\n`, 'latin1'), part, Buffer.from('\r\n'));
      }
      pieces.push(Buffer.from(`0\r\n${g.trailer ? 'X-Trailer: yes\r\n' : ''}\r\n`, 'latin1'));
      bodyBytes = Buffer.concat(pieces);
    }
    const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
    const keepAlive = g.versionMinor === 1 ? g.connection !== 'close' : g.connection === 'keep-alive';
    return {
      bytes: Buffer.concat([head, bodyBytes]),
      expected: {
        type: 'request',
        method: g.method,
        target: g.target,
        versionMinor: g.versionMinor,
        headers,
        body: Buffer.from(g.body).toString('hex'),
        keepAlive,
      },
    };
  });

describe('server: HTTP parser', () => {
  it('any requests, pipelined and split at any byte boundaries, parse as generated', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (requests, cuts) => {
        const bytes = Buffer.concat(requests.map((r) => r.bytes));
        const expected = requests.map((r) => r.expected);
        expect(parseChunks([bytes])).to.deep.equal(expected);
        expect(parseChunks(split(bytes, cuts))).to.deep.equal(expected);
      }),
      propertyParameters('HTTP parser, pipelined requests split anywhere', 300),
    );
  });

  it('a request fed one byte at a time parses the same', () => {
    fc.assert(
      fc.property(request, (r) => {
        const bytes = [...r.bytes].map((b) => Uint8Array.of(b));
        expect(parseChunks(bytes)).to.deep.equal([r.expected]);
      }),
      propertyParameters('HTTP parser, a byte at a time', 100),
    );
  });

  it('any bytes at all (valid or not) give the same outcome however they are split', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Mostly-valid input with damage: the interesting errors live near valid requests.
      fc.tuple(request, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([r, at, byte]) => {
        const b = Buffer.from(r.bytes);
        b[at % b.length] = byte;
        return b;
      }),
    );
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const whole = parseChunks([Buffer.from(bytes)]);
        expect(parseChunks(split(Buffer.from(bytes), cuts))).to.deep.equal(whole);
      }),
      propertyParameters('HTTP parser, any bytes split anywhere', 500),
    );
  });

  describe('errors', () => {
    const parse = (text: string, limits: ParserLimits = LIMITS): Event[] => parseChunks([Buffer.from(text, 'latin1')], limits);
    const status = (text: string, limits?: ParserLimits): number | undefined => {
      const last = parse(text, limits).at(-1);
      return last?.type === 'error' ? last.status : undefined;
    };

    it('malformed request lines: 400', () => {
      expect(status('GET\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n')).to.equal(400);
      expect(status('GET  / HTTP/1.1\r\nHost: a\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTX/1.1\r\nHost: a\r\n\r\n')).to.equal(400);
      expect(status('G(T / HTTP/1.1\r\nHost: a\r\n\r\n')).to.equal(400);
      expect(status('GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\nHost: a\n\n')).to.equal(400);
    });

    it('HTTP/2.0 and other majors: 505', () => {
      expect(status('GET / HTTP/2.0\r\nHost: a\r\n\r\n')).to.equal(505);
    });

    it('malformed header fields: 400', () => {
      expect(status('GET / HTTP/1.1\r\nHost : a\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  folded\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n')).to.equal(400);
    });

    it('HTTP/1.1 without Host, or with two: 400', () => {
      expect(status('GET / HTTP/1.1\r\n\r\n')).to.equal(400);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).to.equal(400);
      expect(parse('GET / HTTP/1.0\r\n\r\n')[0].type).to.equal('request');
    });

    it('Content-Length with Transfer-Encoding, or two different Content-Lengths: 400 (no smuggling)', () => {
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n')).to.equal(400);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).to.equal(501);
      expect(status('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).to.equal(400);
      // The same length repeated is one length (RFC 9110 §8.6).
      const same = parse('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc');
      expect(same).to.have.length(1);
      expect(same[0]).to.include({ type: 'request', body: Buffer.from('abc').toString('hex') });
    });

    it('bad chunked framing: 400', () => {
      const head = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
      expect(status(head + 'zz\r\n')).to.equal(400);
      expect(status(head + '3\r\nabcd\r\n0\r\n\r\n')).to.equal(400);
      expect(status(head + '3\nabc\r\n0\r\n\r\n')).to.equal(400);
      expect(status(head + '\r\n')).to.equal(400);
    });

    it('header block over the limit: 431, with or without its end in sight', () => {
      const small = { ...LIMITS, maxHeaderBytes: 256 };
      const big = 'GET / HTTP/1.1\r\nHost: a\r\nX-Big: ' + 'x'.repeat(300) + '\r\n\r\n';
      expect(status(big, small)).to.equal(431);
      expect(status(big.slice(0, 280), small)).to.equal(431);
      expect(status('GET / HTTP/1.1\r\nHost: a\r\n' + 'X: y\r\n'.repeat(101) + '\r\n')).to.equal(431);
    });

    it('a head at the field count limit keeps every field, whole or byte by byte (the line ends the scan found are reused)', () => {
      const fields = ['Host: a'];
      for (let i = 1; i < LIMITS.maxHeaderCount; i++) fields.push(`X-${i}: value ${i}`);
      const head = Buffer.from(`GET /at-the-limit HTTP/1.1\r\n${fields.join('\r\n')}\r\n\r\n`, 'latin1');
      for (const chunks of [[head], [...head].map((byte) => Buffer.from([byte]))]) {
        const events = parseChunks(chunks);
        expect(events).to.have.length(1);
        const request = events[0] as { type: string; target: string; headers: string[] };
        expect(request.type).to.equal('request');
        expect(request.target).to.equal('/at-the-limit');
        expect(request.headers).to.have.length(2 * LIMITS.maxHeaderCount);
        expect(request.headers.slice(-2)).to.deep.equal([`X-${LIMITS.maxHeaderCount - 1}`, `value ${LIMITS.maxHeaderCount - 1}`]);
      }
      // One more field is over the limit.
      expect(status(`GET / HTTP/1.1\r\n${fields.join('\r\n')}\r\nX-last: v\r\n\r\n`)).to.equal(431);
    });

    it('body over the limit: 413, by Content-Length or by chunks', () => {
      const small = { ...LIMITS, maxBodyBytes: 10 };
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n', small)).to.equal(413);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n6\r\n', small)).to.equal(413);
      expect(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789', small)).to.equal(undefined);
    });

    it('keep-alive: HTTP/1.1 unless close; HTTP/1.0 only with keep-alive', () => {
      const ka = (text: string): boolean => (parse(text)[0] as { keepAlive: boolean }).keepAlive;
      expect(ka('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).to.equal(true);
      expect(ka('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n')).to.equal(false);
      expect(ka('GET / HTTP/1.0\r\n\r\n')).to.equal(false);
      expect(ka('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).to.equal(true);
    });

    it('empty lines before a request line are skipped', () => {
      expect(parse('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')[0].type).to.equal('request');
    });
  });
});
