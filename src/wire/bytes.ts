import { DecodeError } from '../errors.js';

/**
 * Byte writer and reader for protocol 0.9.0 primitives (PROTOCOL.md §3):
 * u32 little-endian, f64 big-endian, `bytes` = u32 length + raw bytes,
 * `string` = `bytes` of UTF-8. No padding, no tags.
 */
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${v}`);
    }
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  /** IEEE-754 double, big-endian (Python's struct '>d'). */
  f64(v: number): this {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, false);
    this.pos += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }

  string(s: string): this {
    return this.bytes(utf8.encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Reads primitives, checking every length against what is left before it
 * touches memory: a length prefix of 4 GB on a 20-byte body fails at once and
 * allocates nothing.
 */
export class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new DecodeError(
        'DSN_ERR_TRUNCATED',
        `${what} needs ${n} bytes but only ${this.remaining} remain`,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what = 'f64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A `bytes` field; `max` bounds its declared length. Returns a view, not a copy. */
  bytes(what: string, max: number): Uint8Array {
    const len = this.u32(`${what} length`);
    if (len > max) {
      throw new DecodeError('DSN_ERR_LIMIT', `${what} is ${len} bytes, over the limit of ${max}`);
    }
    this.need(len, what);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A `string` field: strict UTF-8 (invalid sequences are refused). */
  string(what: string, max: number): string {
    const b = this.bytes(what, max);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new DecodeError('DSN_ERR_MALFORMED', `${what} is not valid UTF-8`);
    }
  }

  end(what: string): void {
    if (this.remaining !== 0) {
      throw new DecodeError(
        'DSN_ERR_TRAILING',
        `${this.remaining} unexpected bytes after the end of ${what}`,
      );
    }
  }
}

export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}
