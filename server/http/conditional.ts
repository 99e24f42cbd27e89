// Validators, conditional requests and byte ranges for static files
// (RFC 9110 §8.8, §13, §14). Pure: the request's fields and the file's
// size and mtime in, a decision out; connection.ts writes the response.
//
// Decisions, in the order RFC 9110 §13.2.2 evaluates them:
//   If-None-Match (any of a list, or `*`; weak comparison) -> 304 on GET/HEAD
//   else If-Modified-Since (GET/HEAD; an IMF-fixdate, or the two obsolete
//   formats Date.parse reads) -> 304 when the file is not newer
//   then Range (GET only): one range -> 206; a satisfiable one is clamped
//   to the file; none satisfiable -> 416 with `Content-Range: bytes */size`.
//   Several ranges -> 200 with the whole file (a multipart/byteranges body
//   is allowed but not required; whole is what most servers send).
//   If-Range (an ETag, compared strongly, or a date equal to
//   Last-Modified) that does not match -> the Range is ignored: 200.
// If-Match / If-Unmodified-Since are not implemented: this server has no
// method that changes a file, and for GET they only turn a 200 into a 412.

export interface Validators {
  /** Strong entity tag, quoted. */
  etag: string;
  /** IMF-fixdate of the mtime. */
  lastModified: string;
  /** mtime rounded down to whole seconds, in ms (what Last-Modified can say). */
  mtimeSeconds: number;
}

export function validatorsOf(size: number, mtimeMs: number): Validators {
  const mtime = Math.floor(mtimeMs);
  return {
    // mtime in ms and size: changes whenever either does, like nginx's
    // "mtime-size"; strong, because the bytes are the file's own.
    etag: `"${mtime.toString(16)}-${size.toString(16)}"`,
    lastModified: new Date(mtime).toUTCString(),
    mtimeSeconds: Math.floor(mtime / 1000) * 1000,
  };
}

export interface ConditionalFields {
  ifNoneMatch: string | null;
  ifModifiedSince: string | null;
  range: string | null;
  ifRange: string | null;
}

/** The fields that matter here, from the parser's flat [name, value, ...] list; repeated fields joined by ", ". */
export function conditionalFields(headers: readonly string[]): ConditionalFields {
  const fields: ConditionalFields = { ifNoneMatch: null, ifModifiedSince: null, range: null, ifRange: null };
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length < 5 || name.length > 17) continue;
    switch (name.toLowerCase()) {
      case 'if-none-match':
        fields.ifNoneMatch = fields.ifNoneMatch === null ? headers[i + 1] : `${fields.ifNoneMatch}, ${headers[i + 1]}`;
        break;
      case 'if-modified-since':
        fields.ifModifiedSince ??= headers[i + 1];
        break;
      case 'range':
        // Two Range fields cannot be combined meaningfully: treated as a list (-> 200 whole).
        fields.range = fields.range === null ? headers[i + 1] : `${fields.range}, ${headers[i + 1]}`;
        break;
      case 'if-range':
        fields.ifRange ??= headers[i + 1];
        break;
    }
  }
  return fields;
}

export type Decision =
  | { status: 200 }
  | { status: 304 }
  | { status: 206; start: number; end: number } // end inclusive
  | { status: 416 };

export function decide(method: string, fields: ConditionalFields, size: number, v: Validators): Decision {
  const getOrHead = method === 'GET' || method === 'HEAD';
  if (fields.ifNoneMatch !== null) {
    if (getOrHead && noneMatchHits(fields.ifNoneMatch, v.etag)) return { status: 304 };
  } else if (fields.ifModifiedSince !== null && getOrHead) {
    const since = Date.parse(fields.ifModifiedSince);
    if (!Number.isNaN(since) && v.mtimeSeconds <= since) return { status: 304 };
  }
  if (method !== 'GET' || fields.range === null) return { status: 200 };
  if (fields.ifRange !== null && !ifRangeHolds(fields.ifRange, v)) return { status: 200 };
  return rangeDecision(fields.range, size);
}

/** If-None-Match: `*` or a list of entity tags, compared weakly (W/ ignored). */
function noneMatchHits(field: string, etag: string): boolean {
  const ours = opaque(etag);
  for (const raw of field.split(',')) {
    const tag = raw.trim();
    if (tag === '*') return true;
    if (tag !== '' && opaque(tag) === ours) return true;
  }
  return false;
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** If-Range: a strong ETag equal to ours, or exactly our Last-Modified date. */
function ifRangeHolds(field: string, v: Validators): boolean {
  const value = field.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag; // a weak tag never matches (strong comparison)
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === v.mtimeSeconds;
}

const RANGE_SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * `bytes=first-last`, `bytes=first-`, `bytes=-suffix`. Anything else
 * (another unit, bad syntax) is ignored as RFC 9110 §14.2 allows: 200.
 */
export function rangeDecision(field: string, size: number): Decision {
  const eq = field.indexOf('=');
  if (eq < 0 || field.slice(0, eq).trim().toLowerCase() !== 'bytes') return { status: 200 };
  const specs = field.slice(eq + 1).split(',').filter((s) => s.trim() !== '');
  if (specs.length === 0) return { status: 200 };
  const parsed: { first: number; last: number }[] = [];
  for (const spec of specs) {
    const m = RANGE_SPEC.exec(spec);
    if (m === null || (m[1] === '' && m[2] === '')) return { status: 200 };
    const first = m[1] === '' ? -1 : Number(m[1]);
    const last = m[2] === '' ? -1 : Number(m[2]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) return { status: 200 };
    if (first >= 0 && last >= 0 && last < first) return { status: 200 }; // invalid: ignored
    parsed.push({ first, last });
  }
  // Satisfiable: a first-pos inside the file, or a suffix of non-zero length on a non-empty file.
  const satisfiable = parsed.filter((r) => (r.first >= 0 ? r.first < size : r.last > 0 && size > 0));
  if (satisfiable.length === 0) return { status: 416 };
  if (parsed.length > 1) return { status: 200 }; // several ranges: the whole file
  const r = satisfiable[0];
  if (r.first < 0) return { status: 206, start: Math.max(0, size - r.last), end: size - 1 };
  return { status: 206, start: r.first, end: r.last < 0 ? size - 1 : Math.min(r.last, size - 1) };
}
