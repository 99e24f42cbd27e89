// What a connection holds only while it has something in progress: a
// request's bytes and parser, a response being written or sent, a static
// file, a lingering close, the close itself. A keep-alive connection that
// waits for its next request holds none of it (the design's rule 11: an
// idle connection costs what it must and no more): its Connection object is
// a few fields and the callback of its pending receive (connection.ts).
//
// Work states are the IO's (connection-buffers.ts keeps the spares): a
// connection takes one when bytes arrive or it closes, and gives it back
// when it waits again, so a server holds about as many as it has requests
// in progress. The callbacks of the operations made only while working are
// made once per work state, not once per connection; they reach the
// connection through `owner`.
import type { IOError } from '../io';
import type { HttpRequest, RequestParser } from './http/parser';
import { MODE_DEFAULT, type ConnectionMode, type OutBuffer } from './http/response';

/**
 * The work-state callbacks' targets: the connection's own methods
 * (connection.ts). `Owner` is the connection's type, a parameter so that
 * this file, and the IO's spares in connection-buffers.ts, need not know it.
 */
export interface WorkHandlers<Owner> {
  recv(owner: Owner, error: IOError | null, n: number): void;
  sent(owner: Owner, error: IOError | null, n: number): void;
  fileSent(owner: Owner, error: IOError | null, n: number): void;
  fileClosed(owner: Owner): void;
  closed(owner: Owner): void;
}

/** The receive buffer of a state that holds none. */
export const NO_BYTES = Buffer.alloc(0);

export class ConnectionWork<Owner = unknown> {
  /** The connection working with this state, or null while it is a spare. */
  owner: Owner | null = null;
  /**
   * The bytes being parsed: a view of the pool's buffer a pooled receive
   * filled (while its callback runs), or a buffer of the connection's own
   * from the stock (only while a request spans receives), or none.
   */
  recvBuffer: Buffer = NO_BYTES;
  /** The pool's buffer recvBuffer views, until the connection gives it back (before its next receive). */
  pooled: Uint8Array | null = null;
  recvStart = 0;
  recvEnd = 0;
  /** The parser of the request in progress (ownParser), or null between requests. */
  parser: RequestParser | null = null;
  /** Made on first use and kept with this state: parsers are as many as the work states. */
  ownParser: RequestParser | null = null;
  /** Output: `front` is the IO's while a send is in flight; responses go to `back`. Made on first use; their memory is the stock's while they hold bytes. */
  frontOut: OutBuffer | null = null;
  backOut: OutBuffer | null = null;
  sendOffset = 0;
  sendLength = 0;
  sendPending = false;
  peerEnded = false;
  closeAfterFlush = false;
  lingerAfterFlush = false;
  lingering = false;
  lingerBytes = 0;
  lingerEnd = 0;
  /** An asynchronous response (static file) is in progress: later requests wait. */
  busy = false;
  fileFd = -1;
  filePosition = 0;
  fileRemaining = 0;
  /** A sendFile of the file's bytes is in flight. */
  fileSendPending = false;
  /** The request being answered (for HEAD) and its connection mode. */
  request: HttpRequest | null = null;
  mode: ConnectionMode = MODE_DEFAULT;
  requestStart = -1;
  lastActivity = 0;
  lastProgress = 0;

  /** Receive into the connection's own buffer (a request spanning receives). */
  readonly onRecv: (error: IOError | null, n: number) => void;
  readonly onSent: (error: IOError | null, n: number) => void;
  readonly onFileSent: (error: IOError | null, n: number) => void;
  readonly onFileClosed: () => void;
  readonly onClosed: () => void;

  constructor(handlers: WorkHandlers<Owner>) {
    this.onRecv = (error, n) => handlers.recv(this.owner!, error, n);
    this.onSent = (error, n) => handlers.sent(this.owner!, error, n);
    this.onFileSent = (error, n) => handlers.fileSent(this.owner!, error, n);
    this.onFileClosed = () => handlers.fileClosed(this.owner!);
    this.onClosed = () => handlers.closed(this.owner!);
  }

  /**
   * Back to a spare's state. The caller has given back what came from the
   * IO's stocks (the receive buffer, the output memory) and dropped the parser.
   */
  clear(): void {
    this.owner = null;
    this.recvBuffer = NO_BYTES;
    this.pooled = null;
    this.recvStart = this.recvEnd = 0;
    this.parser = null;
    this.sendOffset = this.sendLength = 0;
    this.sendPending = this.peerEnded = this.closeAfterFlush = this.lingerAfterFlush = this.lingering = false;
    this.lingerBytes = this.lingerEnd = 0;
    this.busy = this.fileSendPending = false;
    this.fileFd = -1;
    this.filePosition = this.fileRemaining = 0;
    this.request = null;
    this.mode = MODE_DEFAULT;
    this.requestStart = -1;
  }
}
