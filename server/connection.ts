// One client connection: a state machine driven by IO callbacks.
//
//   recv -> parse (pipelined requests, in order) -> route -> output buffer
//        -> one send per batch (partial sends resumed) -> recv again
//
// A connection that waits for its next request is small: its fd, its
// deadline and place in the timeout queue, and the callback of its pending
// receive (a pooled receive: no buffer until bytes arrive). Everything a
// request in progress needs (its bytes, the parser, the output buffers,
// the static file, the lingering close) is in a work state
// (connection-work.ts) taken from the IO's spares when bytes arrive and
// given back when the connection waits again. Both kinds of object are
// reused, so a keep-alive request allocates only what the parser makes (the
// request object and its field strings).
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
import type { IO, IOError, PooledCallback } from '../io';
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
import { ConnectionWork, NO_BYTES, type WorkHandlers } from './connection-work';
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
/** A connection's work state (connection-work.ts). */
type Work = ConnectionWork<Connection>;
/** Work states kept for reuse by an IO's connections (one in use per connection with something in progress). */
const WORK_KEPT_MAX = 256;
/** `deadline` when there is none. */
const NO_DEADLINE = -1;

export class Connection implements Responder, TimeoutEntry {
  fd = -1;
  closed = true;
  /** Owned by the host (the worker's place for it in its list of connections). */
  hostIndex = -1;
  /** Owned by the worker's TimeoutQueue (see timeouts.ts). */
  timeoutIndex = -1;
  timeoutAt = 0;
  private recvPending = false;
  /** Callbacks (IO operations, static-file lookups) this object is still owed. */
  private opsPending = 0;
  /**
   * When the connection expires, in whole performance.now() milliseconds
   * (rounded down: never later than the limit), or NO_DEADLINE. Whole
   * numbers are V8 small integers, stored in the object itself; a
   * fraction would be a heap number per connection.
   */
  private deadline = NO_DEADLINE;
  /** What a request or close in progress holds; null while the connection waits for a request. */
  private work: Work | null = null;
  private readonly buffers: ConnectionBuffers;
  /** The pooled receive's callback: the only one a waiting connection carries (bound: no closure context). */
  private readonly onRecvPooledBound: PooledCallback;

  constructor(private readonly host: ConnectionHost) {
    // Shared by the IO's connections: an idle one holds no buffer.
    this.buffers = connectionBuffers(host.io, host.parserLimits, limits.OUTPUT_BUFFER_BYTES);
    this.onRecvPooledBound = this.onRecvPooled.bind(this);
  }

  /** The work-state callbacks' targets (connection-work.ts): one set for every connection. */
  private static readonly handlers: WorkHandlers<Connection> = {
    recv: (connection, error, n) => connection.onRecv(error, n),
    sent: (connection, error, n) => connection.onSend(error, n),
    fileSent: (connection, error, n) => connection.onFileSent(error, n),
    fileClosed: (connection) => connection.opDone(),
    closed: (connection) => connection.onClosed(),
  };

  /** Starts serving a freshly accepted socket. */
  open(fd: number): void {
    this.fd = fd;
    this.closed = false;
    this.deadline = NO_DEADLINE;
    // Shutdown began: nothing will be answered.
    if (this.host.draining) return this.closeNow();
    this.recvWaiting();
    this.setDeadline(this.host.nowMs() + this.host.options.idleTimeoutMs);
  }

  /** Graceful shutdown: close now if idle, else after the request in progress. */
  drain(): void {
    if (this.closed) return;
    const work = this.work;
    if (work === null || this.isIdle(work)) this.closeNow();
    else if (betweenRequests(work) && work.recvStart === work.recvEnd && !work.busy) work.closeAfterFlush = true;
  }

  /** Closes the socket now (responses not yet sent are dropped). */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.timeouts.remove(this);
    // The close's callback is a work state's: one is held until the object is released.
    const work = this.work ?? this.takeWork();
    // A sendFile in flight still reads the file: its callback (ECANCELED, by
    // the socket's close) closes the file after it.
    if (work.fileFd >= 0 && !work.fileSendPending) this.closeFile(work);
    this.opsPending++;
    this.host.io.close(this.fd, work.onClosed);
  }

  // ---- Work state ------------------------------------------------------------

  private takeWork(): Work {
    // The spares are the IO's, shared by all its connections (connection-buffers.ts), which knows no Connection.
    const work = (this.buffers.works.pop() as Work | undefined) ?? new ConnectionWork<Connection>(Connection.handlers);
    work.owner = this;
    // Activity and progress are counted from now: the deadlines that follow are measured from them.
    work.lastActivity = work.lastProgress = this.host.nowMs();
    this.work = work;
    return work;
  }

  /** Gives the work state back, and with it whatever it holds of the IO's (a receive buffer, output memory). */
  private giveWorkBack(work: Work): void {
    this.dropParser(work, true);
    if (work.frontOut !== null) work.frontOut.length = 0;
    if (work.backOut !== null) work.backOut.length = 0;
    this.dropOutput(work);
    this.dropRecvBuffer(work);
    work.clear();
    this.work = null;
    const spares = this.buffers.works;
    if (spares.length < WORK_KEPT_MAX) spares.push(work);
  }

  /**
   * The connection waits for its next request with nothing kept, nothing
   * to send and its pooled receive pending: the work state goes back (its
   * deadline, the idle one, is set already). Not while a callback other than
   * the receive's is owed (a file's close): those are the work state's.
   */
  private maybeRest(work: Work): void {
    if (
      this.closed || !this.recvPending || this.opsPending !== 1 || work.parser !== null || work.recvBuffer !== NO_BYTES ||
      work.sendPending || work.busy || work.fileFd >= 0 || work.lingering || work.closeAfterFlush || work.peerEnded ||
      backLength(work) > 0 || (work.frontOut !== null && work.frontOut.length > 0)
    ) {
      return;
    }
    this.giveWorkBack(work);
  }

  // ---- Input -----------------------------------------------------------------

  private isIdle(work: Work): boolean {
    return (
      !work.sendPending && backLength(work) === 0 && !work.busy && !work.lingering &&
      betweenRequests(work) && work.recvStart === work.recvEnd
    );
  }

  private onRecvPooled(error: IOError | null, n: number, buffer: Uint8Array | null): void {
    if (buffer !== null) {
      const held = this.work;
      if (this.closed || (held !== null && held.lingering)) {
        this.buffers.recvPool.release(buffer); // bytes nobody will parse
      } else {
        // Parsed where the IO put them; process() gives the buffer back.
        const work = held ?? this.takeWork();
        work.pooled = buffer;
        work.recvBuffer = this.buffers.recvViews[buffer.byteOffset / this.buffers.recvPool.size];
        work.recvStart = work.recvEnd = 0;
      }
    }
    this.onRecv(error, n);
  }

  private onRecv(error: IOError | null, n: number): void {
    this.opsPending--;
    this.recvPending = false;
    if (this.closed) return this.maybeRelease();
    if (error !== null) return this.closeNow(); // ECONNRESET and friends: nothing left to answer
    // A waiting connection's receive came back empty (the peer finished): work to do all the same.
    const work = this.work ?? this.takeWork();
    if (work.lingering) {
      work.lingerBytes += n;
      if (n === 0 || work.lingerBytes > limits.LINGER_BYTES) return this.closeNow();
      this.setDeadline(Math.min(work.lingerEnd, this.host.nowMs() + limits.LINGER_QUIET_MS));
      this.recvLinger();
      return;
    }
    if (n === 0) {
      // The peer finished sending (maybe a half-close): answer what is
      // complete, then close.
      work.peerEnded = true;
    } else {
      work.recvEnd += n;
      work.lastActivity = this.host.nowMs();
    }
    this.process(work);
  }

  /** Parses and answers what the buffer holds, flushes, and decides the next recv and deadline. */
  private process(work: Work): void {
    // No parser is taken for nothing to parse (a flush).
    const parser = work.parser ?? (work.recvStart < work.recvEnd ? this.takeParser(work) : null);
    while (parser !== null && !work.busy && !work.closeAfterFlush && !this.closed && backLength(work) < limits.OUTPUT_HIGH_WATER) {
      const consumed = parser.execute(work.recvBuffer, work.recvStart, work.recvEnd);
      work.recvStart += consumed;
      const result = parser.result;
      if (result === REQUEST) {
        work.requestStart = -1;
        this.handle(work, parser.request!);
      } else if (result === CONTINUE) {
        // RFC 9110 §10.1.1: a server MAY omit 100 Continue once body bytes
        // have arrived. The client is sending already; an interim response
        // then only costs bytes (and confuses clients that did not wait).
        if (work.recvStart === work.recvEnd) this.back(work).writeBytes(CONTINUE_BYTES);
      } else if (result === ERROR) {
        this.respondError(work, parser.errorStatus, true);
        break;
      } else {
        break; // NEED_MORE
      }
    }
    if (work.pooled !== null) this.keepOwnBytes(work);
    if (this.closed) return;
    if (work.recvStart === work.recvEnd) work.recvStart = work.recvEnd = 0;
    const waiting = !work.busy && !work.closeAfterFlush && (parser === null || parser.result !== REQUEST);
    if (waiting && (work.peerEnded || (this.host.draining && betweenRequests(work) && work.recvStart === work.recvEnd))) {
      work.closeAfterFlush = true; // nothing more will come, or none is wanted
    }
    if (work.requestStart < 0 && work.recvStart < work.recvEnd) work.requestStart = this.host.nowMs();
    this.flush(work);
    if (this.closed) return;
    if (waiting && !work.closeAfterFlush && !this.recvPending && backLength(work) < limits.OUTPUT_HIGH_WATER) this.recv(work);
    this.updateDeadline(work);
    this.maybeRest(work);
  }

  /**
   * Gives the pool's buffer back, keeping what is left unparsed (a request
   * that spans receives, or pipelined ones waiting their turn) in a buffer
   * of the connection's own.
   */
  private keepOwnBytes(work: Work): void {
    const view = work.recvBuffer;
    if (work.recvStart < work.recvEnd && !this.closed) {
      const own = this.buffers.recvStock.take();
      view.copy(own, 0, work.recvStart, work.recvEnd);
      work.recvEnd -= work.recvStart;
      work.recvStart = 0;
      work.recvBuffer = own;
    } else {
      work.recvStart = work.recvEnd = 0;
      work.recvBuffer = NO_BYTES;
    }
    const pooled = work.pooled!;
    work.pooled = null;
    this.buffers.recvPool.release(pooled);
  }

  private takeParser(work: Work): RequestParser {
    const parser = (work.ownParser ??= new RequestParser(this.host.parserLimits));
    parser.reset();
    work.parser = parser;
    return parser;
  }

  /**
   * Puts the parser aside between requests (its state then is a fresh
   * one's), or always (`always`: the work state goes back). The request it
   * made goes with it.
   */
  private dropParser(work: Work, always: boolean): void {
    const parser = work.parser;
    if (parser === null || (!always && !parser.betweenRequests)) return;
    work.parser = null;
    work.request = null;
    parser.reset();
  }

  /** The buffer responses are written to (its memory taken from the IO's stock on first write). */
  private back(work: Work): OutBuffer {
    return (work.backOut ??= new OutBuffer(limits.OUTPUT_BUFFER_BYTES, this.buffers.outStock));
  }

  /** Gives the memory of the output buffers that hold nothing (none is being sent) back to the stock. */
  private dropOutput(work: Work): void {
    const front = work.frontOut;
    if (front !== null && front.length === 0) front.release();
    const back = work.backOut;
    if (back !== null && back.length === 0) back.release();
  }

  /** Gives the connection's own receive buffer back to the stock (it holds nothing unparsed). */
  private dropRecvBuffer(work: Work): void {
    if (work.recvBuffer === NO_BYTES) return;
    this.buffers.recvStock.give(work.recvBuffer);
    work.recvBuffer = NO_BYTES;
  }

  /** The pooled receive of a connection that keeps no bytes: the next bytes go into a buffer the IO takes from the pool when they arrive. */
  private recvWaiting(): void {
    this.recvPending = true;
    this.opsPending++;
    this.host.io.recvPooled(this.fd, this.buffers.recvPool, this.onRecvPooledBound);
  }

  private recv(work: Work): void {
    if (work.recvStart === work.recvEnd) {
      // Nothing of a request kept: a waiting connection holds no buffer,
      // nor a parser between requests.
      this.dropRecvBuffer(work);
      if (!work.busy) this.dropParser(work, false);
      this.recvWaiting();
      return;
    }
    const buffer = work.recvBuffer;
    if (work.recvStart > 0 && buffer.length - work.recvEnd < 4096) {
      buffer.copyWithin(0, work.recvStart, work.recvEnd);
      work.recvEnd -= work.recvStart;
      work.recvStart = 0;
    }
    // The parser fails a head longer than maxHeaderBytes, and the buffer is
    // longer than that: there is always room here.
    this.recvPending = true;
    this.opsPending++;
    this.host.io.recv(this.fd, buffer.subarray(work.recvEnd), work.onRecv);
  }

  // ---- Requests and responses --------------------------------------------------

  private handle(work: Work, request: HttpRequest): void {
    const keepAlive = request.keepAlive && !this.host.draining && !work.peerEnded;
    work.mode = !keepAlive ? MODE_CLOSE : request.versionMinor === 0 ? MODE_KEEP_ALIVE : MODE_DEFAULT;
    work.request = request;
    route(request, this.host.routes, this);
    if (!keepAlive) {
      work.closeAfterFlush = true;
      // Bytes after a last request were not read by anyone: close gently.
      if (work.recvStart < work.recvEnd) work.lingerAfterFlush = true;
    }
  }

  canned(response: CannedResponse): void {
    const work = this.work!;
    this.back(work).writeBytes(response.get(work.request!.method === 'HEAD', work.mode));
  }

  respond(status: number, contentType: string | null, body: Uint8Array, extraHeaders = ''): void {
    const work = this.work!;
    const back = this.back(work);
    writeHead(back, status, this.host.clock.value, contentType, body.length, work.mode, extraHeaders);
    if (work.request!.method !== 'HEAD') back.writeBytes(body);
  }

  /** An error that ends the connection: status, `Connection: close`, then close (lingering when input may still arrive). */
  private respondError(work: Work, status: number, linger: boolean): void {
    const body = Buffer.from(`${STATUS_TEXT[status] ?? 'Error'}\n`);
    const back = this.back(work);
    writeHead(back, status, this.host.clock.value, TEXT, body.length, MODE_CLOSE);
    back.writeBytes(body);
    work.closeAfterFlush = true;
    work.lingerAfterFlush = linger;
  }

  file(urlPath: string, query: string, fallback: CannedResponse | null): void {
    const work = this.work!;
    const root = this.host.root!;
    // What the response needs from the request, read now: the request
    // object is the parser's, valid until it parses the next one.
    const method = work.request!.method;
    const fields = conditionalFields(work.request!.headers);
    const mode = work.mode;
    work.busy = true;
    this.opsPending++;
    openStatic(this.host.io, root, urlPath, (result) => {
      this.opsPending--;
      if (this.closed) {
        if (result.status === 200) {
          this.opsPending++;
          this.host.io.close(result.file.fd, work.onFileClosed);
        }
        return this.maybeRelease();
      }
      work.busy = false;
      if (result.status === 200) this.startFile(work, method, fields, result.file, mode);
      else if (result.status === 404 && fallback !== null) this.back(work).writeBytes(fallback.get(method === 'HEAD', mode));
      else if (result.status === 301) this.staticStatus(work, method, 301, mode, `Location: ${urlPath}/${query}\r\n`);
      else this.staticStatus(work, method, result.status, mode, '');
      this.process(work);
    });
  }

  /** A static response without the file's bytes: its status text as the body. */
  private staticStatus(work: Work, method: string, status: number, mode: ConnectionMode, extra: string): void {
    const body = Buffer.from(`${STATUS_TEXT[status]}\n`);
    const back = this.back(work);
    writeHead(back, status, this.host.clock.value, TEXT, body.length, mode, extra);
    if (method !== 'HEAD') back.writeBytes(body);
  }

  /** Validators, conditional GET and ranges (http/conditional.ts), then the head and, unless HEAD/304/416, the bytes. */
  private startFile(work: Work, method: string, fields: ConditionalFields, file: OpenedFile, mode: ConnectionMode): void {
    const v = validatorsOf(file.size, file.mtimeMs);
    const cacheControl = this.host.options.cacheControl;
    const validators =
      `ETag: ${v.etag}\r\nLast-Modified: ${v.lastModified}\r\n` + (cacheControl === null ? '' : `Cache-Control: ${cacheControl}\r\n`);
    const decision = decide(method, fields, file.size, v);
    const date = this.host.clock.value;
    const back = this.back(work);
    let start = 0;
    let length = 0;
    switch (decision.status) {
      case 304:
        // No Content-Type, no Content-Length: a 304 describes the stored
        // response, it carries none (RFC 9110 §15.4.5).
        writeHead(back, 304, date, null, -1, mode, validators);
        break;
      case 416: {
        const body = Buffer.from(`${STATUS_TEXT[416]}\n`);
        writeHead(back, 416, date, TEXT, body.length, mode, `Content-Range: bytes */${file.size}\r\n`);
        if (method !== 'HEAD') back.writeBytes(body);
        break;
      }
      case 206:
        start = decision.start;
        length = decision.end - decision.start + 1;
        writeHead(back, 206, date, file.contentType, length, mode,
          `Accept-Ranges: bytes\r\nContent-Range: bytes ${decision.start}-${decision.end}/${file.size}\r\n${validators}`);
        break;
      default:
        length = file.size;
        writeHead(back, 200, date, file.contentType, length, mode, `Accept-Ranges: bytes\r\n${validators}`);
    }
    if (method === 'HEAD' || length === 0) {
      this.opsPending++;
      this.host.io.close(file.fd, work.onFileClosed);
      return;
    }
    work.busy = true;
    work.fileFd = file.fd;
    work.filePosition = start;
    work.fileRemaining = length;
    // Corked from the head to the file's last byte, as nginx's tcp_nopush:
    // the head leaves in the file's first segment and every sendFile's tail
    // waits for the next one's bytes instead of going as a short segment.
    this.setCork(true);
  }

  /** Corks or uncorks the socket. Only an optimization: a socket that refuses (the peer reset it) is left as it is. */
  private setCork(on: boolean): void {
    try {
      this.host.io.setCork(this.fd, on);
    } catch {
      // The send or sendFile that follows reports what went wrong.
    }
  }

  /** The file's next bytes, from the kernel straight to the socket (after the head: the send queue keeps them in order). */
  private sendFileBytes(work: Work): void {
    work.fileSendPending = true;
    this.opsPending++;
    work.lastProgress = this.host.nowMs();
    this.host.io.sendFile(this.fd, work.fileFd, work.filePosition, work.fileRemaining, work.onFileSent);
  }

  private onFileSent(error: IOError | null, n: number): void {
    const work = this.work!;
    this.opsPending--;
    work.fileSendPending = false;
    if (this.closed) {
      if (work.fileFd >= 0) this.closeFile(work);
      return this.maybeRelease();
    }
    if (error !== null) return this.closeNow(); // EPIPE, ECONNRESET: the client is gone
    if (n === 0) {
      // The file shrank under us: the promised Content-Length cannot be
      // kept, so the connection must end here.
      return this.closeNow();
    }
    work.filePosition += n;
    work.fileRemaining -= n;
    work.lastProgress = this.host.nowMs();
    if (work.fileRemaining === 0) {
      this.setCork(false); // the file's last segment leaves now
      this.closeFile(work);
      work.busy = false;
      this.process(work);
    } else {
      this.flush(work);
      this.updateDeadline(work);
    }
  }

  private closeFile(work: Work): void {
    this.opsPending++;
    this.host.io.close(work.fileFd, work.onFileClosed);
    work.fileFd = -1;
  }

  // ---- Output -------------------------------------------------------------------

  private flush(work: Work): void {
    if (work.sendPending || this.closed) return;
    if (backLength(work) > 0) {
      const sending = work.backOut!;
      work.backOut = work.frontOut;
      work.frontOut = sending;
      work.sendOffset = 0;
      work.sendLength = sending.length;
      work.lastProgress = this.host.nowMs();
      this.send(work);
      return;
    }
    if (work.fileFd >= 0) {
      // The head has gone (a partial send of it is finished first): the bytes now.
      if (!work.fileSendPending) this.sendFileBytes(work);
      return;
    }
    if (work.closeAfterFlush && !work.busy) this.finishClose(work);
  }

  private send(work: Work): void {
    work.sendPending = true;
    this.opsPending++;
    this.host.io.send(this.fd, work.frontOut!.view(work.sendOffset, work.sendLength), work.onSent);
  }

  private onSend(error: IOError | null, n: number): void {
    const work = this.work!;
    this.opsPending--;
    work.sendPending = false;
    if (this.closed) return this.maybeRelease();
    if (error !== null) return this.closeNow(); // EPIPE, ECONNRESET: the client is gone
    work.sendOffset += n;
    work.lastProgress = this.host.nowMs();
    if (work.sendOffset < work.sendLength) {
      this.send(work); // partial send: the rest, from where the kernel stopped
      this.updateDeadline(work);
      return;
    }
    work.frontOut!.length = 0;
    if (work.fileFd < 0) this.dropOutput(work);
    work.lastActivity = work.lastProgress;
    if (work.busy) {
      this.flush(work);
      this.updateDeadline(work);
    } else {
      this.process(work);
    }
  }

  private finishClose(work: Work): void {
    if (!work.lingerAfterFlush) return this.closeNow();
    // Closing with unread input makes the kernel send RST, which can destroy
    // the response before the client reads it. A lingering close instead:
    // shut down our sending side (the client reads end of stream right
    // after the response, and closes), then read and drop input until the
    // peer closes, for a bounded time and number of bytes, then close.
    try {
      this.host.io.shutdown(this.fd, 'send');
    } catch {
      return this.closeNow(); // the peer is gone already (ENOTCONN, ECONNRESET)
    }
    const now = this.host.nowMs();
    work.lingering = true;
    work.lingerBytes = 0;
    work.lingerEnd = now + Math.min(limits.LINGER_MS, this.host.options.idleTimeoutMs);
    this.setDeadline(Math.min(work.lingerEnd, now + limits.LINGER_QUIET_MS));
    if (!this.recvPending) this.recvLinger();
  }

  private recvLinger(): void {
    this.recvPending = true;
    this.opsPending++;
    this.host.io.recvPooled(this.fd, this.buffers.recvPool, this.onRecvPooledBound);
  }

  private onClosed(): void {
    this.opsPending--;
    this.host.socketClosed(this);
    this.maybeRelease();
  }

  private opDone(): void {
    this.opsPending--;
    if (this.closed) this.maybeRelease();
    else this.maybeRest(this.work!);
  }

  private maybeRelease(): void {
    if (this.closed && this.opsPending === 0 && this.fd !== -1) {
      this.fd = -1;
      this.recvPending = false;
      this.deadline = NO_DEADLINE;
      if (this.work !== null) this.giveWorkBack(this.work);
      this.host.released(this);
    }
  }

  // ---- Timeouts -------------------------------------------------------------------

  private updateDeadline(work: Work): void {
    if (this.closed || work.lingering) return;
    const options = this.host.options;
    let at: number;
    if (work.sendPending || work.busy) at = work.lastProgress + options.sendTimeoutMs;
    else if (work.parser !== null && work.parser.inBody) at = work.lastActivity + options.idleTimeoutMs;
    else if (work.recvStart < work.recvEnd) at = work.requestStart + options.headerTimeoutMs;
    else at = work.lastActivity + options.idleTimeoutMs;
    this.setDeadline(at);
  }

  private setDeadline(at: number): void {
    const deadline = Math.floor(at);
    this.deadline = deadline;
    const timeouts = this.host.timeouts;
    // Queued to be looked at no later than the deadline: it will be, and
    // re-queued then for what remains (the hot path: nothing to do here).
    if (timeouts.covers(this, deadline)) return;
    timeouts.schedule(this, deadline);
  }

  /** The queue's call: expire if the deadline has passed, else queue again for it. */
  onTimeout(now: number): void {
    if (this.closed || this.deadline === NO_DEADLINE) return;
    if (now < this.deadline) {
      this.host.timeouts.schedule(this, this.deadline);
      return;
    }
    this.expire();
  }

  private expire(): void {
    const work = this.work;
    if (work === null) return this.closeNow(); // idle keep-alive connection
    if (work.lingering || work.sendPending || work.busy) return this.closeNow();
    if ((work.parser !== null && work.parser.inBody) || work.recvStart < work.recvEnd) {
      // Slowloris, or a body that stalled: 408, then close.
      this.respondError(work, 408, false);
      this.flush(work);
      this.updateDeadline(work);
      return;
    }
    this.closeNow(); // idle keep-alive connection
  }
}

function betweenRequests(work: Work): boolean {
  return work.parser === null || work.parser.betweenRequests;
}

function backLength(work: Work): number {
  return work.backOut === null ? 0 : work.backOut.length;
}
