/**
 * `npm run bench -- --mode sim --sizes 100,300,1000`: up to a thousand real
 * nodes of this library in one process, on the in-memory transport with
 * seeded one-way delays and losses, all on one simulated clock — whatever the
 * library does (full mesh today, relays and scale mode later), measured in
 * simulated time. See bench/README.md ("SIM").
 *
 * Each size runs in its own child process (`node … bench/sim.ts --child`),
 * so that its peak RSS is its own and its heap limit can be raised; the
 * parent (bench/run.ts → runSimMode) prints the table and writes
 * bench/results/bench-sim.{json,md}.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Clock, TimerHandle } from '../src/clock.js';
import { FakeClock } from '../src/clock.js';
import { DEFAULT_TIMING, DSNodeConfig } from '../src/config.js';
import {
  insecureSimulationBackend,
  useSigningBackendForSimulation,
} from '../src/crypto/signing.js';
import type { Emit } from '../src/node/events.js';
import { DSNode } from '../src/node/node.js';
import { routineInterval } from '../src/node/ticker.js';
import { MemoryNetwork, type MemoryTransport, seededRandom } from '../src/transport/memory.js';
import { percentile, round } from './stats.js';

// ---- the simulated clock --------------------------------------------------

interface Timer {
  due: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * FakeClock's semantics (src/clock.ts: timers fire in order of due time, in
 * order of creation at equal times; before each one every pending promise
 * chain runs to its end, through a setImmediate) on a binary heap: FakeClock
 * scans all its timers for each one it fires, and a thousand nodes keep
 * thousands of timers (a tick each, every message in flight), which made the
 * scan the biggest cost of a 1,000-node run. `BENCH_SIM_CLOCK=fake` runs on
 * FakeClock itself instead, to compare.
 */
export class SimClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Timer[] = [];
  private cancelled = 0;
  /** Timers fired so far. */
  fired = 0;

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const e: Timer = { due: this.t + Math.max(0, ms), seq: ++this.seq, fn };
    this.push(e);
    return e as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const e = handle as unknown as Timer;
    if (e.fn === null) return;
    e.fn = null;
    // Cancelled timers stay in the heap until they come up; rebuild when they are most of it.
    if (++this.cancelled > 1024 && this.cancelled > this.heap.length / 2) {
      this.heap = this.heap.filter((x) => x.fn !== null);
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
      this.cancelled = 0;
    }
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let top = this.heap[0];
      while (top && top.fn === null) {
        this.pop();
        this.cancelled--;
        top = this.heap[0];
      }
      if (!top || top.due > end) break;
      this.pop();
      this.t = top.due;
      const fn = top.fn as () => void;
      top.fn = null;
      this.fired++;
      fn();
    }
    this.t = end;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: Timer): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Timer, h[p] as Timer)) break;
      [h[i], h[p]] = [h[p] as Timer, h[i] as Timer];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Timer;
    if (h.length === 0) return;
    h[0] = last;
    this.down(0);
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Timer, h[m] as Timer)) m = l;
      if (r < h.length && this.less(h[r] as Timer, h[m] as Timer)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
      i = m;
    }
  }
}

// ---- one simulation ---------------------------------------------------------

export interface SimOptions {
  n: number;
  seed: number;
  /** One-way delay of each message, uniform in [min, max] ms. */
  delayMs: { min: number; max: number };
  /** Probability that a message (request or answer) is lost. */
  lossRate: number;
  /** Length of the idle window, simulated seconds (with `idleAfterSeconds` null: at least one routine ping cycle). */
  idleSeconds: number;
  /**
   * Simulated seconds from full membership (or the cap) to the idle window;
   * null: one routine ping cycle at this N (see routineCycleSeconds), so that
   * the window sees pings resumed after the join.
   */
  idleAfterSeconds: number | null;
  /** Updates measured, each by another writer. */
  writers: number;
  /** Longest wait for full membership, simulated seconds. */
  membershipCapSeconds: number;
  /** Longest wait for one update to reach every node, simulated seconds. */
  convergenceCapSeconds: number;
  /** 'insecure': the simulation stand-in (src/crypto/signing.ts); 'real': the default ECDSA back end. */
  signing: 'insecure' | 'real';
}

export interface SimRow {
  n: number;
  membership: {
    reached: boolean;
    /** Simulated seconds from the cold start until every node listed every node (null: not by the cap). */
    seconds: number | null;
    capSeconds: number;
    /** Share of nodes that listed everyone when it was reached or at the cap, and of all (node, node) pairs known. */
    nodesCompletePct: number;
    pairsKnownPct: number;
    /** When half / 90 % of the nodes first listed everyone, simulated seconds (null: not that many). */
    nodeP50Seconds: number | null;
    nodeP90Seconds: number | null;
  };
  convergence: {
    updates: number;
    /** Updates that reached every node within the cap. */
    reached: number;
    capSeconds: number;
    /** Simulated ms from updateData until the last node took the value: median and max over writers. */
    medianMs: number | null;
    maxMs: number | null;
    /** The same in gossip ticks (timing.tickMs). */
    medianRounds: number | null;
    maxRounds: number | null;
    /** Longest causal chain of transport deliveries that brought the value to a node: median and max over writers. */
    medianHops: number | null;
    maxHops: number | null;
    /** Median simulated time over the mean one-way delay: hops if nothing waited. */
    medianDelays: number | null;
    /** Requests and bytes (requests + answers) of the whole network from updateData to convergence, per node: medians. */
    requestsPerNode: number | null;
    bytesPerNode: number | null;
    /** The same less what the network sends idle in that time (the idle rate below). */
    netRequestsPerNode: number | null;
    netBytesPerNode: number | null;
    samples: { writer: string; ms: number | null; hops: number | null; got: number }[];
  };
  idle: {
    seconds: number;
    /** How long a routine ping round takes at this N: a peer heard from at the join is pinged again within it. */
    routineCycleSeconds: number;
    /** Window start, simulated seconds after the cold start. */
    fromSeconds: number;
    requestsPerNodePerSec: number;
    /** Request and answer bytes per node per second, and requests' alone. */
    bytesPerNodePerSec: number;
    requestBytesPerNodePerSec: number;
    /** Requests delivered in the window per node per second, by path (lost ones are not seen). */
    byPath: Record<string, number>;
  };
  /** Peers declared gone (`disconnect`) over the whole run: with every node up, each is a false eviction. */
  evictions: number;
  alerts: { count: number; first: string[] };
  /** Transport messages the network handed over, and timers the clock fired. */
  deliveries: number;
  timersFired: number;
  memory: { peakRssMiB: number; heapUsedAfterJoinMiB: number; rssAfterJoinMiB: number };
  wallSeconds: { start: number; membership: number; idle: number; updates: number; total: number };
  cpuSeconds: number;
  /** Wall ms to create the N − 1 joining nodes up to their first message (key pairs, state, listen). */
  startMs: number;
}

const ADDR = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/**
 * Runs one simulation in this process and leaves its nodes running (a
 * process of its own: it replaces Math.random with a seeded PRNG and may
 * switch every key of the process to the insecure signing stand-in).
 */
export async function simulate(o: SimOptions): Promise<SimRow> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const phase = (() => {
    let last = performance.now();
    return () => {
      const now = performance.now();
      const s = (now - last) / 1000;
      last = now;
      return round(s, 2);
    };
  })();
  const log = (m: string) =>
    process.stderr.write(`  N=${o.n} ${m} (wall ${round((performance.now() - wall0) / 1000)} s)\n`);

  // The library's own randomness (gossip targets, probe offsets) from the seed,
  // the network's delays and losses from another stream of it.
  Math.random = seededRandom(o.seed * 2 + 1);
  if (o.signing === 'insecure') useSigningBackendForSimulation(insecureSimulationBackend);
  const fake = process.env.BENCH_SIM_CLOCK === 'fake';
  const clock = fake ? new FakeClock() : new SimClock();
  const t0 = clock.now();
  const simS = () => (clock.now() - t0) / 1000;

  const index = new Map<string, number>();
  for (let i = 0; i < o.n; i++) index.set(ADDR(i), i);
  // The delivery being handed over right now: a State taken during it came from there.
  let currentFrom = -1;
  let currentTo = -1;
  let deliveries = 0;
  const paths = new Map<string, number>();
  const network = new MemoryNetwork({
    clock,
    delayMs: o.delayMs,
    lossRate: o.lossRate,
    random: seededRandom(o.seed * 2),
    observer: (d) => {
      deliveries++;
      currentFrom = index.get(d.from) ?? -1;
      currentTo = index.get(d.to) ?? -1;
      if (d.kind === 'request') paths.set(d.path, (paths.get(d.path) ?? 0) + 1);
    },
  });
  const transports: MemoryTransport[] = [];
  const nodes: DSNode[] = [];
  const key = 'b0b1b2b3b4b5b6b7b8b9babbbcbdbebf';

  // Membership, counted from the events (peers() would cost O(N) per event).
  // DSNode.start takes the event function itself, so the join's first
  // events are seen too (DSNodeServer.start resolves only once joined).
  const known = new Int32Array(o.n);
  const firstComplete = new Float64Array(o.n).fill(Number.NaN);
  let complete = 0;
  let fullAt: number | null = null;
  let evictions = 0;
  const alerts: string[] = [];
  let onUpdate: ((node: number, from: string) => void) | null = null;
  const change = (i: number, d: number) => {
    const was = known[i] === o.n - 1;
    known[i] = (known[i] as number) + d;
    const is = known[i] === o.n - 1;
    if (is && !was) {
      complete++;
      if (Number.isNaN(firstComplete[i] as number)) firstComplete[i] = simS();
      if (complete === o.n && fullAt === null) fullAt = simS();
    } else if (was && !is) complete--;
  };
  const emitFor =
    (i: number): Emit =>
    (event, ...args) => {
      switch (event) {
        case 'peer':
          return change(i, 1);
        case 'disconnect':
          evictions++;
          return change(i, -1);
        case 'leave':
          return change(i, -1);
        case 'update':
          return onUpdate?.(i, args[0] as string);
        case 'alert':
          alerts.push(`n${i}: ${args[0]}`);
          return;
      }
    };
  const start = (i: number, boot: number | null) => {
    const t = network.transport(ADDR(i));
    transports[i] = t;
    const config = DSNodeConfig.from({
      nodeId: `n${i}`,
      port: 0,
      aesKey: key,
      credentialDir: null,
      clock,
      transport: t,
      bootstrapNodes: boot === null ? [] : [{ address: ADDR(0), port: boot }],
    });
    return DSNode.start(config, emitFor(i)).then((s) => {
      nodes[i] = s;
      return s;
    });
  };

  // ---- cold start: node 0, then all the others at once through it ----
  const first = await start(0, null);
  const wallStart = performance.now();
  const joining: Promise<unknown>[] = [];
  for (let i = 1; i < o.n; i++) joining.push(start(i, first.port).catch(() => {}));
  // Each start() ran up to its first message: keys and state made.
  const startMs = round(performance.now() - wallStart);
  const cap = o.membershipCapSeconds;
  let nextLog = 10;
  while (fullAt === null && simS() < cap) {
    await clock.advance(100);
    if (simS() >= nextLog) {
      nextLog += 10;
      const pct = round((100 * known.reduce((a, k) => a + k, 0)) / (o.n * (o.n - 1)), 1);
      log(`${round(simS())} simulated s: ${complete} nodes complete, ${pct}% of pairs known`);
    }
  }
  const capped = fullAt === null;
  const pairs = known.reduce((a, k) => a + k, 0);
  const membership = {
    reached: !capped,
    seconds: fullAt === null ? null : round(fullAt, 2),
    capSeconds: cap,
    nodesCompletePct: round((100 * complete) / o.n, 1),
    pairsKnownPct: round((100 * pairs) / (o.n * (o.n - 1)), 1),
    nodeP50Seconds: pctOrNull([...firstComplete], 50, o.n),
    nodeP90Seconds: pctOrNull([...firstComplete], 90, o.n),
  };
  log(
    capped
      ? `membership not reached by ${cap} s: ${membership.nodesCompletePct}% of nodes complete, ${membership.pairsKnownPct}% of pairs`
      : `full membership at ${membership.seconds} simulated s`,
  );
  const wallMembership = phase();
  const memJoin = process.memoryUsage();

  // ---- idle: let the join settle, then a window without writes ----
  const cycle = routineCycleSeconds(o.n);
  const idleAfter = o.idleAfterSeconds ?? cycle;
  const idleSeconds = o.idleAfterSeconds === null ? Math.max(o.idleSeconds, cycle) : o.idleSeconds;
  await clock.advance(idleAfter * 1000);
  const totals = () => {
    let req = 0;
    let sent = 0;
    let recv = 0;
    for (const t of transports) {
      req += t.stats.requestsSent;
      sent += t.stats.bytesSent;
      recv += t.stats.bytesReceived;
    }
    return { req, sent, recv };
  };
  const idleFrom = simS();
  const i0 = totals();
  paths.clear();
  await clock.advance(idleSeconds * 1000);
  const i1 = totals();
  const perNodeSec = (x: number) => x / o.n / idleSeconds;
  const idle = {
    seconds: idleSeconds,
    routineCycleSeconds: cycle,
    fromSeconds: round(idleFrom, 1),
    requestsPerNodePerSec: round(perNodeSec(i1.req - i0.req), 3),
    bytesPerNodePerSec: round(perNodeSec(i1.sent - i0.sent + i1.recv - i0.recv), 1),
    requestBytesPerNodePerSec: round(perNodeSec(i1.sent - i0.sent), 1),
    byPath: Object.fromEntries(
      [...paths].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, round(perNodeSec(v), 3)]),
    ),
  };
  log(`idle ${idle.requestsPerNodePerSec} requests, ${idle.bytesPerNodePerSec} B per node per s`);
  const wallIdle = phase();

  // ---- updates: one by each of several writers, far apart ----
  const tick = DEFAULT_TIMING.tickMs;
  const meanDelay = (o.delayMs.min + o.delayMs.max) / 2;
  const samples: SimRow['convergence']['samples'] = [];
  const perUpdate: { req: number; bytes: number; ms: number }[] = [];
  for (let k = 0; k < o.writers; k++) {
    const wi = 1 + Math.floor((k * (o.n - 1)) / Math.max(1, o.writers)); // spread out, never the bootstrap
    const w = nodes[wi];
    if (!w) continue;
    const value = `update-${k}`;
    const hops = new Int32Array(o.n).fill(-1);
    hops[wi] = 0;
    let got = 0;
    let doneAt: number | null = null;
    let doneTotals = totals();
    let maxHop = 0;
    let hopsKnown = true;
    const wid = w.nodeId();
    onUpdate = (i, id) => {
      if (id !== wid || hops[i] !== -1 || nodes[i]?.readData(id, 'v') !== value) return;
      const src = currentTo === i ? (hops[currentFrom] ?? -1) : -1;
      if (src < 0) hopsKnown = false;
      hops[i] = src < 0 ? 0 : src + 1;
      maxHop = Math.max(maxHop, hops[i] as number);
      if (++got === o.n - 1) {
        doneAt = clock.now();
        doneTotals = totals();
      }
    };
    const before = totals();
    const at = clock.now();
    w.updateData('v', value).catch(() => {});
    const end = at + o.convergenceCapSeconds * 1000;
    while (doneAt === null && clock.now() < end) await clock.advance(50);
    onUpdate = null;
    const ms = doneAt === null ? null : doneAt - at;
    samples.push({ writer: w.nodeId(), ms, hops: hopsKnown ? maxHop : null, got });
    if (ms !== null) {
      perUpdate.push({
        req: (doneTotals.req - before.req) / o.n,
        bytes: (doneTotals.sent - before.sent + doneTotals.recv - before.recv) / o.n,
        ms,
      });
    }
    log(
      `update by ${w.nodeId()}: ${ms === null ? `not everywhere (${got + 1}/${o.n})` : `${ms.toFixed(1)} ms, ${maxHop} hops`}`,
    );
    // Let this update's last answers and any relaying finish before the next.
    await clock.advance(2 * tick);
  }
  const reached = samples.filter((s) => s.ms !== null);
  const ms = reached.map((s) => s.ms as number);
  const hopList = reached.filter((s) => s.hops !== null).map((s) => s.hops as number);
  const med = (xs: number[], digits = 1) => (xs.length ? round(percentile(xs, 50), digits) : null);
  const idleReqPerMs = idle.requestsPerNodePerSec / 1000;
  const idleBytesPerMs = idle.bytesPerNodePerSec / 1000;
  const convergence: SimRow['convergence'] = {
    updates: samples.length,
    reached: reached.length,
    capSeconds: o.convergenceCapSeconds,
    medianMs: med(ms),
    maxMs: ms.length ? round(Math.max(...ms), 1) : null,
    medianRounds: med(
      ms.map((x) => x / tick),
      3,
    ),
    maxRounds: ms.length ? round(Math.max(...ms) / tick, 3) : null,
    medianHops: med(hopList),
    maxHops: hopList.length ? Math.max(...hopList) : null,
    medianDelays: med(ms.map((x) => x / meanDelay)),
    requestsPerNode: med(
      perUpdate.map((u) => u.req),
      2,
    ),
    bytesPerNode: med(perUpdate.map((u) => u.bytes)),
    netRequestsPerNode: med(
      perUpdate.map((u) => Math.max(0, u.req - idleReqPerMs * u.ms)),
      2,
    ),
    netBytesPerNode: med(perUpdate.map((u) => Math.max(0, u.bytes - idleBytesPerMs * u.ms))),
    samples,
  };
  const wallUpdates = phase();

  // Checked with the public API once: every node lists every node (if membership said so).
  if (membership.reached) {
    const bad = nodes.filter((s) => s.peers().length !== o.n).length;
    if (bad > 0) log(`warning: ${bad} nodes do not list all ${o.n} at the end`);
  }
  const cpu = process.cpuUsage(cpu0);
  const row: SimRow = {
    n: o.n,
    membership,
    convergence,
    idle,
    evictions,
    alerts: { count: alerts.length, first: alerts.slice(0, 5) },
    deliveries,
    timersFired: clock instanceof SimClock ? clock.fired : -1,
    memory: {
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
      heapUsedAfterJoinMiB: round(memJoin.heapUsed / 2 ** 20),
      rssAfterJoinMiB: round(memJoin.rss / 2 ** 20),
    },
    wallSeconds: {
      start: round(startMs / 1000, 2),
      membership: wallMembership,
      idle: wallIdle,
      updates: wallUpdates,
      total: round((performance.now() - wall0) / 1000, 1),
    },
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
    startMs,
  };
  // (A join still running at the cap is left as it is: the process ends.)
  // The nodes are left running: the child process ends after this. (Stopping
  // a thousand nodes would send each peer a LEAVE: a million messages for nothing.)
  return row;
}

function pctOrNull(times: number[], p: number, n: number): number | null {
  const done = times.filter((t) => !Number.isNaN(t));
  if (done.length < Math.ceil((p / 100) * n)) return null;
  return round(percentile(done.concat(new Array(n - done.length).fill(Infinity)), p), 2);
}

// ---- the parent: one child process per size, the table, the report -------

export interface SimModeOptions {
  sizes: number[];
  seed: number;
  lossRate: number;
  delayMs: { min: number; max: number };
  idleSeconds: number;
  idleAfterSeconds: number | null;
  writers: number;
  membershipCapSeconds: number;
  signing: 'insecure' | 'real';
  out: string;
  tag: string;
  machine: Record<string, unknown>;
}

/** The targets the library's scale work aims at, checked against the rows. */
export function simTargets(rows: SimRow[]): { what: string; value: string; met: boolean | null }[] {
  const at1000 = rows.find((r) => r.n === 1000);
  const none = { value: 'no 1,000-node row', met: null };
  const out: { what: string; value: string; met: boolean | null }[] = [];
  out.push({
    what: 'convergence ≤ 12 rounds at 1,000 nodes (O(log N))',
    ...(at1000
      ? at1000.convergence.medianRounds === null ||
        at1000.convergence.reached < at1000.convergence.updates
        ? {
            value: `${at1000.convergence.reached}/${at1000.convergence.updates} updates reached every node`,
            met: false,
          }
        : {
            value: `median ${at1000.convergence.medianRounds} rounds (max ${at1000.convergence.maxRounds}), ${at1000.convergence.medianHops ?? '?'} hops`,
            met: (at1000.convergence.maxRounds as number) <= 12,
          }
      : none),
  });
  const idle = rows.map((r) => r.idle.requestsPerNodePerSec);
  const lo = Math.min(...idle);
  const hi = Math.max(...idle);
  const flat = rows.length < 2 ? null : hi <= 1.5 * lo + 0.05;
  // Routine pings resume only one probe interval (which grows with N) after
  // a peer was last heard from, and the join heard from everyone: a window
  // without a single PING has not seen the steady state, and is not judged.
  const pingless = rows.filter((r) => !(r.idle.byPath['/ping'] ?? 0)).map((r) => r.n);
  const caveat = pingless.length
    ? ` — no PING in the window at N=${pingless.join(', ')} (routine pings had not resumed since the join: raise --sim-idle-after)`
    : '';
  out.push({
    what: 'idle messages per node per second ≤ 2 and constant in N (largest ≤ 1.5 × smallest)',
    value: rows.map((r) => `${r.n}: ${r.idle.requestsPerNodePerSec}`).join(', ') + caveat,
    met: rows.length === 0 || (pingless.length && hi <= 2) ? null : hi <= 2 && flat !== false,
  });
  out.push({
    what: 'full membership of 1,000 nodes within 60 simulated s',
    ...(at1000
      ? {
          value: at1000.membership.reached
            ? `${at1000.membership.seconds} s`
            : `not reached, ${at1000.membership.nodesCompletePct}% of nodes at ${at1000.membership.capSeconds} s`,
          met: at1000.membership.reached && (at1000.membership.seconds as number) <= 60,
        }
      : none),
  });
  return out;
}

const HEAD = [
  'N',
  'members s',
  'conv ms',
  'rounds',
  'hops',
  'req/upd/node',
  'B/upd/node',
  'idle req/node/s',
  'idle B/node/s',
  'evict',
  'peak RSS MiB',
  'wall s',
];

function cells(r: SimRow): string[] {
  const m = r.membership;
  const c = r.convergence;
  const conv = c.reached < c.updates ? ` (${c.reached}/${c.updates})` : '';
  return [
    String(r.n),
    m.reached ? String(m.seconds) : `not reached, ${m.nodesCompletePct}% at ${m.capSeconds}`,
    `${c.medianMs ?? '–'}${conv}`,
    String(c.medianRounds ?? '–'),
    c.medianHops === null ? '–' : `${c.medianHops}/${c.maxHops}`,
    String(c.requestsPerNode ?? '–'),
    String(c.bytesPerNode ?? '–'),
    String(r.idle.requestsPerNodePerSec),
    String(r.idle.bytesPerNodePerSec),
    String(r.evictions),
    String(r.memory.peakRssMiB),
    String(r.wallSeconds.total),
  ];
}

export function simTable(rows: SimRow[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const lines = all.map((r) => r.map((c, i) => c.padStart(w[i] ?? 0)).join('  '));
  const mark = (met: boolean | null) => (met === null ? '–' : met ? 'met' : 'NOT MET');
  for (const r of rows) {
    const by = Object.entries(r.idle.byPath).map(([k, v]) => `${k} ${v}`);
    lines.push(`N=${r.n} idle requests/node/s by path: ${by.join(', ') || 'none'}`);
  }
  lines.push('', 'targets:');
  for (const t of simTargets(rows)) lines.push(`  ${mark(t.met).padEnd(7)}  ${t.what}: ${t.value}`);
  return lines.join('\n');
}

export function simCommand(o: SimModeOptions): string {
  const d =
    o.delayMs.min === o.delayMs.max ? `${o.delayMs.min}` : `${o.delayMs.min}-${o.delayMs.max}`;
  return [
    'npm run bench -- --mode sim',
    `--sizes ${o.sizes.join(',')}`,
    `--sim-seed ${o.seed}`,
    `--sim-loss ${o.lossRate}`,
    `--sim-delay ${d}`,
    `--sim-writers ${o.writers}`,
    `--sim-cap ${o.membershipCapSeconds}`,
    `--sim-idle-after ${o.idleAfterSeconds ?? 'auto'}`,
    `--idle-seconds ${o.idleSeconds}`,
    ...(o.signing === 'real' ? ['--sim-signing real'] : []),
  ].join(' ');
}

function simMarkdown(o: SimModeOptions, rows: SimRow[]): string {
  const m = o.machine;
  const head = `| ${HEAD.join(' | ')} |\n|${HEAD.map(() => '---:').join('|')}|\n`;
  const body = rows.map((r) => `| ${cells(r).join(' | ')} |`).join('\n');
  const mark = (met: boolean | null) => (met === null ? '–' : met ? '**met**' : '**not met**');
  const targets = simTargets(rows)
    .map((t) => `- ${t.what}: ${t.value} — ${mark(t.met)}`)
    .join('\n');
  const detail = rows
    .map((r) => {
      const c = r.convergence;
      return [
        `- N=${r.n}: membership p50/p90 node complete at ${r.membership.nodeP50Seconds ?? '–'}/${r.membership.nodeP90Seconds ?? '–'} s, ${r.membership.pairsKnownPct}% of pairs known at the end;`,
        `convergence max ${c.maxMs ?? '–'} ms (${c.maxRounds ?? '–'} rounds), ${c.medianDelays ?? '–'} mean delays;`,
        `per update net of idle ${c.netRequestsPerNode ?? '–'} requests, ${c.netBytesPerNode ?? '–'} B per node;`,
        `idle request bytes alone ${r.idle.requestBytesPerNodePerSec} B/node/s (window ${r.idle.fromSeconds}–${round(r.idle.fromSeconds + r.idle.seconds, 1)} s), requests/node/s by path: ${Object.entries(
          r.idle.byPath,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')};`,
        `${r.deliveries} deliveries, ${r.timersFired} timers; heap after join ${r.memory.heapUsedAfterJoinMiB} MiB;`,
        `wall s: start ${r.wallSeconds.start}, membership ${r.wallSeconds.membership}, idle ${r.wallSeconds.idle}, updates ${r.wallSeconds.updates}; CPU ${r.cpuSeconds} s;`,
        `${r.alerts.count} alerts${r.alerts.first.length ? ` (first: ${r.alerts.first[0]})` : ''}`,
      ].join(' ');
    })
    .join('\n');
  return `# DSN benchmark: simulation (in-memory transport, simulated clock)

${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.date}. Signing: ${o.signing === 'insecure' ? 'INSECURE simulation stand-in (SHA-256), not ECDSA' : String(m.crypto)}; AES on.
One-way delay ${o.delayMs.min}–${o.delayMs.max} ms (uniform), loss ${o.lossRate * 100}% of messages, seed ${o.seed}; the library's default timing (tick ${DEFAULT_TIMING.tickMs} ms).

${head}${body}

Targets:

${targets}

${detail}

Reproduce: \`${simCommand(o)}\`

Columns: see bench/README.md (SIM). Simulated time counts message delays and
timers only — no CPU time: a node answers in zero simulated time.
`;
}

/** Runs every size in its own child process; prints and writes the report. */
export async function runSimMode(o: SimModeOptions): Promise<SimRow[]> {
  mkdirSync(o.out, { recursive: true });
  const base = join(o.out, `bench-sim${o.tag ? `-${o.tag}` : ''}`);
  const rows: SimRow[] = [];
  const t0 = performance.now();
  for (const n of o.sizes) {
    console.log(`N=${n} …`);
    const row = await child(o, n);
    rows.push(row);
    console.log(simTable([row]));
    const json = {
      machine: o.machine,
      options: { ...o, machine: undefined },
      command: simCommand(o),
      rows,
    };
    writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(`${base}.md`, simMarkdown(o, rows));
  }
  console.log(`\n${simTable(rows)}`);
  console.log(`wrote ${base}.json, .md (${round((performance.now() - t0) / 1000)} s)`);
  console.log(`reproduce: ${simCommand(o)}`);
  return rows;
}

const SELF = fileURLToPath(import.meta.url);

/**
 * Simulated seconds a routine ping round takes in a network of `n` with the
 * default timing: the interval stretched for n − 1 peers plus the largest
 * offset of the pinging side (ticker.ts routineInterval), rounded up.
 */
export function routineCycleSeconds(n: number): number {
  const t = DEFAULT_TIMING;
  const { base, stretch } = routineInterval(n - 1, t);
  return Math.ceil((base + (t.probeJitterMs / 4) * stretch) / 1000);
}

function child(o: SimModeOptions, n: number): Promise<SimRow> {
  const opts: SimOptions = {
    n,
    seed: o.seed,
    delayMs: o.delayMs,
    lossRate: o.lossRate,
    idleSeconds: o.idleSeconds,
    idleAfterSeconds: o.idleAfterSeconds,
    writers: o.writers,
    membershipCapSeconds: o.membershipCapSeconds,
    convergenceCapSeconds: 120,
    signing: o.signing,
  };
  // A thousand nodes with 999 peers each hold a million peer records: more
  // than the default heap on a small machine.
  const heapMiB = Math.floor(Math.min(16 * 1024, (totalmem() / 2 ** 20) * 0.75));
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        `--max-old-space-size=${heapMiB}`,
        ...flags,
        '--import',
        'tsx',
        SELF,
        '--child',
        JSON.stringify(opts),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let row: SimRow | null = null;
    p.on('message', (m) => {
      row = m as SimRow;
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (row) resolve(row);
      else reject(new Error(`simulation of N=${n} ended (${signal ?? code}) without a result`));
    });
  });
}

// The child: `node --import tsx bench/sim.ts --child '<SimOptions JSON>'`.
if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: { child: { type: 'string' } } });
  if (!values.child) {
    process.stderr.write('usage: runs from `npm run bench -- --mode sim` (bench/run.ts)\n');
    process.exit(2);
  }
  const row = await simulate(JSON.parse(values.child) as SimOptions);
  (process.send as (m: unknown, cb: () => void) => void)(row, () => process.exit(0));
}
