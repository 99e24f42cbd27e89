// Default limits of the server. Every one is a flag (see options.ts); these
// are the values a server facing the open internet would start from.
import { IO } from '../io';

/** Request line + header fields + the blank line, in bytes (431 beyond it). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Header fields per request (431 beyond it). */
export const MAX_HEADER_COUNT = 100;
/** Request body, in bytes, after chunked decoding (413 beyond it). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** From the first byte of a request to the end of its header block (408 and close after it). */
export const HEADER_TIMEOUT_MS = 10_000;
/** A keep-alive connection with no request in progress is closed after this long; also the longest pause inside a body. */
export const IDLE_TIMEOUT_MS = 5_000;
/** A response that makes no progress for this long (the client stopped reading) is abandoned and the connection closed. */
export const SEND_TIMEOUT_MS = 30_000;
/** Graceful shutdown: in-flight requests get this long, then every connection is closed. */
export const SHUTDOWN_TIMEOUT_MS = 5_000;
/** Open connections per worker thread; accepting pauses at the limit. */
export const MAX_CONNECTIONS = 10_000;
/**
 * Operations a worker's IO may have in flight per connection (recv, send,
 * file read, file close, socket close, with room to spare), and beside the
 * connections (accepts, timers): a worker's `operationsMax` is
 * connections * OPERATIONS_PER_CONNECTION + OPERATIONS_BESIDE_CONNECTIONS.
 */
export const OPERATIONS_PER_CONNECTION = 8;
export const OPERATIONS_BESIDE_CONNECTIONS = 1024;
/** The largest --max-connections: the most a worker's IO can carry (`IO.limits.operationsMaxLimit`). */
export const MAX_CONNECTIONS_LIMIT = Math.floor((IO.limits.operationsMaxLimit - OPERATIONS_BESIDE_CONNECTIONS) / OPERATIONS_PER_CONNECTION);

/**
 * After an error response, the sending side is shut down (the client reads
 * end of stream after the response) and input is read and dropped (so that
 * the close is a FIN, not a RST that could destroy the response in the
 * client's buffers) until the client closes, or sends nothing for
 * LINGER_QUIET_MS, or for at most LINGER_MS in all...
 */
export const LINGER_MS = 2_000;
export const LINGER_QUIET_MS = 250;
/** ...or this many bytes. */
export const LINGER_BYTES = 4 * 1024 * 1024;
/** Accept backoff after EMFILE/ENFILE/ENOBUFS/ENOMEM: no busy loop while the process is out of descriptors. */
export const ACCEPT_BACKOFF_MS = 100;
/** Accept operations kept in flight per listener: several connections per loop turn under a burst. */
export const ACCEPT_DEPTH = 8;
/** Parsing of pipelined requests pauses while this many response bytes wait to be sent. */
export const OUTPUT_HIGH_WATER = 64 * 1024;
/**
 * A worker thread's V8 young generation, in MiB (its two semi-spaces and
 * new large-object space: 1 MiB each, the size V8 starts with). A
 * keep-alive request allocates little (a few scavenges per 100,000 hello
 * requests, test/bench/server-gc.ts), but a burst of new connections makes
 * V8 grow the semi-spaces, up to 16 MiB each by default, and keep them:
 * about 430 B of resident memory per connection after 10,000 connections
 * came at once. Capped, the young generation stays as it starts.
 */
export const YOUNG_GENERATION_MB = 3;
/** Initial size of each of a connection's two output buffers; they grow as needed and shrink back after. */
export const OUTPUT_BUFFER_BYTES = 4 * 1024;
