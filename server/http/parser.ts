// Incremental HTTP/1.1 request parser (RFC 9112). Pure: bytes in, requests
// or an error status out; no I/O, no timers. The connection owns the input
// buffer and calls execute() with its unparsed bytes; the parser returns how
// many it consumed and sets `result`:
//
//   NEED_MORE  keep [start+consumed, end) and call again with more appended
//   REQUEST    `request` is complete; call again with the rest
//   CONTINUE   the head asked for `Expect: 100-continue`; send the interim
//              response if you like, then call again
//   ERROR      `errorStatus`/`errorMessage`: respond and close (sticky)
//
// The head (request line + fields) is parsed once it is complete in the
// buffer (it has to fit there anyway: at most maxHeaderBytes); the scan for
// its end resumes where the last call stopped, so a head that arrives one
// byte at a time costs O(n), not O(n^2). Bodies (Content-Length or chunked)
// are copied out as they arrive, so the connection's buffer never holds more
// than a head. Strict where leniency enables request smuggling: CRLF line
// ends only, no obs-fold, no whitespace before ':', Content-Length with
// Transfer-Encoding is an error, as are differing Content-Lengths.

export const NEED_MORE = 0;
export const REQUEST = 1;
export const ERROR = 2;
export const CONTINUE = 3;

export interface ParserLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  maxBodyBytes: number;
}

import { ParsedRequest, TargetCache, type HttpRequest } from './request';

export type { HttpRequest } from './request';

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const MAX_LEADING_EMPTY_LINE_BYTES = 16;
const MAX_CHUNK_EXTENSION_BYTES = 4096;
/** Hex digits of a chunk size, leading zeros included (16 hold any 64-bit size). */
const MAX_CHUNK_SIZE_DIGITS = 16;
/** A method longer than this is not one we could know (the longest registered ones are about 20 bytes). */
const MAX_METHOD_BYTES = 64;
const EMPTY = Buffer.alloc(0);

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// (RFC 9112 §7.1.1), one byte at a time so that any split parses the same.
// BWS is allowed only before ';' and '=' and after them: whitespace at the
// end of the line ("5 \r\n"), a bare ';' and a name that is not a token are
// errors.
const X_BEFORE_SEMI = 0; // after the size or a value: BWS, then ';'
const X_BEFORE_NAME = 1; // after ';': BWS, then a token
const X_NAME = 2; // in the name: tchar, or BWS / '=' / ';' / CR
const X_AFTER_NAME = 3; // BWS after the name: '=' or ';'
const X_BEFORE_VALUE = 4; // after '=': BWS, then a token or a quoted-string
const X_TOKEN_VALUE = 5;
const X_QUOTED = 6;
const X_QUOTED_PAIR = 7;
const X_AFTER_VALUE = 8; // after a value: CR, or BWS then ';'
const X_DONE = 9; // CR seen
const X_ERROR = 10;

function chunkExtStep(state: number, c: number): number {
  const ws = c === SP || c === HTAB;
  switch (state) {
    case X_BEFORE_SEMI:
      return ws ? X_BEFORE_SEMI : c === 0x3b ? X_BEFORE_NAME : X_ERROR;
    case X_BEFORE_NAME:
      return ws ? X_BEFORE_NAME : TCHAR[c] === 1 ? X_NAME : X_ERROR;
    case X_NAME:
      if (TCHAR[c] === 1) return X_NAME;
      return c === CR ? X_DONE : ws ? X_AFTER_NAME : c === 0x3d ? X_BEFORE_VALUE : c === 0x3b ? X_BEFORE_NAME : X_ERROR;
    case X_AFTER_NAME:
      return ws ? X_AFTER_NAME : c === 0x3d ? X_BEFORE_VALUE : c === 0x3b ? X_BEFORE_NAME : X_ERROR;
    case X_BEFORE_VALUE:
      return ws ? X_BEFORE_VALUE : c === 0x22 ? X_QUOTED : TCHAR[c] === 1 ? X_TOKEN_VALUE : X_ERROR;
    case X_TOKEN_VALUE:
      if (TCHAR[c] === 1) return X_TOKEN_VALUE;
      return c === CR ? X_DONE : ws ? X_BEFORE_SEMI : c === 0x3b ? X_BEFORE_NAME : X_ERROR;
    case X_QUOTED:
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (c === 0x22) return X_AFTER_VALUE;
      if (c === 0x5c) return X_QUOTED_PAIR;
      return ws || c === 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80 ? X_QUOTED : X_ERROR;
    case X_QUOTED_PAIR:
      return ws || (c >= 0x21 && c <= 0x7e) || c >= 0x80 ? X_QUOTED : X_ERROR;
    case X_AFTER_VALUE:
      return c === CR ? X_DONE : ws ? X_BEFORE_SEMI : c === 0x3b ? X_BEFORE_NAME : X_ERROR;
    default:
      return X_ERROR;
  }
}

const S_HEAD = 0;
const S_BODY = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_EXT = 3;
const S_CHUNK_SIZE_LF = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_DATA_CR = 6;
const S_CHUNK_DATA_LF = 7;
const S_TRAILER_START = 8;
const S_TRAILER_LINE = 9;
const S_TRAILER_LINE_LF = 10;
const S_TRAILER_END_LF = 11;
const S_ERROR = 12;

/** tchar of RFC 9110 §5.6.2. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const H_CONTENT_LENGTH = bytes('content-length');
const H_TRANSFER_ENCODING = bytes('transfer-encoding');
const H_CONNECTION = bytes('connection');
const H_HOST = bytes('host');
const H_EXPECT = bytes('expect');
const H_CONTENT_TYPE = bytes('content-type');
const H_100_CONTINUE = bytes('100-continue');
const H_CLOSE = bytes('close');
const H_KEEP_ALIVE = bytes('keep-alive');
const OPTION_CLOSE = 1;
const OPTION_KEEP_ALIVE = 2;
const HTTP_SLASH = bytes('HTTP/');

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'].map((m) => ({ name: m, bytes: bytes(m) }));

export class RequestParser {
  result = NEED_MORE;
  /** The request, when result is REQUEST (or the head so far, when CONTINUE). */
  request: HttpRequest | null = null;
  errorStatus = 0;
  errorMessage = '';

  private state = S_HEAD;
  /** Head: bytes from the head's start already scanned for line ends. */
  private scanned = 0;
  /** Head: start of the line being scanned, relative to the head's start. */
  private lineStart = 0;
  /**
   * Head: the LF of each line found so far, relative to the head's start,
   * so that parseHead does not search for them again (the first ones, up to
   * the field count limit; past it the head fails with 431 anyway).
   */
  private readonly lineEnds: Int32Array;
  private lineCount = 0;
  /** Empty lines skipped before the request line (RFC 9112 §2.2), bounded. */
  private skipped = 0;
  private current: ParsedRequest | null = null;
  /** The one request object, reused (see request.ts). */
  private readonly reusable: ParsedRequest;
  private readonly targets = new TargetCache();
  private body: Buffer = EMPTY;
  private bodyLength = 0;
  /** Bytes left of the fixed-length body or of the current chunk. */
  private remaining = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private extensionBytes = 0;
  private extState = X_BEFORE_SEMI;
  private trailerBytes = 0;

  constructor(private readonly limits: ParserLimits) {
    this.reusable = new ParsedRequest(limits.maxHeaderCount);
    this.lineEnds = new Int32Array(limits.maxHeaderCount + 2); // the request line, the fields, one past the limit
  }

  /** Forgets everything: ready for a new connection. */
  reset(): void {
    this.result = NEED_MORE;
    this.request = null;
    this.errorStatus = 0;
    this.errorMessage = '';
    this.state = S_HEAD;
    this.scanned = 0;
    this.lineStart = 0;
    this.lineCount = 0;
    this.skipped = 0;
    this.current = null;
    this.body = EMPTY;
    this.bodyLength = 0;
  }

  /** True between requests: no part of one has been consumed (the caller may still hold unparsed bytes). */
  get betweenRequests(): boolean {
    return this.state === S_HEAD;
  }

  /** True while a body is being received. */
  get inBody(): boolean {
    return this.state !== S_HEAD && this.state !== S_ERROR;
  }

  /** Parses from buf[start, end). Returns the bytes consumed; see `result`. */
  execute(buf: Buffer, start: number, end: number): number {
    this.result = NEED_MORE;
    this.request = null;
    if (this.state === S_ERROR) {
      this.result = ERROR;
      return 0;
    }
    let p = start;
    if (this.state === S_HEAD) {
      if (this.scanned === 0) {
        while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
        this.skipped += p - start;
        if (this.skipped > MAX_LEADING_EMPTY_LINE_BYTES) return this.fail(400, 'empty lines before the request line', p - start);
      }
      // Only the first maxHeaderBytes are looked at, so that the outcome
      // never depends on how the input was split into reads.
      const limit = Math.min(end, p + this.limits.maxHeaderBytes);
      const headEnd = this.findHeadEnd(buf, p, limit);
      if (headEnd === -2) return p - start;
      if (headEnd === -1) {
        if (end - p >= this.limits.maxHeaderBytes) {
          const [status, message] = classifyOversizedHead(buf, p, limit);
          return this.fail(status, message, p - start);
        }
        return p - start;
      }
      const request = this.parseHead(buf, p, headEnd);
      p = headEnd;
      this.scanned = 0;
      this.lineStart = 0;
      this.lineCount = 0;
      this.skipped = 0;
      if (request === null) return p - start;
      if (this.state === S_HEAD) {
        this.complete(request);
        return p - start;
      }
      this.current = request;
      if (request.expectContinue) {
        this.result = CONTINUE;
        this.request = request;
        return p - start;
      }
    }
    return this.parseBody(buf, p, end) - start;
  }

  private fail(status: number, message: string, consumed: number): number {
    this.state = S_ERROR;
    this.result = ERROR;
    this.errorStatus = status;
    this.errorMessage = message;
    this.current = null;
    this.body = EMPTY;
    return consumed;
  }

  private complete(request: ParsedRequest): void {
    request.body = this.bodyLength === 0 ? EMPTY : this.body.subarray(0, this.bodyLength);
    this.body = EMPTY;
    this.bodyLength = 0;
    this.current = null;
    this.state = S_HEAD;
    this.result = REQUEST;
    this.request = request;
  }

  /** Index just past the head's blank line; -1: not complete yet; -2: error (set). */
  private findHeadEnd(buf: Buffer, head: number, end: number): number {
    let from = head + this.scanned;
    let lineStart = head + this.lineStart;
    for (;;) {
      const lf = from < end ? buf.indexOf(LF, from) : -1;
      if (lf < 0 || lf >= end) {
        this.scanned = end - head;
        this.lineStart = lineStart - head;
        return -1;
      }
      if (lf === head || buf[lf - 1] !== CR) {
        this.fail(400, 'bare LF in the header block', 0);
        return -2;
      }
      if (lf - 1 === lineStart) return lf + 1;
      if (this.lineCount < this.lineEnds.length) this.lineEnds[this.lineCount++] = lf - head;
      lineStart = lf + 1;
      from = lf + 1;
    }
  }

  /** Parses a complete head [s, e); null when it failed (error set). Sets the body state. */
  private parseHead(buf: Buffer, s: number, e: number): ParsedRequest | null {
    const limits = this.limits;
    // request-line = method SP request-target SP HTTP-version CRLF
    const lineEnds = this.lineEnds;
    const lines = this.lineCount;
    const lineLf = s + lineEnds[0];
    const lineEnd = lineLf - 1;
    let i = s;
    while (i < lineEnd && TCHAR[buf[i]] === 1) i++;
    if (i === s || buf[i] !== SP) return this.failHead(400, 'malformed request line (method)');
    if (i - s > MAX_METHOD_BYTES) return this.failHead(400, 'method too long');
    const method = internMethod(buf, s, i);
    const targetStart = ++i;
    while (i < lineEnd && buf[i] > 0x20 && buf[i] < 0x7f) i++;
    if (i === targetStart || buf[i] !== SP) return this.failHead(400, 'malformed request line (target)');
    const targetEnd = i;
    i++;
    if (lineEnd - i !== 8 || !startsWith(buf, i, HTTP_SLASH) || !isDigit(buf[i + 5]) || buf[i + 6] !== 0x2e || !isDigit(buf[i + 7])) {
      return this.failHead(400, 'malformed request line (version)');
    }
    if (buf[i + 5] !== 0x31) return this.failHead(505, 'HTTP version not supported');
    const versionMinor = buf[i + 7] - 0x30;

    const request = this.reusable;
    request.reset(buf);
    let contentLength = -1;
    let transferEncoding: string[] | null = null;
    let close = false;
    let keepAliveToken = false;
    let hosts = 0;
    let expectContinue = false;
    let contentType: string | null = null;
    let count = 0;
    let ls = lineLf + 1;
    const last = e - 2; // the blank line's CR
    let line = 1;
    while (ls < last) {
      const lf = line < lines ? s + lineEnds[line++] : buf.indexOf(LF, ls);
      const le = lf - 1;
      if (buf[ls] === SP || buf[ls] === HTAB) return this.failHead(400, 'obsolete line folding');
      let j = ls;
      while (j < le && TCHAR[buf[j]] === 1) j++;
      if (j === ls || buf[j] !== COLON) return this.failHead(400, 'malformed header field name');
      const nameEnd = j++;
      while (j < le && (buf[j] === SP || buf[j] === HTAB)) j++;
      let ve = le;
      while (ve > j && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
      for (let k = j; k < ve; k++) {
        const c = buf[k];
        if ((c < 0x20 && c !== HTAB) || c === 0x7f) return this.failHead(400, 'invalid character in header field value');
      }
      if (++count > limits.maxHeaderCount) return this.failHead(431, 'too many header fields');
      request.addField(ls, nameEnd, j, ve);
      const nameLength = nameEnd - ls;
      if (nameLength === 14 && nameIs(buf, ls, H_CONTENT_LENGTH)) {
        const length = parseContentLength(buf, j, ve);
        if (length < 0) return this.failHead(400, 'invalid Content-Length');
        if (contentLength >= 0 && contentLength !== length) return this.failHead(400, 'conflicting Content-Length fields');
        contentLength = length;
      } else if (nameLength === 17 && nameIs(buf, ls, H_TRANSFER_ENCODING)) {
        transferEncoding ??= [];
        for (const coding of buf.latin1Slice(j, ve).toLowerCase().split(',')) {
          const trimmed = coding.trim();
          if (trimmed !== '') transferEncoding.push(trimmed);
        }
      } else if (nameLength === 10 && nameIs(buf, ls, H_CONNECTION)) {
        // Byte by byte: browsers send `Connection: keep-alive` on every request.
        const options = connectionOptions(buf, j, ve);
        if ((options & OPTION_CLOSE) !== 0) close = true;
        if ((options & OPTION_KEEP_ALIVE) !== 0) keepAliveToken = true;
      } else if (nameLength === 4 && nameIs(buf, ls, H_HOST)) {
        if (!isValidHost(buf, j, ve)) return this.failHead(400, 'invalid Host field value');
        hosts++;
      } else if (nameLength === 6 && nameIs(buf, ls, H_EXPECT)) {
        if (ve - j === H_100_CONTINUE.length && nameIs(buf, j, H_100_CONTINUE)) expectContinue = true;
      } else if (nameLength === 12 && nameIs(buf, ls, H_CONTENT_TYPE)) {
        contentType = buf.latin1Slice(j, ve);
      }
      ls = lf + 1;
    }
    if (versionMinor >= 1 ? hosts !== 1 : hosts > 1) return this.failHead(400, 'a request needs exactly one Host field');
    let chunked = false;
    if (transferEncoding !== null) {
      // RFC 9112 §6.1/§6.3: both framings at once is how requests get smuggled.
      if (contentLength >= 0) return this.failHead(400, 'both Content-Length and Transfer-Encoding');
      if (versionMinor === 0) return this.failHead(400, 'Transfer-Encoding in an HTTP/1.0 request');
      const n = transferEncoding.length;
      if (n === 0 || transferEncoding[n - 1] !== 'chunked') return this.failHead(400, 'chunked must be the final transfer coding');
      if (transferEncoding.indexOf('chunked') !== n - 1) return this.failHead(400, 'chunked applied twice');
      if (n > 1) return this.failHead(501, 'transfer coding not implemented');
      chunked = true;
    }
    if (contentLength > limits.maxBodyBytes) return this.failHead(413, 'body too large');
    request.method = method;
    request.target = this.targets.get(buf, targetStart, targetEnd);
    request.versionMinor = versionMinor;
    request.keepAlive = versionMinor >= 1 ? !close : keepAliveToken && !close;
    request.chunked = chunked;
    request.contentType = contentType;
    this.bodyLength = 0;
    if (chunked) {
      this.state = S_CHUNK_SIZE;
      this.chunkSize = 0;
      this.chunkDigits = 0;
      this.body = EMPTY;
    } else if (contentLength > 0) {
      this.state = S_BODY;
      this.remaining = contentLength;
      this.body = Buffer.allocUnsafe(contentLength);
    }
    // A body follows: the head's bytes will not stay where they are.
    if (this.state !== S_HEAD) request.detach();
    request.expectContinue = expectContinue && versionMinor >= 1 && this.state !== S_HEAD;
    return request;
  }

  private failBody(status: number, message: string, p: number): number {
    this.fail(status, message, 0);
    return p;
  }

  private failHead(status: number, message: string): null {
    this.fail(status, message, 0);
    return null;
  }

  /** Consumes body bytes from buf[p, end); returns the new p. */
  private parseBody(buf: Buffer, p: number, end: number): number {
    for (;;) {
      switch (this.state) {
        case S_BODY:
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, end - p);
          if (n > 0) {
            buf.copy(this.body, this.bodyLength, p, p + n);
            this.bodyLength += n;
            this.remaining -= n;
            p += n;
          }
          if (this.remaining > 0) return p;
          if (this.state === S_BODY) {
            this.complete(this.current!);
            return p;
          }
          this.state = S_CHUNK_DATA_CR;
          break;
        }
        case S_CHUNK_SIZE: {
          if (p === end) return p;
          const c = buf[p];
          const digit = HEX[c];
          if (digit >= 0) {
            // A size no integer here can hold is a malformed message (400),
            // not a large one (413): it cannot be framed at all. Leading
            // zeros are bounded too, so that the line stays short.
            this.chunkSize = this.chunkSize * 16 + digit;
            p++;
            if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS || this.chunkSize > Number.MAX_SAFE_INTEGER) {
              return this.failBody(400, 'chunk size not representable', p);
            }
            break;
          }
          if (this.chunkDigits === 0) return this.failBody(400, 'malformed chunk size', p);
          // The size is complete and well-formed: now (not digit by digit)
          // is when "too large" can be told from "malformed".
          if (this.bodyLength + this.chunkSize > this.limits.maxBodyBytes) return this.failBody(413, 'body too large', p);
          if (c === CR) this.state = S_CHUNK_SIZE_LF;
          else if (c === 0x3b || c === SP || c === HTAB) {
            this.state = S_CHUNK_EXT;
            this.extensionBytes = 0;
            this.extState = c === 0x3b ? X_BEFORE_NAME : X_BEFORE_SEMI;
          } else return this.failBody(400, 'malformed chunk size', p);
          p++;
          break;
        }
        case S_CHUNK_EXT: {
          if (p === end) return p;
          const c = buf[p++];
          if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return this.failBody(400, 'chunk extension too long', p);
          const next = chunkExtStep(this.extState, c);
          if (next === X_ERROR) return this.failBody(400, 'malformed chunk extension', p);
          if (next === X_DONE) this.state = S_CHUNK_SIZE_LF;
          else this.extState = next;
          break;
        }
        case S_CHUNK_SIZE_LF: {
          if (p === end) return p;
          if (buf[p++] !== LF) return this.failBody(400, 'malformed chunk size line', p);
          const size = this.chunkSize;
          this.chunkSize = 0;
          this.chunkDigits = 0;
          if (size === 0) {
            this.state = S_TRAILER_START;
            this.trailerBytes = 0;
          } else {
            this.reserve(this.bodyLength + size);
            this.remaining = size;
            this.state = S_CHUNK_DATA;
          }
          break;
        }
        case S_CHUNK_DATA_CR:
          if (p === end) return p;
          if (buf[p++] !== CR) return this.failBody(400, 'chunk data longer than its size', p);
          this.state = S_CHUNK_DATA_LF;
          break;
        case S_CHUNK_DATA_LF:
          if (p === end) return p;
          if (buf[p++] !== LF) return this.failBody(400, 'chunk data longer than its size', p);
          this.state = S_CHUNK_SIZE;
          break;
        case S_TRAILER_START: {
          if (p === end) return p;
          const c = buf[p++];
          if (c === CR) this.state = S_TRAILER_END_LF;
          else if (c === LF) return this.failBody(400, 'bare LF in trailer', p);
          else this.state = S_TRAILER_LINE;
          if (++this.trailerBytes > this.limits.maxHeaderBytes) return this.failBody(431, 'trailer too large', p);
          break;
        }
        case S_TRAILER_LINE: {
          if (p === end) return p;
          const c = buf[p++];
          if (c === CR) this.state = S_TRAILER_LINE_LF;
          else if ((c < 0x20 && c !== HTAB) || c === 0x7f) return this.failBody(400, 'invalid character in trailer', p);
          if (++this.trailerBytes > this.limits.maxHeaderBytes) return this.failBody(431, 'trailer too large', p);
          break;
        }
        case S_TRAILER_LINE_LF:
          if (p === end) return p;
          if (buf[p++] !== LF) return this.failBody(400, 'bare CR in trailer', p);
          this.state = S_TRAILER_START;
          break;
        case S_TRAILER_END_LF:
          if (p === end) return p;
          if (buf[p++] !== LF) return this.failBody(400, 'bare CR in trailer', p);
          this.complete(this.current!);
          return p;
        default:
          return p;
      }
    }
  }

  /** Grows the chunked body's buffer to hold `size` bytes (size <= maxBodyBytes, checked). */
  private reserve(size: number): void {
    if (size <= this.body.length) return;
    const capacity = Math.min(this.limits.maxBodyBytes, Math.max(size, this.body.length * 2, 4096));
    const grown = Buffer.allocUnsafe(capacity);
    this.body.copy(grown, 0, 0, this.bodyLength);
    this.body = grown;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function startsWith(buf: Buffer, at: number, prefix: Uint8Array): boolean {
  for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return false;
  return true;
}

/** Case-insensitive match of a field name against a lower-case constant (tchars only). */
function nameIs(buf: Buffer, at: number, lower: Uint8Array): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[at + k] | 0x20) !== lower[k]) return false;
  return true;
}

/** The Connection options among `close` and `keep-alive` (case-insensitive; a comma-separated list with OWS). */
function connectionOptions(buf: Buffer, s: number, e: number): number {
  let found = 0;
  let i = s;
  while (i < e) {
    while (i < e && (buf[i] === SP || buf[i] === HTAB || buf[i] === 0x2c)) i++;
    let end = i;
    while (end < e && buf[end] !== 0x2c) end++;
    let last = end;
    while (last > i && (buf[last - 1] === SP || buf[last - 1] === HTAB)) last--;
    const n = last - i;
    if (n === 5 && nameIs(buf, i, H_CLOSE)) found |= OPTION_CLOSE;
    else if (n === 10 && nameIs(buf, i, H_KEEP_ALIVE)) found |= OPTION_KEEP_ALIVE;
    i = end;
  }
  return found;
}

function internMethod(buf: Buffer, s: number, e: number): string {
  for (const m of METHODS) {
    if (m.bytes.length === e - s && startsWith(buf, s, m.bytes)) return m.name;
  }
  return buf.latin1Slice(s, e);
}

/**
 * Content-Length = 1*DIGIT, possibly as a list of identical values
 * ("5, 5", RFC 9110 §8.6). Returns -1 when malformed or when the values differ.
 */
function parseContentLength(buf: Buffer, s: number, e: number): number {
  let value = -1;
  let i = s;
  for (;;) {
    while (i < e && (buf[i] === SP || buf[i] === HTAB)) i++;
    let n = 0;
    let digits = 0;
    while (i < e && isDigit(buf[i])) {
      n = n * 10 + (buf[i] - 0x30);
      // Beyond 2^53 - 1 the number cannot be held exactly: malformed (400),
      // where a well-formed length over the body limit is 413.
      if (n > Number.MAX_SAFE_INTEGER) return -1;
      digits++;
      i++;
    }
    if (digits === 0) return -1;
    if (value >= 0 && value !== n) return -1;
    value = n;
    while (i < e && (buf[i] === SP || buf[i] === HTAB)) i++;
    if (i === e) return value;
    if (buf[i] !== 0x2c) return -1;
    i++;
  }
}

/**
 * Why a head that reached maxHeaderBytes without its end failed, from its
 * first maxHeaderBytes bytes only (so any split gives the same answer):
 * a request line still unfinished there is a method too long (400) or a
 * request-target too long (414, RFC 9110 §15.5.15); otherwise the fields
 * are too large (431).
 */
function classifyOversizedHead(buf: Buffer, s: number, limit: number): [number, string] {
  const lf = buf.indexOf(LF, s);
  if (lf >= 0 && lf < limit) return [431, 'header block too large'];
  let i = s;
  while (i < limit && TCHAR[buf[i]] === 1) i++;
  if (i === limit || i - s > MAX_METHOD_BYTES) return [400, 'method too long'];
  if (buf[i] !== SP) return [400, 'malformed request line (method)'];
  return [414, 'request-target too long'];
}

/** reg-name characters: unreserved / sub-delims (RFC 3986 §3.2.2); '%' is checked apart. */
const REG_NAME = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;
/** Inside an IP-literal's brackets: IPv6 (hex, ':', '.') and IPvFuture (unreserved, sub-delims, ':'). */
const IP_LITERAL = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:") IP_LITERAL[c.charCodeAt(0)] = 1;

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2). userinfo
 * ('@'), a path ('/'), a list ("h, other") and an empty value are 400:
 * RFC 9112 §3.2 makes an invalid Host a 400, and an empty one names no
 * authority this server could be, so it is refused too.
 */
function isValidHost(buf: Buffer, s: number, e: number): boolean {
  if (s === e) return false;
  let i = s;
  if (buf[i] === 0x5b /* [ */) {
    i++;
    while (i < e && IP_LITERAL[buf[i]] === 1) i++;
    if (i === s + 1 || i === e || buf[i] !== 0x5d /* ] */) return false;
    i++;
  } else {
    while (i < e) {
      const c = buf[i];
      if (REG_NAME[c] === 1) i++;
      else if (c === 0x25 /* % */ && i + 2 < e && HEX[buf[i + 1]] >= 0 && HEX[buf[i + 2]] >= 0) i += 3;
      else break;
    }
    if (i === s) return false;
  }
  if (i === e) return true;
  if (buf[i] !== COLON) return false;
  for (i++; i < e; i++) if (!isDigit(buf[i])) return false;
  return true;
}
