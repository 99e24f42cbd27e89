// Response serialization into a connection's output buffer, the Date clock,
// and canned responses (the hello and JSON routes) whose bytes are built once
// a second instead of once per request.

export const SERVER_NAME = 'tigerio';

/** How a response ends the connection: nothing said (HTTP/1.1 keep-alive), `Connection: close`, or `Connection: keep-alive` (HTTP/1.0). */
export type ConnectionMode = 0 | 1 | 2;
export const MODE_DEFAULT: ConnectionMode = 0;
export const MODE_CLOSE: ConnectionMode = 1;
export const MODE_KEEP_ALIVE: ConnectionMode = 2;
const CONNECTION_LINE = ['', 'Connection: close\r\n', 'Connection: keep-alive\r\n'];

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  206: 'Partial Content',
  301: 'Moved Permanently',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export const CONTINUE_BYTES = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Where an OutBuffer takes its memory while it holds bytes (server/connection-buffers.ts BufferStock). */
export interface OutBufferStock {
  readonly size: number;
  take(): Buffer;
  give(buffer: Buffer): void;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * A growable byte buffer. A connection has two: one being sent (owned by
 * the IO until the send's callback) and one being filled. With a stock, it
 * holds memory only while it holds bytes: taken at the first write, given
 * back by release() once sent.
 */
export class OutBuffer {
  buf: Buffer;
  length = 0;

  constructor(
    private readonly initialSize: number,
    private readonly stock: OutBufferStock | null = null,
  ) {
    this.buf = stock === null ? Buffer.allocUnsafe(initialSize) : NO_BYTES;
  }

  /** Makes room for `extra` more bytes. Only when the IO does not hold this buffer. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    if (this.buf === NO_BYTES && this.stock !== null) {
      this.buf = this.stock.take();
      if (needed <= this.buf.length) return;
    }
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** Gives the memory back to the stock (one grown for a big response is dropped). Only when empty and not being sent. */
  release(): void {
    if (this.length !== 0 || this.stock === null || this.buf === NO_BYTES) return;
    this.stock.give(this.buf);
    this.buf = NO_BYTES;
    // The send-view cache stays: it answers only for the same buffer (likely
    // the one taken next, the stock being last-in first-out), and the
    // OutBuffer itself is a spare of the IO's, not a connection's, while empty.
  }

  writeLatin1(text: string): void {
    this.reserve(text.length);
    this.length += this.buf.latin1Write(text, this.length);
  }

  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * buf[start, end) as a Buffer for io.send. The view is kept and handed
   * out again for the same range of the same buffer: a connection that
   * answers the same response again and again (keep-alive hello, the same
   * pipelined burst) sends without allocating a view per send.
   */
  view(start: number, end: number): Buffer {
    const cached = this.cachedView;
    if (cached !== null && this.cachedOf === this.buf && this.cachedStart === start && cached.length === end - start) return cached;
    const view = this.buf.subarray(start, end);
    this.cachedView = view;
    this.cachedOf = this.buf;
    this.cachedStart = start;
    return view;
  }

  private cachedView: Buffer | null = null;
  private cachedOf: Buffer | null = null;
  private cachedStart = 0;

  /** Drops a buffer that grew for one big response. Only when empty. */
  shrink(limit: number): void {
    if (this.length === 0 && this.buf.length > limit) this.buf = Buffer.allocUnsafe(this.initialSize);
  }
}

declare global {
  interface Buffer {
    /** Node's fast latin1 writer (undocumented in @types/node, present since Node 0.x). */
    latin1Write(text: string, offset: number): number;
  }
}

/** The IMF-fixdate of the current second, refreshed by the worker's 1 s timer. */
export class DateClock {
  value = new Date().toUTCString();
  private readonly listeners: (() => void)[] = [];

  update(now: number = Date.now()): void {
    const value = new Date(now).toUTCString();
    if (value === this.value) return;
    this.value = value;
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** Status line, Server, Date, Content-Type (when given), Content-Length (when >= 0), Connection, extra lines, blank line. */
export function writeHead(
  out: OutBuffer,
  status: number,
  date: string,
  contentType: string | null,
  contentLength: number,
  mode: ConnectionMode,
  extra = '',
): void {
  out.writeLatin1(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\nServer: ${SERVER_NAME}\r\nDate: ${date}\r\n` +
      (contentType === null ? '' : `Content-Type: ${contentType}\r\n`) +
      (contentLength < 0 ? '' : `Content-Length: ${contentLength}\r\n`) +
      `${CONNECTION_LINE[mode]}${extra}\r\n`,
  );
}

/**
 * A fixed response (status, type, body) pre-serialized in all six variants
 * (GET/HEAD x the three connection modes), rebuilt when the Date changes.
 * A rebuilt variant is a new Buffer: bytes an in-flight send still points at
 * are never modified.
 */
export class CannedResponse {
  private variants: Buffer[] = [];

  constructor(
    private readonly status: number,
    private readonly contentType: string,
    private readonly body: Buffer,
    clock: DateClock,
  ) {
    this.render(clock.value);
    clock.onChange(() => this.render(clock.value));
  }

  get(head: boolean, mode: ConnectionMode): Buffer {
    return this.variants[(head ? 3 : 0) + mode];
  }

  private render(date: string): void {
    const variants: Buffer[] = [];
    for (const head of [false, true]) {
      for (const mode of [MODE_DEFAULT, MODE_CLOSE, MODE_KEEP_ALIVE]) {
        const out = new OutBuffer(256);
        writeHead(out, this.status, date, this.contentType, this.body.length, mode);
        if (!head) out.writeBytes(this.body);
        variants.push(Buffer.from(out.buf.subarray(0, out.length)));
      }
    }
    this.variants = variants;
  }
}
