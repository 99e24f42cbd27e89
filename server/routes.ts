// The routes. Each handler answers through the Responder (the connection),
// which knows the request's HEAD-ness and connection mode.
//
//   GET/HEAD /      --root's index.html when there is one, else "Hello, World!"
//   GET/HEAD /json  a small JSON object
//   POST /echo      the body back
//   GET/HEAD /...   files under --root
//   OPTIONS *       200, Allow: the server's methods; OPTIONS /path: 200, Allow: that path's
// A method a path does not take is 405 with Allow.
import type { HttpRequest } from './http/parser';
import type { CannedResponse } from './http/response';

export interface Responder {
  /** A pre-serialized response (hello, JSON). */
  canned(response: CannedResponse): void;
  /** A response built now. */
  respond(status: number, contentType: string | null, body: Uint8Array, extraHeaders?: string): void;
  /**
   * The file the URL path names under --root (or 301/404/400). Asynchronous.
   * `query` ('' or '?...') is kept in a redirect's Location; `fallback`
   * answers instead of a 404.
   */
  file(urlPath: string, query: string, fallback: CannedResponse | null): void;
}

export interface RouteTable {
  hello: CannedResponse;
  json: CannedResponse;
  /** Whether --root was given. */
  files: boolean;
}

const EMPTY = Buffer.alloc(0);
const NOT_FOUND = Buffer.from('Not Found\n');
const BAD_REQUEST = Buffer.from('Bad Request\n');
const METHOD_NOT_ALLOWED = Buffer.from('Method Not Allowed\n');
const TEXT = 'text/plain; charset=utf-8';
const ALLOW_READ = 'GET, HEAD, OPTIONS';
const ALLOW_POST = 'POST, OPTIONS';
const ALLOW_SERVER = 'GET, HEAD, POST, OPTIONS';

export interface TargetParts {
  /** The path, still percent-encoded. */
  path: string;
  /** '' or '?' and the query. */
  query: string;
}

/**
 * The path and query of a request-target: origin-form, or the path of an
 * absolute-form target. A fragment ('#...', which a client must not send,
 * RFC 9112 §3.2) is dropped, as browsers and nginx do. null: neither form.
 */
export function targetParts(target: string): TargetParts | null {
  let rest = target;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  if (rest.charCodeAt(0) !== 47 /* / */) {
    const scheme = /^https?:\/\/[^/?#]*/i.exec(rest);
    if (scheme === null) return null;
    rest = rest.slice(scheme[0].length);
    if (rest === '' || rest.charCodeAt(0) === 63 /* ? */) rest = '/' + rest;
  }
  const q = rest.indexOf('?');
  return q < 0 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q) };
}

/** The path of a request-target (see targetParts). */
export function targetPath(target: string): string | null {
  return targetParts(target)?.path ?? null;
}

export function route(request: HttpRequest, table: RouteTable, responder: Responder): void {
  const method = request.method;
  const target = request.target;
  // Fast path for the benchmark route: no string work at all.
  if (target === '/' && (method === 'GET' || method === 'HEAD') && !table.files) {
    responder.canned(table.hello);
    return;
  }
  if (target === '*') {
    // asterisk-form is for OPTIONS only (RFC 9112 §3.2.4).
    if (method === 'OPTIONS') options(responder, ALLOW_SERVER);
    else responder.respond(400, TEXT, BAD_REQUEST);
    return;
  }
  const parts = targetParts(target);
  if (parts === null) {
    responder.respond(400, TEXT, BAD_REQUEST);
    return;
  }
  const path = parts.path;
  const getOrHead = method === 'GET' || method === 'HEAD';
  let allow: string;
  switch (path) {
    case '/':
      if (getOrHead) {
        if (table.files) responder.file('/', parts.query, table.hello);
        else responder.canned(table.hello);
        return;
      }
      allow = ALLOW_READ;
      break;
    case '/json':
      if (getOrHead) return responder.canned(table.json);
      allow = ALLOW_READ;
      break;
    case '/echo':
      if (method === 'POST') return responder.respond(200, request.contentType ?? 'application/octet-stream', request.body);
      allow = ALLOW_POST;
      break;
    default:
      if (!table.files) return responder.respond(404, TEXT, NOT_FOUND);
      if (getOrHead) return responder.file(path, parts.query, null);
      allow = ALLOW_READ;
  }
  if (method === 'OPTIONS') options(responder, allow);
  else responder.respond(405, TEXT, METHOD_NOT_ALLOWED, `Allow: ${allow}\r\n`);
}

/** 200, no content, the methods in Allow (RFC 9110 §9.3.7). */
function options(responder: Responder, allow: string): void {
  responder.respond(200, null, EMPTY, `Allow: ${allow}\r\n`);
}
