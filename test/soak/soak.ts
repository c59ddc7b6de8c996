import { generateKey, type Timing } from '../../src/index.js';
import { tempDir, until } from '../helpers/net.js';
import { ProcNode } from '../helpers/proc.js';

/**
 * A soak run: N node processes on 127.0.0.1, random updates, random kill -9
 * and restarts with the same ID and credentials. At the end every live node
 * must hold every live owner's last acknowledged value (zero lost updates)
 * and the RSS of the nodes that were never killed must not have grown by
 * 10 % or more (measured after a GC in each process, from the end of a
 * warm-up to the end of the run).
 */
export interface SoakOptions {
  nodes: number;
  durationMs: number;
  /** Mean pause between two updates (to a random live node). */
  updateEveryMs: number;
  /** Mean pause between two kills. */
  killEveryMs: number;
  /** A killed node comes back after a random pause in this range. */
  restartAfterMs: [number, number];
  /** Most nodes dead at once. */
  maxDead: number;
  /** Nodes never killed (their RSS is what is measured). */
  stable: number;
  /** Traffic before the RSS baseline is taken. */
  warmupMs: number;
  /** How long the network may take to converge once the faults stop. */
  settleMs: number;
  keys: number;
  timing?: Partial<Timing>;
  log?: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = {
  nodes: 20,
  durationMs: 5 * 60_000,
  updateEveryMs: 100,
  killEveryMs: 5_000,
  restartAfterMs: [500, 12_000],
  maxDead: 4,
  stable: 5,
  warmupMs: 15_000,
  settleMs: 60_000,
  keys: 5,
};

export interface SoakSummary {
  nodes: number;
  seconds: number;
  updates: number;
  kills: number;
  restarts: number;
  /** Disconnect events: a killed node dropped by a live one, or a live node dropped (wrongly). */
  drops: number;
  wrongfulDrops: number;
  convergedAfterMs: number | null;
  /** Observer/owner pairs whose final view differs from the owner's last written state. */
  lost: number;
  lostDetail: string[];
  rss: { baselineMiB: number; finalMiB: number; growthPct: number };
  ok: boolean;
}

type Entries = [string, string][];

const canon = (e: Entries | Map<string, string> | undefined | null) =>
  JSON.stringify([...(e ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export async function runSoak(opts: SoakOptions): Promise<SoakSummary> {
  const log = opts.log ?? (() => {});
  const key = generateKey();
  const creds = tempDir('dsn-soak-');
  const ids = Array.from({ length: opts.nodes }, (_, i) => `s${String(i).padStart(2, '0')}`);
  const stableIds = new Set(ids.slice(0, opts.stable));
  const procs = new Map<string, ProcNode>();
  const ports = new Map<string, number>();
  /** The owner's state as the driver wrote it, per incarnation. */
  const expected = new Map<string, Map<string, string>>();
  const deadSince = new Map<string, number>();
  let updates = 0;
  let kills = 0;
  let restarts = 0;
  let drops = 0;
  let wrongfulDrops = 0;
  let seq = 0;
  const everyProc: ProcNode[] = [];
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>) => {
    pending.add(p);
    p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  };

  const live = () => [...procs.values()].filter((p) => !p.exited && !deadSince.has(p.id));
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)] as T;

  async function start(id: string, via: string | null): Promise<ProcNode> {
    const p = new ProcNode({
      id,
      port: ports.get(id) ?? 0,
      host: '127.0.0.1',
      key,
      cred: creds.path,
      bootstrap: via ? [`127.0.0.1:${ports.get(via)}`] : [],
      ...(opts.timing ? { timing: opts.timing } : {}),
    });
    everyProc.push(p);
    p.on('disconnect', (node: string) => {
      drops++;
      if (!deadSince.has(node)) {
        wrongfulDrops++;
        log(`WRONGFUL: ${id} dropped ${node}, which is alive`);
      }
    });
    p.on('alert', (m: string) => {
      if (!/no bootstrap node (answered|admitted)/.test(m)) log(`alert from ${id}: ${m}`);
    });
    await p.ready;
    ports.set(id, p.port);
    procs.set(id, p);
    expected.set(id, new Map());
    deadSince.delete(id);
    return p;
  }

  async function restart(id: string): Promise<void> {
    const via = pick(live().map((p) => p.id));
    await start(id, via);
    restarts++;
  }

  function update(): void {
    const p = pick(live());
    if (!p) return;
    const k = `k${Math.floor(Math.random() * opts.keys)}`;
    const v = `${p.id}#${++seq}`;
    const mine = expected.get(p.id);
    // The node applies commands in the order they are written, so the last
    // value written here is the node's; a kill resets the expectation (a
    // restarted node starts from an empty state).
    mine?.set(k, v);
    track(
      p.update(k, v).then(
        () => {
          updates++;
        },
        () => {}, // killed meanwhile: that incarnation's state is gone with it
      ),
    );
  }

  function kill(): void {
    const candidates = live().filter((p) => !stableIds.has(p.id));
    if (candidates.length === 0 || deadSince.size >= opts.maxDead) return;
    const p = pick(candidates);
    deadSince.set(p.id, Date.now());
    kills++;
    track(p.kill());
    const [lo, hi] = opts.restartAfterMs;
    const after = lo + Math.random() * (hi - lo);
    track(
      new Promise((r) => setTimeout(r, after))
        .then(() => restart(p.id))
        .catch((err: Error) => log(`restart of ${p.id} failed: ${err.message}`)),
    );
  }

  /** Repeats `fn` at random intervals with mean `meanMs` until `stop()`. */
  function every(meanMs: number, fn: () => void): { stop(): void } {
    let t: NodeJS.Timeout;
    let on = true;
    const arm = () => {
      t = setTimeout(
        () => {
          if (!on) return;
          fn();
          arm();
        },
        meanMs * (0.5 + Math.random()),
      );
    };
    arm();
    return {
      stop() {
        on = false;
        clearTimeout(t);
      },
    };
  }

  const holdsAll = () => {
    const ps = live();
    return ps.every((o) =>
      ps.every((w) => o === w || canon(o.view.get(w.id)) === canon(expected.get(w.id))),
    );
  };

  const rssOf = async (ps: ProcNode[]) =>
    (await Promise.all(ps.map((p) => p.memory()))).reduce((s, m) => s + m.rss, 0);

  const t0 = Date.now();
  try {
    // Start: the first node, then the rest through it.
    await start(ids[0] as string, null);
    await Promise.all(ids.slice(1).map((id) => start(id, ids[0] as string)));
    log(`${opts.nodes} nodes up after ${Date.now() - t0} ms`);
    await until(
      live(),
      () => live().every((p) => p.view.size === opts.nodes - 1),
      'all nodes meshed',
      { events: ['peer', 'disconnect'], timeoutMs: 60_000 },
    );

    // Warm-up traffic, then the RSS baseline of the stable nodes.
    const warm = every(opts.updateEveryMs, update);
    await new Promise((r) => setTimeout(r, opts.warmupMs));
    const stable = [...stableIds].map((id) => procs.get(id) as ProcNode);
    const baseline = await rssOf(stable);
    log(`RSS baseline of ${stable.length} stable nodes: ${(baseline / 2 ** 20).toFixed(1)} MiB`);

    // Faults.
    const faults = every(opts.killEveryMs, kill);
    const reporter = setInterval(
      () =>
        log(
          `${((Date.now() - t0) / 1000).toFixed(0)} s: ${updates} updates, ${kills} kills, ` +
            `${restarts} restarts, ${deadSince.size} down`,
        ),
      10_000,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, opts.durationMs - (Date.now() - t0))));
    faults.stop();
    warm.stop();
    clearInterval(reporter);
    // Let every kill and restart in flight finish: all nodes are up again.
    while (pending.size > 0) await Promise.allSettled([...pending]);
    const stoppedAt = Date.now();
    let convergedAfterMs: number | null = null;
    try {
      await until(live(), holdsAll, 'every live node holds every live owner’s last value', {
        events: ['update', 'peer', 'disconnect'],
        timeoutMs: opts.settleMs,
      });
      convergedAfterMs = Date.now() - stoppedAt;
    } catch {
      // counted below
    }

    // The final word comes from the processes themselves, not the mirrored events.
    const lostDetail: string[] = [];
    const ps = live();
    for (const o of ps) {
      const states = await o.states();
      for (const w of ps) {
        const want = canon(expected.get(w.id));
        const got = canon(states[w.id]);
        if (got !== want) lostDetail.push(`${o.id} holds ${w.id} = ${got}, want ${want}`);
      }
    }
    const final = await rssOf(stable);
    const growthPct = ((final - baseline) / baseline) * 100;
    const summary: SoakSummary = {
      nodes: opts.nodes,
      seconds: Math.round((Date.now() - t0) / 1000),
      updates,
      kills,
      restarts,
      drops,
      wrongfulDrops,
      convergedAfterMs,
      lost: lostDetail.length,
      lostDetail: lostDetail.slice(0, 20),
      rss: {
        baselineMiB: +(baseline / 2 ** 20).toFixed(1),
        finalMiB: +(final / 2 ** 20).toFixed(1),
        growthPct: +growthPct.toFixed(2),
      },
      ok: lostDetail.length === 0 && growthPct < 10 && ps.length === opts.nodes,
    };
    return summary;
  } finally {
    await Promise.all(everyProc.map((p) => p.kill()));
    creds.cleanup();
  }
}

export function describeSummary(s: SoakSummary): string {
  return [
    `soak: ${s.nodes} nodes for ${s.seconds} s — ${s.updates} updates acknowledged, ${s.kills} kill -9, ${s.restarts} restarts`,
    `  disconnect events: ${s.drops} (${s.wrongfulDrops} of a live node)`,
    `  converged ${s.convergedAfterMs === null ? 'NOT within the settle time' : `${s.convergedAfterMs} ms after the faults stopped`}`,
    `  lost updates: ${s.lost} observer/owner pairs differ${s.lost ? `:\n    ${s.lostDetail.join('\n    ')}` : ''}`,
    `  RSS of the never-killed nodes: ${s.rss.baselineMiB} MiB → ${s.rss.finalMiB} MiB (${s.rss.growthPct >= 0 ? '+' : ''}${s.rss.growthPct} %)`,
    `  ${s.ok ? 'OK' : 'FAILED'}`,
  ].join('\n');
}
