import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DSNodeConfigInit, DSNodeServer, generateKey, type Timing } from '../../src/index.js';
import type { DSNodeCallbacks } from '../../src/server.js';

/** Short timings so that failure detection takes about a second, not ten. */
export const FAST: Partial<Timing> = {
  tickMs: 300,
  probeIntervalMs: 300,
  probeJitterMs: 300,
  // Keeps the 300 ms interval up to 15 peers (see Timing.probesPerSecond).
  probesPerSecond: 20,
  suspectProbeMs: 100,
  deadAfterMs: 900,
  requestTimeoutMs: 1000,
  retryDelayMs: 100,
  reconnectMinMs: 200,
  reconnectMaxMs: 1000,
};

export const LOCAL = '127.0.0.1';

/** A temporary folder removed by `cleanup()`. */
export function tempDir(prefix = 'dsn-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A network of real nodes on 127.0.0.1 that shares one key; `stopAll()` tears it down. */
export class TestNet {
  readonly key = generateKey();
  readonly servers: DSNodeServer[] = [];
  private readonly dir = tempDir();

  get credentialDir(): string {
    return this.dir.path;
  }

  async start(
    nodeId: string,
    opts: Partial<DSNodeConfigInit> & { via?: DSNodeServer } = {},
    callbacks: DSNodeCallbacks = {},
  ): Promise<DSNodeServer> {
    const { via, ...rest } = opts;
    const s = await DSNodeServer.start(
      {
        nodeId,
        port: 0,
        host: LOCAL,
        aesKey: this.key,
        credentialDir: this.dir.path,
        timing: FAST,
        bootstrapNodes: via ? [{ address: LOCAL, port: via.port }] : [],
        ...rest,
      },
      callbacks,
    );
    this.servers.push(s);
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    this.dir.cleanup();
  }
}

/**
 * Resolves once `check()` holds, re-checking whenever one of the emitters
 * fires any of `events` (no polling, no sleeping); rejects after `timeoutMs`
 * with `what` so that a broken feature fails instead of hanging.
 */
export function until(
  emitters: EventEmitter[],
  check: () => boolean,
  what: string,
  { events = ['update', 'peer', 'disconnect', 'receive'], timeoutMs = 20_000 } = {},
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = () => {
      clearTimeout(timer);
      for (const e of emitters) for (const ev of events) e.off(ev, onEvent);
    };
    const onEvent = () => {
      if (check()) {
        off();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting until ${what}`));
    }, timeoutMs);
    for (const e of emitters) for (const ev of events) e.on(ev, onEvent);
  });
}

/** The next `event` on `emitter` whose arguments pass `match`. */
export function next<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  match: (...args: T) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (...args: unknown[]) => {
      if (!match(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    emitter.on(event, on);
  });
}

export const sorted = (xs: string[]) => [...xs].sort();

/** Whether every server lists exactly `ids`. */
export function allSee(servers: DSNodeServer[], ids: string[]): boolean {
  const want = JSON.stringify(sorted(ids));
  return servers.every((s) => JSON.stringify(sorted(s.peers())) === want);
}

/**
 * Resolves once the asynchronous `check()` holds, asking again after each of
 * `events` on `emitter` (listening before each ask, so none is missed);
 * rejects with `what` after `timeoutMs`. For nodes whose events carry no
 * values (the Python peer): the check asks the process.
 */
export function untilAsync(
  emitter: EventEmitter,
  events: string[],
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let asking = false;
    let again = false;
    let over = false;
    const done = (err?: Error) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      for (const e of events) emitter.off(e, ask);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`timed out waiting until ${what}`)), timeoutMs);
    function ask(): void {
      if (over) return;
      if (asking) {
        again = true;
        return;
      }
      asking = true;
      again = false;
      check().then(
        (ok) => {
          asking = false;
          if (ok) done();
          else if (again) ask();
        },
        (e: Error) => done(e),
      );
    }
    for (const e of events) emitter.on(e, ask);
    ask();
  });
}
