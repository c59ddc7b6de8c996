import { setImmediate as yieldNow } from 'node:timers/promises';
import { DSNodeServer } from '../src/index.js';
import type { BenchNet, NetStats } from './types.js';

const now = () => performance.timeOrigin + performance.now();

/** N nodes in this process, each with its own real HTTP server on 127.0.0.1. */
export class InprocNet implements BenchNet {
  private nodes: DSNodeServer[] = [];

  async start(n: number, key: string): Promise<number> {
    const base = { port: 0, host: '127.0.0.1', aesKey: key, credentialDir: null };
    const t0 = now();
    const first = await DSNodeServer.start({ ...base, nodeId: 'n0' });
    const bootstrapNodes = [{ address: '127.0.0.1', port: first.port }];
    const rest = await Promise.all(
      Array.from({ length: n - 1 }, (_, i) =>
        DSNodeServer.start({ ...base, nodeId: `n${i + 1}`, bootstrapNodes }),
      ),
    );
    this.nodes = [first, ...rest];
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.nodes.every((s) => s.peers().length >= n)) {
          for (const s of this.nodes) s.off('peer', check);
          resolve();
        }
      };
      for (const s of this.nodes) s.on('peer', check);
      check();
    });
    return now() - t0;
  }

  async convergeAll(updates: number, _spacingMs: number, firstSeq: number): Promise<number[]> {
    const out: number[] = [];
    for (let r = firstSeq; r < firstSeq + updates; r++) {
      out.push(await this.converge((r - 1) % this.nodes.length, r));
    }
    return out;
  }

  async converge(writer: number, seq: number): Promise<number> {
    const w = this.nodes[writer] as DSNodeServer;
    const others = this.nodes.filter((s) => s !== w);
    const value = String(seq);
    const t = now();
    const seen = others.map(
      (s) =>
        new Promise<number>((resolve) => {
          const on = (id: string) => {
            if (id !== w.nodeId() || s.readData(id, 'v') !== value) return;
            s.off('update', on);
            resolve(now() - t);
          };
          s.on('update', on);
        }),
    );
    await w.updateData('v', value);
    return Math.max(...(await Promise.all(seen)));
  }

  async blast(seconds: number, window: number) {
    const [w, ...rest] = this.nodes as [DSNodeServer, ...DSNodeServer[]];
    const lags: number[] = [];
    const listeners = rest.map((s) => {
      const on = (id: string) => {
        const v = s.readData(id, 'v');
        if (id === w.nodeId() && v) lags.push(now() - Number(v.split(':')[1]));
      };
      s.on('update', on);
      return () => s.off('update', on);
    });
    const end = now() + seconds * 1000;
    let seq = 0;
    let delivered = 0;
    const inflight: Promise<void>[] = [];
    while (now() < end) {
      inflight.push(w.updateData('v', `${seq++}:${now()}`).then(() => void delivered++));
      if (inflight.length >= window) await inflight.shift();
      if (seq % 16 === 0) await yieldNow();
    }
    await Promise.all(inflight);
    const last = `${seq - 1}:`;
    const finalEverywhere = rest.every((s) => s.readData(w.nodeId(), 'v')?.startsWith(last));
    for (const off of listeners) off();
    return { calls: seq, delivered, lags, finalEverywhere };
  }

  async stats(): Promise<NetStats> {
    const cpu = process.cpuUsage();
    const rss = process.memoryUsage().rss / this.nodes.length;
    return {
      cpuUs: cpu.user + cpu.system,
      bytesSent: this.nodes.reduce((a, s) => a + s.node.transport.stats.bytesSent, 0),
      requests: this.nodes.reduce((a, s) => a + s.node.transport.stats.requestsSent, 0),
      rssPerNode: this.nodes.map(() => rss),
      privatePerNode: null,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((s) => s.stop()));
  }
}
