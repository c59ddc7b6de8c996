import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchNet, NetStats } from './types.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'node-proc.mjs');

// biome-ignore lint/suspicious/noExplicitAny: IPC messages are plain JSON
type Msg = Record<string, any>;

/** One node process (bench/node-proc.mjs) and its IPC messages. */
export class Child extends EventEmitter {
  readonly proc: ChildProcess;
  port = 0;
  constructor(readonly id: string) {
    super();
    this.proc = fork(CHILD, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    });
    this.proc.on('message', (m: Msg) => {
      if (m.ev === 'problem') console.error(`[${id}] ${m.message}`);
      else this.emit(m.ev, m);
    });
  }
  send(m: Msg): void {
    this.proc.send(m);
  }
  next(ev: string, match: (m: Msg) => boolean = () => true): Promise<Msg> {
    return new Promise((resolve) => {
      const on = (m: Msg) => {
        if (!match(m)) return;
        this.off(ev, on);
        resolve(m);
      };
      this.on(ev, on);
    });
  }
  async ask(m: Msg, ev: string): Promise<Msg> {
    const r = this.next(ev);
    this.send(m);
    return r;
  }
}

/** N node processes on 127.0.0.1, each a real HTTP server. */
export class ProcNet implements BenchNet {
  /** The node processes, in start order (the first is everyone's bootstrap node). */
  children: Child[] = [];

  async start(n: number, key: string): Promise<number> {
    this.children = Array.from({ length: n }, (_, i) => new Child(`n${i}`));
    await Promise.all(this.children.map((c) => c.next('alive')));
    const [first, ...rest] = this.children as [Child, ...Child[]];
    const meshed = this.children.map((c) => c.next('mesh'));
    const t0 = performance.timeOrigin + performance.now();
    first.port = (await first.ask({ cmd: 'start', id: first.id, key, expect: n }, 'ready')).port;
    await Promise.all(
      rest.map(async (c) => {
        c.port = (
          await c.ask(
            { cmd: 'start', id: c.id, key, expect: n, bootstrapPort: first.port },
            'ready',
          )
        ).port;
      }),
    );
    const at = await Promise.all(meshed);
    return Math.max(...at.map((m) => m.at)) - t0;
  }

  /**
   * R updates by rotating writers, `spacingMs` apart, with no per-update
   * report from the receivers (they log arrivals and hand them over at the
   * end), so the measurement adds one IPC message per update, not N.
   */
  async convergeAll(updates: number, spacingMs: number, firstSeq: number): Promise<number[]> {
    const n = this.children.length;
    this.collect();
    const writes: { writer: string; seq: number; t: number }[] = [];
    for (let r = firstSeq; r < firstSeq + updates; r++) {
      const i = (r - 1) % n;
      writes.push({
        writer: (this.children[i] as Child).id,
        seq: r,
        t: await this.writeFrom(i, r),
      });
      await new Promise((res) => setTimeout(res, spacingMs));
    }
    await new Promise((res) => setTimeout(res, 1000));
    const logs = await Promise.all(
      this.children.map((c) => c.ask({ cmd: 'arrivals' }, 'arrivals')),
    );
    for (const c of this.children) c.send({ cmd: 'mode', mode: 'report' });
    return writes.map(({ writer, seq, t }) => {
      let worst = 0;
      this.children.forEach((c, i) => {
        if (c.id === writer) return;
        // When it read this value, or a newer one from the same writer.
        const got = ((logs[i]?.arrivals ?? []) as [string, number, number][]).filter(
          ([w, s]) => w === writer && s >= seq,
        );
        const at = Math.min(...got.map(([, , a]) => a));
        worst = Math.max(worst, at - t);
      });
      return worst;
    });
  }

  async blast(seconds: number, window: number) {
    for (const c of this.children) c.send({ cmd: 'mode', mode: 'collect' });
    const [w, ...rest] = this.children as [Child, ...Child[]];
    const r = await w.ask({ cmd: 'blast', seconds, window }, 'blasted');
    const lags: number[] = [];
    let finalEverywhere = false;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const got = await Promise.all(rest.map((c) => c.ask({ cmd: 'collect' }, 'collected')));
      for (const g of got) lags.push(...g.lags);
      finalEverywhere = got.every((g) => g.last === r.last);
      if (finalEverywhere || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const c of this.children) c.send({ cmd: 'mode', mode: 'report' });
    return { calls: r.calls as number, delivered: r.delivered as number, lags, finalEverywhere };
  }

  /** CPU time of each node process so far, in microseconds. */
  async cpuPerNode(): Promise<number[]> {
    const all = await Promise.all(this.children.map((c) => c.ask({ cmd: 'stats' }, 'stats')));
    return all.map((s) => s.cpuUs as number);
  }

  /** Receivers keep what they see to themselves (no IPC message per update). */
  collect(): void {
    for (const c of this.children) c.send({ cmd: 'mode', mode: 'collect' });
  }

  /**
   * Node `index` writes value number `seq`; resolves once it has (not once
   * delivered), with the time of the write by that node's clock.
   */
  async writeFrom(index: number, seq: number): Promise<number> {
    const w = this.children[index] as Child;
    const written = w.next('written', (m) => m.seq === seq);
    w.send({ cmd: 'write', seq, quiet: true });
    return (await written).t;
  }

  async stats(): Promise<NetStats> {
    const all = await Promise.all(this.children.map((c) => c.ask({ cmd: 'stats' }, 'stats')));
    return {
      cpuUs: all.reduce((a, s) => a + s.cpuUs, 0),
      bytesSent: all.reduce((a, s) => a + s.bytesSent, 0),
      requests: all.reduce((a, s) => a + s.requests, 0),
      rssPerNode: all.map((s) => s.rss),
      privatePerNode: all.every((s) => s.private !== null) ? all.map((s) => s.private) : null,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.proc.once('exit', () => resolve());
            c.send({ cmd: 'stop' });
          }),
      ),
    );
  }
}
