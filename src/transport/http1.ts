/**
 * The part of HTTP/1.1 (RFC 9112) the peer protocol travels on, read
 * incrementally from a byte stream: message heads, and bodies framed by
 * Content-Length, chunked coding or (responses only) the end of the
 * connection. Pipelined messages on one connection come out one by one.
 *
 * Why not node:http: on the small VM this was measured on, a request
 * through Node's HTTP server and agent cost ~2.3 ms of CPU for both ends,
 * one framed here on plain sockets ~1.6 ms, a raw TCP echo ~1 ms
 * (`node bench/floor.mjs`; each includes waking both processes). Peers
 * exchange nothing but small POSTs, so the subset is small: no upgrades, no
 * trailers kept, no header values beyond the few the framing needs.
 */

import type { BodySink } from '../wire/body.js';

/**
 * The User-Agent of this implementation's requests. A server seeing it knows
 * the sender's own server holds idle connections cheaply (IncomingRequest.sameImplementation).
 */
export const USER_AGENT = 'distributed-state-network-ts';

/** A refusal of a malformed or oversized message: the status to answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Head {
  /** Request: [method, target, version]; response: [version, status, reason]. */
  line: [string, string, string];
  /** Header names in lower case; repeated fields joined with ", ". */
  headers: Map<string, string>;
  /** HTTP/1.1 or later (else 1.0). */
  v11: boolean;
}

export interface Message {
  head: Head;
  /** Empty when the body went to a sink. */
  body: Buffer;
  /** What the sink made of the body, or what it threw. */
  streamed?: { value: unknown } | { error: unknown };
  /** Bytes of the body as received (also when it went to a sink). */
  bodyBytes: number;
}

export interface ReaderLimits {
  /** Most bytes of a head (start line and fields). */
  maxHeadBytes: number;
  /** Most bytes of a body. */
  maxBodyBytes: number;
  /** The body limit of one message, if not maxBodyBytes (a server's limit per path). */
  bodyLimit?: (head: Head) => number;
}

/** What a reader's owner wants done with a body whose head just came. */
export interface HeadAction {
  /** Hand the body's bytes to this as they arrive instead of buffering them. */
  sink?: BodySink | null;
  /** Read no further until `release()` (the server has no memory for it yet). */
  hold?: boolean;
}

type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; phase: 'size' | 'data' | 'data-end' | 'trailer'; left: number }
  | { kind: 'close' };

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Reads one side of a connection. `push` bytes as they arrive, then call
 * `next` until it returns null (needs more bytes). A malformed message throws
 * HttpError; the connection is then unusable.
 */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);
  private head: Head | null = null;
  private framing: Framing | null = null;
  private parts: Buffer[] = [];
  private size = 0;
  private max = 0;
  private sink: BodySink | null = null;
  private sunk: { value: unknown } | { error: unknown } | null = null;
  private held = false;
  private ended = false;
  /** The current message's declared body length (Content-Length), or 0. */
  declared = 0;
  /** Whether some bytes of a message not yet complete have arrived. */
  started = false;
  /** Called once per head, before its body is read; may throw HttpError. */
  onHead?: (head: Head, bodyBytes: number | null) => HeadAction | undefined;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly limits: ReaderLimits,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (chunk.length > 0) this.started = true;
  }

  /** The far side ended the stream: completes a body read until the end. */
  end(): void {
    this.ended = true;
  }

  /** Whether the head of the current message is complete (its body is being read). */
  get inBody(): boolean {
    return this.head !== null;
  }

  next(): Message | null {
    if (!this.head) {
      if (!this.readHead()) return null;
    }
    if (this.held) return null;
    const body = this.readBody();
    if (body === null) return null;
    const message: Message = { head: this.head as Head, body, bodyBytes: this.size };
    if (this.sunk) message.streamed = this.sunk;
    this.head = null;
    this.framing = null;
    this.parts = [];
    this.size = 0;
    this.sink = null;
    this.sunk = null;
    this.declared = 0;
    this.started = this.buf.length > 0;
    return message;
  }

  /** Whether reading waits for `release()`. */
  get holding(): boolean {
    return this.held;
  }

  /** Reads on after a hold (call `next` again), the body into `sink` if given. */
  release(sink: BodySink | null = null): void {
    this.held = false;
    if (sink) this.sink = sink;
  }

  /** Whether the far side ended the stream. */
  get atEnd(): boolean {
    return this.ended;
  }

  /** Bytes received beyond the messages read so far. */
  get buffered(): number {
    return this.buf.length;
  }

  private readHead(): boolean {
    // Empty lines before a request line are allowed (RFC 9112 §2.2).
    while (this.kind === 'request' && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      this.buf = this.buf.subarray(2);
    }
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) {
      // (Up to 3 bytes of the blank line that ends the head may be in already.)
      if (this.buf.length > this.limits.maxHeadBytes + 3)
        throw new HttpError(431, 'head too large');
      return false;
    }
    if (end > this.limits.maxHeadBytes) throw new HttpError(431, 'head too large');
    const head = parseHead(this.buf.toString('latin1', 0, end), this.kind);
    this.buf = this.buf.subarray(end + 4);
    this.framing = this.framingOf(head);
    this.head = head;
    const action = this.onHead?.(head, this.framing.kind === 'length' ? this.framing.left : null);
    if (action?.sink) this.sink = action.sink;
    if (action?.hold) this.held = true;
    return true;
  }

  private framingOf(head: Head): Framing {
    const h = head.headers;
    this.max = this.limits.bodyLimit?.(head) ?? this.limits.maxBodyBytes;
    if (this.kind === 'response') {
      const status = Number(head.line[1]);
      if (status < 200 || status === 204 || status === 304) return { kind: 'length', left: 0 };
    }
    const te = h.get('transfer-encoding');
    if (te !== undefined) {
      // Both, or a coding other than chunked last: how requests are smuggled.
      if (h.has('content-length'))
        throw new HttpError(400, 'both Transfer-Encoding and Content-Length');
      const codings = te.split(',').map((c) => ows(c).toLowerCase());
      if (codings[codings.length - 1] !== 'chunked') {
        if (this.kind === 'request') throw new HttpError(400, 'unsupported Transfer-Encoding');
        return { kind: 'close' };
      }
      if (codings.length > 1) throw new HttpError(501, 'unsupported Transfer-Encoding');
      return { kind: 'chunked', phase: 'size', left: 0 };
    }
    const cl = h.get('content-length');
    if (cl !== undefined) {
      // A list of equal values (a repeated field joined) is one length; a
      // single value (field values are trimmed already) needs no split.
      const values = cl.includes(',') ? cl.split(',').map(ows) : [cl];
      const first = values[0] as string;
      if (first.length > 15 || !isDigits(first) || values.some((v) => v !== first)) {
        throw new HttpError(400, 'bad Content-Length');
      }
      const length = Number(first);
      if (length > this.max) throw new HttpError(413, 'body too large');
      this.declared = length;
      return { kind: 'length', left: length };
    }
    return this.kind === 'request' ? { kind: 'length', left: 0 } : { kind: 'close' };
  }

  private take(n: number): void {
    this.size += n;
    if (this.size > this.max) throw new HttpError(413, 'body too large');
    const part = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    if (!this.sink) this.parts.push(part);
    else if (!this.sunk) {
      try {
        this.sink.push(part);
      } catch (error) {
        this.sunk = { error }; // the rest of the body is read and dropped
      }
    }
  }

  private body(): Buffer {
    if (this.sink) {
      if (!this.sunk) {
        try {
          this.sunk = { value: this.sink.finish() };
        } catch (error) {
          this.sunk = { error };
        }
      }
      return EMPTY;
    }
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
  }

  private readBody(): Buffer | null {
    const f = this.framing as Framing;
    if (f.kind === 'length') {
      const n = Math.min(f.left, this.buf.length);
      if (n > 0) this.take(n);
      f.left -= n;
      return f.left === 0 ? this.body() : null;
    }
    if (f.kind === 'close') {
      if (this.buf.length > 0) this.take(this.buf.length);
      return this.ended ? this.body() : null;
    }
    for (;;) {
      if (f.phase === 'data') {
        const n = Math.min(f.left, this.buf.length);
        if (n > 0) this.take(n);
        f.left -= n;
        if (f.left > 0) return null;
        f.phase = 'data-end';
      }
      const eol = this.buf.indexOf(CRLF);
      if (eol < 0) {
        if (this.buf.length > this.limits.maxHeadBytes) throw new HttpError(400, 'bad chunk');
        return null;
      }
      const line = this.buf.toString('latin1', 0, eol);
      this.buf = this.buf.subarray(eol + 2);
      if (f.phase === 'data-end') {
        if (line !== '') throw new HttpError(400, 'bad chunk');
        f.phase = 'size';
      } else if (f.phase === 'size') {
        const hex = ows(line.split(';')[0] as string);
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new HttpError(400, 'bad chunk size');
        f.left = Number.parseInt(hex, 16);
        if (this.size + f.left > this.max) throw new HttpError(413, 'body too large');
        f.phase = f.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        return this.body(); // trailer fields are read and dropped
      }
    }
  }
}

function parseHead(text: string, kind: 'request' | 'response'): Head {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const first = text.slice(0, eol);
  const sp1 = first.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : first.indexOf(' ', sp1 + 1);
  let line: [string, string, string];
  let version: string;
  if (kind === 'request') {
    if (sp2 < 0 || first.indexOf(' ', sp2 + 1) >= 0) throw new HttpError(400, 'bad request line');
    line = [first.slice(0, sp1), first.slice(sp1 + 1, sp2), first.slice(sp2 + 1)];
    version = line[2];
    if (!isToken(line[0]) || line[1] === '') throw new HttpError(400, 'bad request line');
  } else {
    const code = sp1 < 0 ? '' : first.slice(sp1 + 1, sp2 < 0 ? first.length : sp2);
    if (code.length !== 3 || !isDigits(code)) throw new HttpError(502, 'bad status line');
    line = [first.slice(0, sp1), code, sp2 < 0 ? '' : first.slice(sp2 + 1)];
    version = line[0];
  }
  const v11 = httpVersion(version, kind);
  const headers = new Map<string, string>();
  for (let at = eol + 2; at < text.length; ) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    // No obsolete line folding, no space before the colon (RFC 9112 §5).
    if (colon <= at || colon >= end) throw new HttpError(400, 'bad header field');
    const name = text.slice(at, colon);
    if (!isToken(name)) throw new HttpError(400, 'bad header field');
    const key = name.toLowerCase();
    const value = ows(text.slice(colon + 1, end));
    const had = headers.get(key);
    headers.set(key, had === undefined ? value : `${had}, ${value}`);
    at = end + 2;
  }
  return { line, headers, v11 };
}

/** Whether the version is HTTP/1.1 or later (else 1.0); anything but 1.x is refused. */
function httpVersion(version: string, kind: 'request' | 'response'): boolean {
  if (version === 'HTTP/1.1') return true;
  if (version === 'HTTP/1.0') return false;
  const m = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!m) throw new HttpError(kind === 'request' ? 400 : 502, 'bad HTTP version');
  if (m[1] !== '1') throw new HttpError(505, 'HTTP version not supported');
  return m[2] !== '0';
}

/** tchar of RFC 9110 §5.6.2, by character code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return s.length > 0;
}

/** Without the optional white space (spaces and tabs only) around a field value. */
function ows(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 0x20 || v.charCodeAt(a) === 0x09)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 0x20 || v.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

/** Whether the connection stays open after this message (RFC 9112 §9.3). */
export function keepsAlive(head: Head): boolean {
  const connection = head.headers.get('connection');
  if (connection === undefined) return head.v11;
  const tokens = connection.toLowerCase().split(',');
  const has = (t: string) => tokens.some((x) => ows(x) === t);
  return head.v11 ? !has('close') : has('keep-alive');
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function reason(status: number): string {
  return REASONS[status] ?? 'Unknown';
}
