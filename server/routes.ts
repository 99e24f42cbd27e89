// The routes. Each handler answers through the Responder (the connection),
// which knows the request's HEAD-ness and connection mode.
import type { HttpRequest } from './http/parser';
import type { CannedResponse } from './http/response';

export interface Responder {
  /** A pre-serialized response (hello, JSON). */
  canned(response: CannedResponse): void;
  /** A response built now. */
  respond(status: number, contentType: string | null, body: Uint8Array, extraHeaders?: string): void;
  /** The file the URL path names under --root (or 404/400). Asynchronous. */
  file(urlPath: string): void;
}

export interface RouteTable {
  hello: CannedResponse;
  json: CannedResponse;
  /** Whether --root was given. */
  files: boolean;
}

const NOT_FOUND = Buffer.from('Not Found\n');
const BAD_REQUEST = Buffer.from('Bad Request\n');
const METHOD_NOT_ALLOWED = Buffer.from('Method Not Allowed\n');
const TEXT = 'text/plain; charset=utf-8';

/** The path of a request-target: origin-form up to '?', or the path of an absolute-form target. null: neither. */
export function targetPath(target: string): string | null {
  let path = target;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = /^https?:\/\/[^/?#]*/i.exec(target);
    if (scheme === null) return null;
    path = target.slice(scheme[0].length);
    if (path === '' || path.charCodeAt(0) === 63 /* ? */) path = '/' + path;
  }
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

export function route(request: HttpRequest, table: RouteTable, responder: Responder): void {
  const method = request.method;
  const path = targetPath(request.target);
  if (path === null) {
    responder.respond(400, TEXT, BAD_REQUEST);
    return;
  }
  const getOrHead = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/':
      if (getOrHead) responder.canned(table.hello);
      else notAllowed(responder, 'GET, HEAD');
      return;
    case '/json':
      if (getOrHead) responder.canned(table.json);
      else notAllowed(responder, 'GET, HEAD');
      return;
    case '/echo':
      if (method === 'POST') responder.respond(200, request.contentType ?? 'application/octet-stream', request.body);
      else notAllowed(responder, 'POST');
      return;
  }
  if (!table.files) {
    responder.respond(404, TEXT, NOT_FOUND);
  } else if (getOrHead) {
    responder.file(path);
  } else {
    notAllowed(responder, 'GET, HEAD');
  }
}

function notAllowed(responder: Responder, allow: string): void {
  responder.respond(405, TEXT, METHOD_NOT_ALLOWED, `Allow: ${allow}\r\n`);
}
