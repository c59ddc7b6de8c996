import type { Clock } from '../clock.js';
import type { Timing } from '../config.js';
import type { Envelope } from '../crypto/envelope.js';
import { DsnError, PeerError } from '../errors.js';
import type { Response, Transport } from '../transport/types.js';
import type { Body } from '../wire/body.js';
import { frame, MsgType, PATH_OF, unframe } from '../wire/frame.js';
import { messageName, observe, type TrafficObserver } from './observer.js';

/** A peer's answer: its payload, and whether a node of this implementation gave it. */
export interface Answer {
  payload: Uint8Array;
  same: boolean;
}

export interface CallOptions {
  /** Tries in all (default: timing.tries). */
  tries?: number;
  /** Timeout of one try (default: timing.requestTimeoutMs, more for big bodies). */
  timeoutMs?: number;
  /**
   * Whether a 500 or 503 is tried again (default true). Not for a DATA: its
   * receiver had it in hand, and a refusal is the receiver's answer.
   */
  retryStatus?: boolean;
}

/**
 * One request/response exchange with a peer: frame, seal, POST, check the
 * status, open, check the type byte. Retries network failures and 5xx the
 * way the Python client does (timing.tries tries, timing.retryDelayMs apart);
 * a 4xx is final. The timeout grows with the body (at least 1 MB/s).
 */
export class Rpc {
  constructor(
    private readonly transport: Transport,
    private readonly envelope: Envelope,
    private readonly timing: Timing,
    private readonly signal: AbortSignal,
    private readonly clock: Clock,
    private readonly observer?: TrafficObserver,
  ) {}

  async call(
    address: string,
    port: number,
    type: MsgType,
    payload: Uint8Array | readonly Uint8Array[],
    opts: CallOptions = {},
  ): Promise<Uint8Array> {
    return (await this.ask(address, port, type, payload, opts)).payload;
  }

  /** As call, also telling whether a node of this implementation answered. */
  async ask(
    address: string,
    port: number,
    type: MsgType,
    payload: Uint8Array | readonly Uint8Array[],
    opts: CallOptions = {},
  ): Promise<Answer> {
    const body = this.seal(type, payload);
    const tries = opts.tries ?? this.timing.tries;
    // At least 1 MB/s, as the Python client allows big bodies.
    const timeoutMs = opts.timeoutMs ?? Math.max(this.timing.requestTimeoutMs, body.length / 1000);
    const retryStatus = opts.retryStatus ?? true;
    for (let attempt = 1; ; attempt++) {
      if (this.signal.aborted) throw new DsnError('DSN_ERR_STOPPED', 'node is stopped');
      try {
        return await this.once(address, port, type, body, timeoutMs);
      } catch (err) {
        const retriable =
          !(err instanceof PeerError) ||
          err.status === undefined ||
          (retryStatus && (err.status === 500 || err.status === 503));
        if (!retriable || attempt >= tries || this.signal.aborted) throw err;
        await delay(this.clock, this.timing.retryDelayMs, this.signal);
      }
    }
  }

  /**
   * Frames and encrypts; an UPDATE once per payload: an update fanned out to every
   * peer (the same bytes each time) is sealed once and the same ciphertext
   * goes to all of them — they all hold the key anyway, and an onlooker
   * learns nothing the sizes and timing did not tell it already.
   */
  private seal(type: MsgType, payload: Uint8Array | readonly Uint8Array[]): Body {
    // A payload in parts (a DATA's head and its data) is sealed as the
    // body is written, without copying the parts into one buffer.
    if (!(payload instanceof Uint8Array)) {
      return this.envelope.sealParts([Uint8Array.of(type), ...payload]);
    }
    if (type !== MsgType.UPDATE) return this.envelope.seal(frame(type, payload));
    const last = this.lastSealed;
    if (last && last.payload === payload) return last.body;
    const body = this.envelope.seal(frame(type, payload));
    this.lastSealed = { payload, body };
    return body;
  }
  /** The own State last sealed (states are small; a DATA body may not be). */
  private lastSealed: { payload: Uint8Array; body: Uint8Array } | null = null;

  private async once(
    address: string,
    port: number,
    type: MsgType,
    body: Body,
    timeoutMs: number,
  ): Promise<Answer> {
    const path = PATH_OF[type];
    const started = this.observer ? performance.now() : 0;
    let res: Response;
    try {
      res = await this.transport.request(address, port, path, body, {
        timeoutMs,
        signal: this.signal,
      });
    } catch (err) {
      if (this.observer) {
        observe(
          this.observer,
          'requested',
          messageName(type),
          body.length,
          0,
          performance.now() - started,
        );
      }
      throw err;
    }
    if (this.observer) {
      const ms = performance.now() - started;
      observe(this.observer, 'requested', messageName(type), body.length, res.status, ms);
    }
    const same = res.sameImplementation === true;
    if (res.status === 204) return { payload: new Uint8Array(0), same };
    if (res.status !== 200) {
      const reason = Buffer.from(res.body.subarray(0, 200)).toString('utf8');
      throw new PeerError(
        'DSN_ERR_PEER',
        `${address}:${port}${path} answered ${res.status}: ${reason}`,
        res.status,
        { reason },
      );
    }
    try {
      return { payload: unframe(this.envelope.open(res.body), type), same };
    } catch (err) {
      throw new PeerError(
        'DSN_ERR_PEER',
        `${address}:${port}${path} sent a bad response: ${(err as Error).message}`,
        502,
        { cause: err },
      );
    }
  }
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
