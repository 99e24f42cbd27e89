// One client connection: a state machine driven by IO callbacks.
//
//   recv -> parse (pipelined requests, in order) -> route -> output buffer
//        -> one send per batch (partial sends resumed) -> recv again
//
// Buffers are allocated once per Connection object and the objects are
// pooled by the worker, so a keep-alive request allocates only what the
// parser makes (the request object and its field strings).
//
// Output is double-buffered: `front` is owned by the IO while a send is in
// flight; responses go to `back`; when the send completes the two swap.
// All responses produced from one recv (pipelining) therefore leave in one
// send. A static file's head goes out through the same buffers, then its
// bytes with io.sendFile (the kernel copies the file to the socket; none
// pass through JavaScript), one sendFile after another until the range is
// sent; later pipelined requests wait until then, which keeps responses in
// request order. The socket is corked (io.setCork) from the head to the
// file's last byte, so that no short segment leaves in between.
//
// Timeouts: no timer per connection. Each state sets `deadline`; the
// worker's TimeoutQueue (timeouts.ts: one heap, one io.timeout) looks at the
// connection when its queued time comes and queues it again if the deadline
// moved later meanwhile; only a deadline that moves earlier moves it in the
// heap. The hot path (a keep-alive request answered at once) touches no
// timer at all.
//
// Lifetime: closeNow() closes the fd (the IO completes our pending recv and
// send with ECANCELED first) and leaves the timeout queue; the object goes back to
// the pool once every callback it is owed has run (`opsPending` is 0).
import type { IO, IOError } from '../io';
import { CONTINUE, ERROR, REQUEST, RequestParser, type HttpRequest, type ParserLimits } from './http/parser';
import {
  type CannedResponse,
  CONTINUE_BYTES,
  MODE_CLOSE,
  MODE_DEFAULT,
  MODE_KEEP_ALIVE,
  OutBuffer,
  STATUS_TEXT,
  writeHead,
  type ConnectionMode,
  type DateClock,
} from './http/response';
import * as limits from './limits';
import { connectionBuffers, type ConnectionBuffers } from './connection-buffers';
import { route, type Responder, type RouteTable } from './routes';
import { openStatic, type OpenedFile } from './static';
import type { TimeoutEntry, TimeoutQueue } from './timeouts';
import { conditionalFields, decide, validatorsOf, type ConditionalFields } from './http/conditional';
import type { ServerOptions } from './options';

/** What a connection needs from its worker. */
export interface ConnectionHost {
  readonly io: IO;
  readonly options: ServerOptions;
  readonly parserLimits: ParserLimits;
  readonly clock: DateClock;
  readonly routes: RouteTable;
  /** Every connection's deadline, one timer for all. */
  readonly timeouts: TimeoutQueue;
  /** Canonical --root, or null. */
  readonly root: string | null;
  /** Set when graceful shutdown began: responses say `Connection: close`. */
  readonly draining: boolean;
  /**
   * Now, in performance.now() milliseconds, for activity stamps and
   * deadlines: may lag the clock (by at most one event-loop round, see
   * round-clock.ts), never lead it.
   */
  nowMs(): number;
  /** The connection's socket is closed (its fd is free again). */
  socketClosed(connection: Connection): void;
  /** Every callback the connection was owed has run: it may be reused. */
  released(connection: Connection): void;
}

const TEXT = 'text/plain; charset=utf-8';
const NO_BYTES = Buffer.alloc(0);
/** Parsers kept for reuse by an IO's connections (one in use per connection with a request in progress). */
const PARSERS_KEPT_MAX = 256;

export class Connection implements Responder, TimeoutEntry {
  fd = -1;
  closed = true;

  private readonly io: IO;
  /**
   * The bytes being parsed: a view of the pool's buffer a pooled receive
   * filled (while its callback runs), or the connection's own buffer from
   * the stock (only while a request spans receives), or none.
   */
  private recvBuffer: Buffer = NO_BYTES;
  /** The pool's buffer recvBuffer views, until the connection gives it back (before its next receive). */
  private pooled: Uint8Array | null = null;
  private readonly buffers: ConnectionBuffers;
  private recvStart = 0;
  private recvEnd = 0;
  /** Taken from the IO's spares when a request's bytes arrive, given back when the connection waits between requests. */
  private parser: RequestParser | null = null;
  /** Output buffers (objects and memory) from the IO's spares, held only while a response is written or sent. */
  private frontOut: OutBuffer | null = null;
  private backOut: OutBuffer | null = null;
  private sendOffset = 0;
  private sendLength = 0;
  private recvPending = false;
  private sendPending = false;
  /** Callbacks (IO operations, static-file lookups) this object is still owed. */
  private opsPending = 0;
  private peerEnded = false;
  private closeAfterFlush = false;
  private lingerAfterFlush = false;
  private lingering = false;
  private lingerBytes = 0;
  private lingerEnd = 0;
  /** An asynchronous response (static file) is in progress: later requests wait. */
  private busy = false;
  private fileFd = -1;
  private filePosition = 0;
  private fileRemaining = 0;
  /** A sendFile of the file's bytes is in flight. */
  private fileSendPending = false;
  /** The request being answered (for HEAD) and its connection mode. */
  private request: HttpRequest | null = null;
  private mode: ConnectionMode = MODE_DEFAULT;
  private requestStart = -1;
  private lastActivity = 0;
  private lastProgress = 0;
  private deadline = Infinity;
  /** Owned by the worker's TimeoutQueue (see timeouts.ts). */
  timeoutIndex = -1;
  timeoutAt = 0;

  // The callbacks of the hot path are made once; the others (a request
  // spanning receives, static files, the close) when first needed, so that
  // a connection that never needs them does not carry them.
  private onRecvBound: ((error: IOError | null, n: number) => void) | null = null;
  private readonly onRecvPooledBound = (error: IOError | null, n: number, buffer: Uint8Array | null): void =>
    this.onRecvPooled(error, n, buffer);
  private readonly onSendBound = (error: IOError | null, n: number): void => this.onSend(error, n);
  private onFileSentBound: ((error: IOError | null, n: number) => void) | null = null;
  private onClosedBound: (() => void) | null = null;
  private onFileClosedBound: (() => void) | null = null;

  constructor(private readonly host: ConnectionHost) {
    this.io = host.io;
    // Shared by the IO's connections: an idle one holds no buffer.
    this.buffers = connectionBuffers(host.io, host.parserLimits, limits.OUTPUT_BUFFER_BYTES);
  }

  /** Starts serving a freshly accepted socket. */
  open(fd: number): void {
    this.fd = fd;
    this.closed = false;
    this.recvStart = this.recvEnd = 0;
    this.dropParser(true);
    if (this.frontOut !== null) this.frontOut.length = 0;
    if (this.backOut !== null) this.backOut.length = 0;
    this.dropOutput();
    this.dropRecvBuffer();
    this.sendOffset = this.sendLength = 0;
    this.peerEnded = this.closeAfterFlush = this.lingerAfterFlush = this.lingering = this.busy = false;
    this.lingerBytes = 0;
    this.fileFd = -1;
    this.request = null;
    this.requestStart = -1;
    this.lastActivity = this.lastProgress = this.host.nowMs();
    this.deadline = Infinity;
    this.process();
  }

  /** Graceful shutdown: close now if idle, else after the request in progress. */
  drain(): void {
    if (this.closed) return;
    if (this.isIdle()) this.closeNow();
    else if (this.betweenRequests() && this.recvStart === this.recvEnd && !this.busy) this.closeAfterFlush = true;
  }

  /** Closes the socket now (responses not yet sent are dropped). */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.timeouts.remove(this);
    // A sendFile in flight still reads the file: its callback (ECANCELED, by
    // the socket's close) closes the file after it.
    if (this.fileFd >= 0 && !this.fileSendPending) this.closeFile();
    this.opsPending++;
    this.io.close(this.fd, (this.onClosedBound ??= (): void => this.onClosed()));
  }

  // ---- Input -----------------------------------------------------------------

  private isIdle(): boolean {
    return (
      !this.sendPending && this.backLength() === 0 && !this.busy && !this.lingering &&
      this.betweenRequests() && this.recvStart === this.recvEnd
    );
  }

  private onRecvPooled(error: IOError | null, n: number, buffer: Uint8Array | null): void {
    if (buffer !== null) {
      if (this.closed || this.lingering) {
        this.buffers.recvPool.release(buffer); // bytes nobody will parse
      } else {
        // Parsed where the IO put them; process() gives the buffer back.
        this.pooled = buffer;
        this.recvBuffer = this.buffers.recvViews[buffer.byteOffset / this.buffers.recvPool.size];
        this.recvStart = this.recvEnd = 0;
      }
    }
    this.onRecv(error, n);
  }

  private onRecv(error: IOError | null, n: number): void {
    this.opsPending--;
    this.recvPending = false;
    if (this.closed) return this.maybeRelease();
    if (error !== null) return this.closeNow(); // ECONNRESET and friends: nothing left to answer
    if (this.lingering) {
      this.lingerBytes += n;
      if (n === 0 || this.lingerBytes > limits.LINGER_BYTES) return this.closeNow();
      this.setDeadline(Math.min(this.lingerEnd, this.host.nowMs() + limits.LINGER_QUIET_MS));
      this.recvLinger();
      return;
    }
    if (n === 0) {
      // The peer finished sending (maybe a half-close): answer what is
      // complete, then close.
      this.peerEnded = true;
    } else {
      this.recvEnd += n;
      this.lastActivity = this.host.nowMs();
    }
    this.process();
  }

  /** Parses and answers what the buffer holds, flushes, and decides the next recv and deadline. */
  private process(): void {
    // No parser is taken for nothing to parse (a fresh connection, a flush).
    const parser = this.parser ?? (this.recvStart < this.recvEnd ? this.takeParser() : null);
    while (parser !== null && !this.busy && !this.closeAfterFlush && !this.closed && this.backLength() < limits.OUTPUT_HIGH_WATER) {
      const consumed = parser.execute(this.recvBuffer, this.recvStart, this.recvEnd);
      this.recvStart += consumed;
      const result = parser.result;
      if (result === REQUEST) {
        this.requestStart = -1;
        this.handle(parser.request!);
      } else if (result === CONTINUE) {
        // RFC 9110 §10.1.1: a server MAY omit 100 Continue once body bytes
        // have arrived. The client is sending already; an interim response
        // then only costs bytes (and confuses clients that did not wait).
        if (this.recvStart === this.recvEnd) this.back.writeBytes(CONTINUE_BYTES);
      } else if (result === ERROR) {
        this.respondError(parser.errorStatus, true);
        break;
      } else {
        break; // NEED_MORE
      }
    }
    if (this.pooled !== null) this.keepOwnBytes();
    if (this.closed) return;
    if (this.recvStart === this.recvEnd) this.recvStart = this.recvEnd = 0;
    const waiting = !this.busy && !this.closeAfterFlush && (parser === null || parser.result !== REQUEST);
    if (waiting && (this.peerEnded || (this.host.draining && this.betweenRequests() && this.recvStart === this.recvEnd))) {
      this.closeAfterFlush = true; // nothing more will come, or none is wanted
    }
    if (this.requestStart < 0 && this.recvStart < this.recvEnd) this.requestStart = this.host.nowMs();
    this.flush();
    if (this.closed) return;
    if (waiting && !this.closeAfterFlush && !this.recvPending && this.backLength() < limits.OUTPUT_HIGH_WATER) this.recv();
    this.updateDeadline();
  }

  /**
   * Gives the pool's buffer back, keeping what is left unparsed (a request
   * that spans receives, or pipelined ones waiting their turn) in a buffer
   * of the connection's own.
   */
  private keepOwnBytes(): void {
    const view = this.recvBuffer;
    if (this.recvStart < this.recvEnd && !this.closed) {
      const own = this.buffers.recvStock.take();
      view.copy(own, 0, this.recvStart, this.recvEnd);
      this.recvEnd -= this.recvStart;
      this.recvStart = 0;
      this.recvBuffer = own;
    } else {
      this.recvStart = this.recvEnd = 0;
      this.recvBuffer = NO_BYTES;
    }
    const pooled = this.pooled!;
    this.pooled = null;
    this.buffers.recvPool.release(pooled);
  }

  private betweenRequests(): boolean {
    return this.parser === null || this.parser.betweenRequests;
  }

  private takeParser(): RequestParser {
    const parser = this.buffers.parsers.pop() ?? new RequestParser(this.host.parserLimits);
    parser.reset();
    this.parser = parser;
    return parser;
  }

  /**
   * Gives the parser back between requests (its state then is a fresh
   * one's), or always (`always`: a connection starting anew). The request
   * it made goes with it.
   */
  private dropParser(always: boolean): void {
    const parser = this.parser;
    if (parser === null || (!always && !parser.betweenRequests)) return;
    this.parser = null;
    this.request = null;
    parser.reset();
    if (this.buffers.parsers.length < PARSERS_KEPT_MAX) this.buffers.parsers.push(parser);
  }

  /** The buffer responses are written to (taken from the IO's spares on first use). */
  private get back(): OutBuffer {
    return (this.backOut ??= this.buffers.outBuffers.pop() ?? new OutBuffer(limits.OUTPUT_BUFFER_BYTES, this.buffers.outStock));
  }

  private backLength(): number {
    return this.backOut === null ? 0 : this.backOut.length;
  }

  /** Gives back the output buffers that hold nothing (none is being sent). */
  private dropOutput(): void {
    const spares = this.buffers.outBuffers;
    const front = this.frontOut;
    if (front !== null && front.length === 0) {
      front.release();
      if (spares.length < PARSERS_KEPT_MAX) spares.push(front);
      this.frontOut = null;
    }
    const back = this.backOut;
    if (back !== null && back.length === 0) {
      back.release();
      if (spares.length < PARSERS_KEPT_MAX) spares.push(back);
      this.backOut = null;
    }
  }

  /** Gives the connection's own receive buffer back to the stock (it holds nothing unparsed). */
  private dropRecvBuffer(): void {
    if (this.recvBuffer === NO_BYTES) return;
    this.buffers.recvStock.give(this.recvBuffer);
    this.recvBuffer = NO_BYTES;
  }

  private recv(): void {
    if (this.recvStart === this.recvEnd) {
      // Nothing of a request kept: the next bytes go into a buffer the IO
      // takes from the pool when they arrive, so a waiting connection holds
      // none, nor a parser between requests.
      this.dropRecvBuffer();
      if (!this.busy) this.dropParser(false);
      this.recvPending = true;
      this.opsPending++;
      this.io.recvPooled(this.fd, this.buffers.recvPool, this.onRecvPooledBound);
      return;
    }
    const buffer = this.recvBuffer;
    if (this.recvStart > 0 && buffer.length - this.recvEnd < 4096) {
      buffer.copyWithin(0, this.recvStart, this.recvEnd);
      this.recvEnd -= this.recvStart;
      this.recvStart = 0;
    }
    // The parser fails a head longer than maxHeaderBytes, and the buffer is
    // longer than that: there is always room here.
    this.recvPending = true;
    this.opsPending++;
    // The whole buffer itself when it is empty (the usual case between
    // keep-alive requests): no view allocated per recv.
    this.io.recv(this.fd, this.recvEnd === 0 ? buffer : buffer.subarray(this.recvEnd), (this.onRecvBound ??= (error: IOError | null, n: number): void => this.onRecv(error, n)));
  }

  // ---- Requests and responses --------------------------------------------------

  private handle(request: HttpRequest): void {
    const keepAlive = request.keepAlive && !this.host.draining && !this.peerEnded;
    this.mode = !keepAlive ? MODE_CLOSE : request.versionMinor === 0 ? MODE_KEEP_ALIVE : MODE_DEFAULT;
    this.request = request;
    route(request, this.host.routes, this);
    if (!keepAlive) {
      this.closeAfterFlush = true;
      // Bytes after a last request were not read by anyone: close gently.
      if (this.recvStart < this.recvEnd) this.lingerAfterFlush = true;
    }
  }

  canned(response: CannedResponse): void {
    this.back.writeBytes(response.get(this.request!.method === 'HEAD', this.mode));
  }

  respond(status: number, contentType: string | null, body: Uint8Array, extraHeaders = ''): void {
    writeHead(this.back, status, this.host.clock.value, contentType, body.length, this.mode, extraHeaders);
    if (this.request!.method !== 'HEAD') this.back.writeBytes(body);
  }

  /** An error that ends the connection: status, `Connection: close`, then close (lingering when input may still arrive). */
  private respondError(status: number, linger: boolean): void {
    const body = Buffer.from(`${STATUS_TEXT[status] ?? 'Error'}\n`);
    writeHead(this.back, status, this.host.clock.value, TEXT, body.length, MODE_CLOSE);
    this.back.writeBytes(body);
    this.closeAfterFlush = true;
    this.lingerAfterFlush = linger;
  }

  file(urlPath: string, query: string, fallback: CannedResponse | null): void {
    const root = this.host.root!;
    // What the response needs from the request, read now: the request
    // object is the parser's, valid until it parses the next one.
    const method = this.request!.method;
    const fields = conditionalFields(this.request!.headers);
    const mode = this.mode;
    this.busy = true;
    this.opsPending++;
    openStatic(this.io, root, urlPath, (result) => {
      this.opsPending--;
      if (this.closed) {
        if (result.status === 200) {
          this.opsPending++;
          this.io.close(result.file.fd, (this.onFileClosedBound ??= (): void => this.opDone()));
        }
        return this.maybeRelease();
      }
      this.busy = false;
      if (result.status === 200) this.startFile(method, fields, result.file, mode);
      else if (result.status === 404 && fallback !== null) this.back.writeBytes(fallback.get(method === 'HEAD', mode));
      else if (result.status === 301) this.staticStatus(method, 301, mode, `Location: ${urlPath}/${query}\r\n`);
      else this.staticStatus(method, result.status, mode, '');
      this.process();
    });
  }

  /** A static response without the file's bytes: its status text as the body. */
  private staticStatus(method: string, status: number, mode: ConnectionMode, extra: string): void {
    const body = Buffer.from(`${STATUS_TEXT[status]}\n`);
    writeHead(this.back, status, this.host.clock.value, TEXT, body.length, mode, extra);
    if (method !== 'HEAD') this.back.writeBytes(body);
  }

  /** Validators, conditional GET and ranges (http/conditional.ts), then the head and, unless HEAD/304/416, the bytes. */
  private startFile(method: string, fields: ConditionalFields, file: OpenedFile, mode: ConnectionMode): void {
    const v = validatorsOf(file.size, file.mtimeMs);
    const cacheControl = this.host.options.cacheControl;
    const validators =
      `ETag: ${v.etag}\r\nLast-Modified: ${v.lastModified}\r\n` + (cacheControl === null ? '' : `Cache-Control: ${cacheControl}\r\n`);
    const decision = decide(method, fields, file.size, v);
    const date = this.host.clock.value;
    let start = 0;
    let length = 0;
    switch (decision.status) {
      case 304:
        // No Content-Type, no Content-Length: a 304 describes the stored
        // response, it carries none (RFC 9110 §15.4.5).
        writeHead(this.back, 304, date, null, -1, mode, validators);
        break;
      case 416: {
        const body = Buffer.from(`${STATUS_TEXT[416]}\n`);
        writeHead(this.back, 416, date, TEXT, body.length, mode, `Content-Range: bytes */${file.size}\r\n`);
        if (method !== 'HEAD') this.back.writeBytes(body);
        break;
      }
      case 206:
        start = decision.start;
        length = decision.end - decision.start + 1;
        writeHead(this.back, 206, date, file.contentType, length, mode,
          `Accept-Ranges: bytes\r\nContent-Range: bytes ${decision.start}-${decision.end}/${file.size}\r\n${validators}`);
        break;
      default:
        length = file.size;
        writeHead(this.back, 200, date, file.contentType, length, mode, `Accept-Ranges: bytes\r\n${validators}`);
    }
    if (method === 'HEAD' || length === 0) {
      this.opsPending++;
      this.io.close(file.fd, (this.onFileClosedBound ??= (): void => this.opDone()));
      return;
    }
    this.busy = true;
    this.fileFd = file.fd;
    this.filePosition = start;
    this.fileRemaining = length;
    // Corked from the head to the file's last byte, as nginx's tcp_nopush:
    // the head leaves in the file's first segment and every sendFile's tail
    // waits for the next one's bytes instead of going as a short segment.
    this.setCork(true);
  }

  /** Corks or uncorks the socket. Only an optimization: a socket that refuses (the peer reset it) is left as it is. */
  private setCork(on: boolean): void {
    try {
      this.io.setCork(this.fd, on);
    } catch {
      // The send or sendFile that follows reports what went wrong.
    }
  }

  /** The file's next bytes, from the kernel straight to the socket (after the head: the send queue keeps them in order). */
  private sendFileBytes(): void {
    this.fileSendPending = true;
    this.opsPending++;
    this.lastProgress = this.host.nowMs();
    this.io.sendFile(this.fd, this.fileFd, this.filePosition, this.fileRemaining, (this.onFileSentBound ??= (error: IOError | null, n: number): void => this.onFileSent(error, n)));
  }

  private onFileSent(error: IOError | null, n: number): void {
    this.opsPending--;
    this.fileSendPending = false;
    if (this.closed) {
      if (this.fileFd >= 0) this.closeFile();
      return this.maybeRelease();
    }
    if (error !== null) return this.closeNow(); // EPIPE, ECONNRESET: the client is gone
    if (n === 0) {
      // The file shrank under us: the promised Content-Length cannot be
      // kept, so the connection must end here.
      return this.closeNow();
    }
    this.filePosition += n;
    this.fileRemaining -= n;
    this.lastProgress = this.host.nowMs();
    if (this.fileRemaining === 0) {
      this.setCork(false); // the file's last segment leaves now
      this.closeFile();
      this.busy = false;
      this.process();
    } else {
      this.flush();
      this.updateDeadline();
    }
  }

  private closeFile(): void {
    this.opsPending++;
    this.io.close(this.fileFd, (this.onFileClosedBound ??= (): void => this.opDone()));
    this.fileFd = -1;
  }

  // ---- Output -------------------------------------------------------------------

  private flush(): void {
    if (this.sendPending || this.closed) return;
    if (this.backLength() > 0) {
      const sending = this.backOut!;
      this.backOut = this.frontOut;
      this.frontOut = sending;
      this.sendOffset = 0;
      this.sendLength = sending.length;
      this.lastProgress = this.host.nowMs();
      this.send();
      return;
    }
    if (this.fileFd >= 0) {
      // The head has gone (a partial send of it is finished first): the bytes now.
      if (!this.fileSendPending) this.sendFileBytes();
      return;
    }
    if (this.closeAfterFlush && !this.busy) this.finishClose();
  }

  private send(): void {
    this.sendPending = true;
    this.opsPending++;
    this.io.send(this.fd, this.frontOut!.view(this.sendOffset, this.sendLength), this.onSendBound);
  }

  private onSend(error: IOError | null, n: number): void {
    this.opsPending--;
    this.sendPending = false;
    if (this.closed) return this.maybeRelease();
    if (error !== null) return this.closeNow(); // EPIPE, ECONNRESET: the client is gone
    this.sendOffset += n;
    this.lastProgress = this.host.nowMs();
    if (this.sendOffset < this.sendLength) {
      this.send(); // partial send: the rest, from where the kernel stopped
      this.updateDeadline();
      return;
    }
    this.frontOut!.length = 0;
    if (this.fileFd < 0) this.dropOutput();
    this.lastActivity = this.lastProgress;
    if (this.busy) {
      this.flush();
      this.updateDeadline();
    } else {
      this.process();
    }
  }

  private finishClose(): void {
    if (!this.lingerAfterFlush) return this.closeNow();
    // Closing with unread input makes the kernel send RST, which can destroy
    // the response before the client reads it. A lingering close instead:
    // shut down our sending side (the client reads end of stream right
    // after the response, and closes), then read and drop input until the
    // peer closes, for a bounded time and number of bytes, then close.
    try {
      this.io.shutdown(this.fd, 'send');
    } catch {
      return this.closeNow(); // the peer is gone already (ENOTCONN, ECONNRESET)
    }
    const now = this.host.nowMs();
    this.lingering = true;
    this.lingerBytes = 0;
    this.lingerEnd = now + Math.min(limits.LINGER_MS, this.host.options.idleTimeoutMs);
    this.setDeadline(Math.min(this.lingerEnd, now + limits.LINGER_QUIET_MS));
    if (!this.recvPending) this.recvLinger();
  }

  private recvLinger(): void {
    this.recvPending = true;
    this.opsPending++;
    this.io.recvPooled(this.fd, this.buffers.recvPool, this.onRecvPooledBound);
  }

  private onClosed(): void {
    this.opsPending--;
    this.host.socketClosed(this);
    this.maybeRelease();
  }

  private opDone(): void {
    this.opsPending--;
    this.maybeRelease();
  }

  private maybeRelease(): void {
    if (this.closed && this.opsPending === 0 && this.fd !== -1) {
      this.fd = -1;
      this.host.released(this);
    }
  }

  // ---- Timeouts -------------------------------------------------------------------

  private updateDeadline(): void {
    if (this.closed || this.lingering) return;
    const options = this.host.options;
    let at: number;
    if (this.sendPending || this.busy) at = this.lastProgress + options.sendTimeoutMs;
    else if (this.parser !== null && this.parser.inBody) at = this.lastActivity + options.idleTimeoutMs;
    else if (this.recvStart < this.recvEnd) at = this.requestStart + options.headerTimeoutMs;
    else at = this.lastActivity + options.idleTimeoutMs;
    this.setDeadline(at);
  }

  private setDeadline(at: number): void {
    this.deadline = at;
    const timeouts = this.host.timeouts;
    // Queued to be looked at no later than `at`: it will be, and re-queued
    // then for what remains (the hot path: nothing to do here).
    if (at === Infinity || timeouts.covers(this, at)) return;
    timeouts.schedule(this, at);
  }

  /** The queue's call: expire if the deadline has passed, else queue again for it. */
  onTimeout(now: number): void {
    if (this.closed || this.deadline === Infinity) return;
    if (now < this.deadline) {
      this.host.timeouts.schedule(this, this.deadline);
      return;
    }
    this.expire();
  }

  private expire(): void {
    if (this.lingering || this.sendPending || this.busy) return this.closeNow();
    if ((this.parser !== null && this.parser.inBody) || this.recvStart < this.recvEnd) {
      // Slowloris, or a body that stalled: 408, then close.
      this.respondError(408, false);
      this.flush();
      this.updateDeadline();
      return;
    }
    this.closeNow(); // idle keep-alive connection
  }
}

