import type { Row } from './types.js';

/** The machine line at the head of every report. */
export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  crypto: string;
  mode: string;
  date: string;
}

const HEAD = [
  'N',
  'join ms',
  'conv p50',
  'p90',
  'p99',
  '1st p50',
  'floor p50',
  '×floor',
  'upd/s',
  'lag p99',
  'final',
  'CPU s/upd',
  'idle cores',
  'B/upd',
  'RSS MiB',
  'private MiB',
];

function cells(r: Row): string[] {
  return [
    String(r.n),
    String(r.joinMs),
    String(r.convergence.median),
    String(r.convergence.p90),
    String(r.convergence.p99),
    r.warmup ? String(r.warmup.median) : '–',
    r.floor ? String(r.floor.median) : '–',
    r.floor ? String(r.floor.ratio) : '–',
    String(r.throughput.acceptedPerSec),
    String(r.throughput.lagP99Ms),
    r.throughput.finalEverywhere ? 'yes' : 'NO',
    String(r.cpuSecPerUpdate),
    String(r.idleCores),
    String(r.bytesPerUpdate),
    `${r.rssMiB.median}/${r.rssMiB.max}`,
    r.privateMiB ? `${r.privateMiB.median}/${r.privateMiB.max}` : '–',
  ];
}

/** A plain-text table for the terminal. */
export function table(rows: Row[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')).join('\n');
}

/** The targets, checked against the rows that exist. */
function targets(rows: Row[]): string[] {
  const at = (n: number) => rows.find((r) => r.n === n);
  const out: string[] = [];
  const first = (r: Row | undefined) =>
    r?.warmup ? `; each node's first write: ${r.warmup.median} ms` : '';
  const check = (ok: boolean | undefined, text: string) => {
    if (ok !== undefined) out.push(`- ${ok ? '✅' : '❌'} ${text}`);
  };
  // Neither met nor missed: a target whose measurement this run lacks.
  const unmeasured = (text: string) => out.push(`- ❔ ${text}`);
  // A ratio to the protocol-free floor of the same run, so the target does
  // not move with the machine's speed.
  const vsFloor = (n: number) => {
    const r = at(n);
    if (!r) return;
    const text = `convergence median N=${n} ≤ 2× floor`;
    if (r.floor) {
      check(
        r.floor.ratio <= 2,
        `${text} (${r.convergence.median} ms vs floor ${r.floor.median} ms = ${r.floor.ratio}×${first(r)})`,
      );
    } else {
      unmeasured(`${text}: floor not measured (${r.convergence.median} ms${first(r)})`);
    }
  };
  const r50 = at(50);
  const r100 = at(100);
  const r10 = at(11) ?? at(10);
  vsFloor(25);
  vsFloor(50);
  check(
    r100 && r100.convergence.median <= 80 && r100.convergence.p99 <= 250,
    `convergence N=100 median ≤ 80 ms, p99 ≤ 250 ms (${r100?.convergence.median} / ${r100?.convergence.p99} ms${first(r100)})`,
  );
  check(
    r50 && r50.joinMs <= 10_000,
    `full mesh of 50 ≤ 10 s (${r50 && (r50.joinMs / 1000).toFixed(1)} s)`,
  );
  check(
    r100 && r100.joinMs <= 30_000,
    `full mesh of 100 ≤ 30 s (${r100 && (r100.joinMs / 1000).toFixed(1)} s)`,
  );
  check(
    r50 && r50.cpuSecPerUpdate <= 0.1,
    `network CPU per update at N=50 ≤ 0.1 s (${r50?.cpuSecPerUpdate} s)`,
  );
  check(r50 && r50.idleCores <= 0.25, `idle CPU of 50 nodes ≤ 0.25 core (${r50?.idleCores})`);
  check(
    r10 &&
      r10.throughput.acceptedPerSec >= 1000 &&
      r10.throughput.lagP99Ms <= 100 &&
      r10.throughput.finalEverywhere,
    `one writer ≥ 1,000 updates/s to ${r10 ? r10.n - 1 : '?'} peers, lag p99 ≤ 100 ms, final value everywhere (${r10?.throughput.acceptedPerSec}/s, ${r10?.throughput.lagP99Ms} ms)`,
  );
  if (rows.length > 0) {
    // Private memory is what a node costs: RSS also counts the pages of
    // Node.js's own code, which every node process shares.
    const rss = `RSS max ${Math.max(...rows.map((r) => r.rssMiB.max))} MiB, counting the pages every Node.js process shares`;
    const own = rows.map((r) => r.privateMiB?.max);
    if (own.every((v): v is number => v !== undefined)) {
      const max = Math.max(...own);
      check(max <= 60, `private memory ≤ 60 MiB per node (max ${max} MiB; ${rss})`);
    } else {
      unmeasured(
        `private memory ≤ 60 MiB per node: not measured (needs node processes and Linux's /proc/<pid>/smaps_rollup; ${rss})`,
      );
    }
    const before = Math.max(...rows.map((r) => r.rssIdleMiB.max));
    out.push(
      `- (before the throughput run, after the convergence and idle runs: RSS at most ${before} MiB per node)`,
    );
  }
  return out;
}

export function markdown(m: Machine, rows: Row[]): string {
  const head = `| ${HEAD.join(' | ')} |\n|${HEAD.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${cells(r).join(' | ')} |`).join('\n');
  return `# Benchmark (${m.mode} mode)

${m.cores} cores (${m.cpu}), Node ${m.node}, signatures by ${m.crypto}, ${m.date}.
Every node on 127.0.0.1 with AES on. Times in ms; conv = until every other node reads a new value,
over the updates after a warm-up; 1st p50 = the median of the warm-up updates (by default each
node's first write, when connections are still being opened and code is cold);
floor p50 = the median of the same fan-out over plain TCP with no protocol (bench/fanout.mjs,
N processes, run once that size's nodes had stopped), ×floor = conv p50 / floor p50 (– where not
measured); upd/s and lag p99 = one writer as fast as it can; CPU and bytes are the whole network's
per update; RSS and private memory per node process (median/max) after that run: private = not
shared with other processes, what the memory target counts (RSS also counts the pages of Node.js's
code that every process maps).

${head}
${body}

Targets:
${targets(rows).join('\n')}
`;
}

/** Convergence (median and p99) against N, as an SVG line chart. */
export function chartSvg(m: Machine, rows: Row[]): string {
  const W = 640;
  const H = 360;
  const pad = { l: 60, r: 20, t: 40, b: 50 };
  const maxN = Math.max(...rows.map((r) => r.n), 1);
  const maxY =
    Math.max(
      ...rows.map((r) => Math.max(r.convergence.p99, r.warmup?.median ?? 0, r.floor?.median ?? 0)),
      1,
    ) * 1.1;
  const x = (n: number) => pad.l + (n / maxN) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const line = (f: (r: Row) => number, color: string, label: string, i: number, of = rows) => {
    const pts = of.map((r) => `${x(r.n).toFixed(1)},${y(f(r)).toFixed(1)}`).join(' ');
    const dots = of
      .map(
        (r) =>
          `<circle cx="${x(r.n).toFixed(1)}" cy="${y(f(r)).toFixed(1)}" r="3" fill="${color}"/>`,
      )
      .join('');
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>${dots}<text x="${W - pad.r - 120}" y="${pad.t + 16 * i}" fill="${color}" font-size="12">${label}</text>`;
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = maxY * f;
    return `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(v < 10 ? 1 : 0)}</text>`;
  });
  // Only the sizes whose floor was measured (--floor-sizes).
  const floored = rows.filter((r) => r.floor);
  const xt = rows.map(
    (r) =>
      `<text x="${x(r.n)}" y="${H - pad.b + 16}" text-anchor="middle" font-size="11">${r.n}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad.l}" y="22" font-size="14">Convergence vs N — ${m.cores} cores, Node ${m.node}, ${m.mode} mode</text>
${ticks.join('\n')}
${xt.join('\n')}
<text x="${(W + pad.l) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">nodes (N)</text>
<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle" font-size="12">ms until every node reads it</text>
${line((r) => r.convergence.median, '#1f77b4', 'median', 1)}
${line((r) => r.convergence.p99, '#d62728', 'p99', 2)}
${rows.every((r) => r.warmup) ? line((r) => r.warmup?.median ?? 0, '#7f7f7f', 'first writes (median)', 3) : ''}
${floored.length > 0 ? line((r) => r.floor?.median ?? 0, '#2ca02c', 'floor (median)', 4, floored) : ''}
</svg>
`;
}
