// The request object the parser hands out, built without allocating in
// the steady state: one object per parser, reused for every request; its
// field lines are kept as offsets into the receive buffer and turned into
// strings only when someone reads `headers`; the target string is reused
// while clients keep asking for the same few URLs (a benchmark, a page's
// assets reloaded). A request is therefore valid until the parser's next
// execute(): read what you need before parsing on (the connection does:
// it parses nothing while a response is in progress).

export interface HttpRequest {
  /** Method as sent (case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** request-target as sent (origin-form, absolute-form, ...). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x minors). */
  readonly versionMinor: number;
  /** Field lines in order, flat: [name, value, name, value, ...]; names as sent, values without surrounding whitespace. A new array per read. */
  readonly headers: string[];
  /** The body after chunked decoding; empty when none. */
  readonly body: Buffer;
  /** Whether the connection may carry another request after this one. */
  readonly keepAlive: boolean;
  readonly chunked: boolean;
  readonly expectContinue: boolean;
  /** The Content-Type field's value, or null. */
  readonly contentType: string | null;
}

const EMPTY = Buffer.alloc(0);

/** The parser's reusable request. */
export class ParsedRequest implements HttpRequest {
  method = 'GET';
  target = '/';
  versionMinor = 1;
  body: Buffer = EMPTY;
  keepAlive = true;
  chunked = false;
  expectContinue = false;
  contentType: string | null = null;

  /** Field lines as [nameStart, nameEnd, valueStart, valueEnd] quadruples into `source`. */
  private readonly spans: Int32Array;
  private count = 0;
  private source: Buffer = EMPTY;
  /** Set when the strings had to be made at parse time (the source bytes will not stay put). */
  private strings: string[] | null = null;

  constructor(maxFields: number) {
    this.spans = new Int32Array(maxFields * 4);
  }

  /** Starts a new request over `source`. */
  reset(source: Buffer): void {
    this.source = source;
    this.count = 0;
    this.strings = null;
    this.body = EMPTY;
    this.contentType = null;
  }

  /** Records a field line; the caller bounds the count by maxFields. */
  addField(nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    const k = this.count++ * 4;
    this.spans[k] = nameStart;
    this.spans[k + 1] = nameEnd;
    this.spans[k + 2] = valueStart;
    this.spans[k + 3] = valueEnd;
  }

  /** Makes the field strings now: the head's bytes are about to be overwritten (a body follows, the buffer may move). */
  detach(): void {
    this.strings = this.materialize();
    this.source = EMPTY;
  }

  get headers(): string[] {
    return this.strings !== null ? this.strings.slice() : this.materialize();
  }

  private materialize(): string[] {
    const out: string[] = [];
    for (let k = 0; k < this.count * 4; k += 4) {
      out.push(this.source.latin1Slice(this.spans[k], this.spans[k + 1]), this.source.latin1Slice(this.spans[k + 2], this.spans[k + 3]));
    }
    return out;
  }
}

declare global {
  interface Buffer {
    /** Node's latin1 decoder without toString's argument checks (present since Node 0.x, untyped in @types/node). */
    latin1Slice(start: number, end: number): string;
  }
}

const CACHE_SIZE = 8;
const CACHE_MAX_BYTES = 128;

/** The last few request-targets as bytes and strings: a repeated target costs a compare, not a string. */
export class TargetCache {
  private readonly bytes: Buffer[] = [];
  private readonly lengths: number[] = [];
  private readonly strings: string[] = [];
  private next = 0;

  constructor() {
    for (let i = 0; i < CACHE_SIZE; i++) {
      this.bytes.push(Buffer.alloc(CACHE_MAX_BYTES));
      this.lengths.push(-1);
      this.strings.push('');
    }
  }

  get(buf: Buffer, s: number, e: number): string {
    const n = e - s;
    if (n > CACHE_MAX_BYTES) return buf.latin1Slice(s, e);
    for (let i = 0; i < CACHE_SIZE; i++) {
      if (this.lengths[i] !== n) continue;
      const cached = this.bytes[i];
      let k = 0;
      while (k < n && cached[k] === buf[s + k]) k++;
      if (k === n) return this.strings[i];
    }
    const slot = this.next;
    this.next = (slot + 1) % CACHE_SIZE;
    buf.copy(this.bytes[slot], 0, s, e);
    this.lengths[slot] = n;
    const text = buf.latin1Slice(s, e);
    this.strings[slot] = text;
    return text;
  }
}
