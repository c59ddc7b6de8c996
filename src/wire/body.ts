/**
 * A message body made on demand, in pieces: a big DATA is encrypted slice by
 * slice as the socket takes it, so the event loop is free between slices and
 * the body never exists as one buffer on the sending side. `chunks()` may be
 * called more than once (a retry) and yields the same bytes each time.
 */
export interface ChunkedBody {
  /** Total bytes of all chunks. */
  readonly length: number;
  chunks(): Iterable<Uint8Array>;
}

export type Body = Uint8Array | ChunkedBody;

export function isChunked(b: Body): b is ChunkedBody {
  return !(b instanceof Uint8Array);
}

/** The whole body as one buffer (for transports without streaming, and tests). */
export function bodyBytes(b: Body): Uint8Array {
  if (!isChunked(b)) return b;
  const out = Buffer.allocUnsafe(b.length);
  let at = 0;
  for (const c of b.chunks()) {
    out.set(c, at);
    at += c.length;
  }
  return at === out.length ? out : out.subarray(0, at);
}

/**
 * Receives a body as it arrives and turns it into something the handler
 * takes (a streaming decryptor, say). `push` gets every byte in order,
 * `finish` is called once after the last one; either may throw to refuse.
 */
export interface BodySink {
  push(chunk: Uint8Array): void;
  finish(): unknown;
}
