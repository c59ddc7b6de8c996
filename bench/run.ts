/**
 * npm run bench [-- --sizes 5,10,25,50,100 --mode process|inproc|data|sim --updates 60
 *                   --warmup round|0|R --throughput-seconds 10 --idle-seconds 60
 *                   --floor-sizes 25,50
 *                   --data-sizes 8k,256k,4m,32m --data-sends N --data-rounds 500
 *                   --data-rss-sends 12 --out bench/results
 *                   --sim-seed 1 --sim-loss 0.01 --sim-delay 1-5 --sim-writers 11 --sim-cap 300
 *                   --sim-idle-after auto|S --sim-signing insecure|real]
 *
 * Starts N real nodes on 127.0.0.1 (AES on) and measures join, convergence,
 * throughput and cost, and (process mode, --floor-sizes) the same fan-out
 * with no protocol (bench/fanout.mjs) for the convergence targets; prints a
 * table and writes JSON, markdown and an SVG chart to bench/results/.
 * Process mode then runs the DATA section (bench/data.ts), which `--mode
 * data` runs alone. `--mode sim` simulates up to thousands of nodes in one
 * process on a simulated clock (bench/sim.ts).
 * See bench/README.md.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cryptoBackend, generateKey } from '../src/index.js';
import { dataMarkdown, dataTable, parseSize, runData } from './data.js';
import { InprocNet } from './inprocnet.js';
import { ProcNet } from './procnet.js';
import { chartSvg, markdown, table } from './report.js';
import { runSimMode } from './sim.js';
import { round, summary } from './stats.js';
import type { BenchNet, Floor, Row } from './types.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '5,10,25,50,100' },
    mode: { type: 'string', default: 'process' },
    updates: { type: 'string', default: '60' },
    warmup: { type: 'string', default: 'round' },
    'throughput-seconds': { type: 'string', default: '10' },
    'throughput-window': { type: 'string', default: '64' },
    'idle-seconds': { type: 'string', default: '60' },
    'floor-sizes': { type: 'string', default: '25,50' },
    'data-sizes': { type: 'string', default: '8k,256k,4m,32m' },
    'data-sends': { type: 'string' },
    'data-rounds': { type: 'string', default: '500' },
    'data-rss-sends': { type: 'string', default: '12' },
    out: { type: 'string', default: 'bench/results' },
    tag: { type: 'string', default: '' },
    'sim-seed': { type: 'string', default: '1' },
    'sim-loss': { type: 'string', default: '0.01' },
    'sim-delay': { type: 'string', default: '1-5' },
    'sim-writers': { type: 'string', default: '11' },
    'sim-cap': { type: 'string', default: '300' },
    'sim-idle-after': { type: 'string', default: 'auto' },
    'sim-signing': { type: 'string', default: 'insecure' },
  },
});

const sizes = args.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('--sizes: whole numbers ≥ 2');
if (!['process', 'inproc', 'data', 'sim'].includes(args.mode)) {
  throw new Error('--mode: process, inproc, data or sim');
}
const simMode = args.mode === 'sim';
const updates = Number(args.updates);
if (!Number.isInteger(updates) || updates < 1) throw new Error('--updates: a whole number ≥ 1');
if (args.warmup !== 'round' && !/^\d+$/.test(args.warmup)) {
  throw new Error('--warmup: round (one update by every node) or a whole number of updates');
}
const wholeNumber = (name: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: a whole number ≥ ${min}`);
  return n;
};
const dataOptions = {
  sizes: args['data-sizes'].split(',').map(parseSize),
  sends: args['data-sends'] === undefined ? null : wholeNumber('data-sends', args['data-sends'], 1),
  rounds: wholeNumber('data-rounds', args['data-rounds'], 1),
  rssSends: wholeNumber('data-rss-sends', args['data-rss-sends'], 1),
};
// The sizes whose convergence targets are ratios to the floor; N=100 would
// add about a minute (its updates are 320 ms apart).
const floorSizes = args['floor-sizes'].split(',').filter(Boolean).map(Number);
if (floorSizes.some((n) => !Number.isInteger(n) || n < 2)) {
  throw new Error('--floor-sizes: whole numbers ≥ 2, or empty for none');
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(n: number): Promise<Omit<Row, 'floor'>> {
  const net: BenchNet = args.mode === 'process' ? new ProcNet() : new InprocNet();
  try {
    const joinMs = await net.start(n, generateKey());
    await sleep(1000); // let the join's last gossip settle before measuring
    // Updates far enough apart not to overlap: a few ms per peer.
    const spacing = 20 + 3 * n;
    const warm = args.warmup === 'round' ? n : Number(args.warmup);
    const cold = warm > 0 ? await net.convergeAll(warm, spacing, 1) : [];
    const s0 = await net.stats();
    const t0 = performance.now();
    const lat = await net.convergeAll(updates, spacing, warm + 1);
    const convSeconds = (performance.now() - t0) / 1000;
    const s1 = await net.stats();
    await sleep(Number(args['idle-seconds']) * 1000);
    const s2 = await net.stats();
    const idleCpuUsPerSec = (s2.cpuUs - s1.cpuUs) / Number(args['idle-seconds']);
    const seconds = Number(args['throughput-seconds']);
    const t = await net.blast(seconds, Number(args['throughput-window']));
    const s3 = await net.stats();
    const rss = s3.rssPerNode.map((b) => b / 2 ** 20);
    const rssIdle = s2.rssPerNode.map((b) => b / 2 ** 20);
    const own = s3.privatePerNode?.map((b) => b / 2 ** 20);
    return {
      n,
      joinMs: round(joinMs),
      convergence: rounded(summary(lat)),
      warmup: cold.length ? rounded(summary(cold)) : null,
      throughput: {
        seconds,
        acceptedPerSec: round(t.calls / seconds),
        deliveredPerSec: round(t.delivered / seconds),
        lagP99Ms: round(summary(t.lags).p99, 2),
        finalEverywhere: t.finalEverywhere,
      },
      // The network's CPU during the updates, less what it spends idle in that time.
      cpuSecPerUpdate: round(
        (s1.cpuUs - s0.cpuUs - idleCpuUsPerSec * convSeconds) / 1e6 / updates,
        4,
      ),
      idleCores: round((s2.cpuUs - s1.cpuUs) / 1e6 / Number(args['idle-seconds']), 3),
      idleRequestsPerSec: round((s2.requests - s1.requests) / Number(args['idle-seconds'])),
      bytesPerUpdate: Math.round((s1.bytesSent - s0.bytesSent) / updates),
      rssMiB: { median: round(summary(rss).median), max: round(Math.max(...rss)) },
      privateMiB: own ? { median: round(summary(own).median), max: round(Math.max(...own)) } : null,
      rssIdleMiB: { median: round(summary(rssIdle).median), max: round(Math.max(...rssIdle)) },
    };
  } finally {
    await net.stop();
  }
}

const FANOUT = fileURLToPath(new URL('fanout.mjs', import.meta.url));
// At most 40 updates (the run's default is 60): the floor at N=25 and 50
// then adds ~28 s to a run on a quiet 2-core machine instead of ~33 s, most
// of it the spacing of the updates.
const FLOOR_UPDATES = 40;

/** bench/fanout.mjs at N as a child process; its convergence over IPC. */
async function fanoutFloor(n: number, convergenceMedian: number): Promise<Floor> {
  const child = fork(FANOUT, [String(n), String(Math.min(updates, FLOOR_UPDATES))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let got: Omit<Floor, 'ratio'> | undefined;
  child.once('message', (m) => {
    got = m as Omit<Floor, 'ratio'>;
  });
  // 'close' comes after the IPC channel closed, so after its message.
  const [code] = await once(child, 'close');
  if (code !== 0 || !got) throw new Error(`bench/fanout.mjs ${n}: exit ${code}, no result`);
  return {
    updates: got.updates,
    median: round(got.median, 2),
    p90: round(got.p90, 2),
    p99: round(got.p99, 2),
    ratio: round(convergenceMedian / got.median, 2),
  };
}

function rounded<T extends Record<string, number>>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, k === 'n' ? v : round(v, 2)]),
  ) as T;
}

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: round(totalmem() / 2 ** 30),
  node: process.version,
  crypto: cryptoBackend,
  mode: args.mode,
  date: new Date().toISOString(),
};
console.log(
  `machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.crypto}, ${args.mode} mode`,
);
const rows: Row[] = [];
mkdirSync(args.out, { recursive: true });
const tag = args.tag ? `-${args.tag}` : '';
const base = join(args.out, `bench-${args.mode}${tag}`);
if (simMode) {
  const delay = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(args['sim-delay']);
  if (!delay) throw new Error('--sim-delay: one-way delay in ms, MIN-MAX or one number');
  const min = Number(delay[1]);
  const max = Number(delay[2] ?? delay[1]);
  if (max < min) throw new Error('--sim-delay: MIN-MAX with MIN ≤ MAX');
  const lossRate = Number(args['sim-loss']);
  if (!(lossRate >= 0 && lossRate < 1))
    throw new Error('--sim-loss: a fraction in [0, 1), e.g. 0.01');
  if (!['insecure', 'real'].includes(args['sim-signing'])) {
    throw new Error('--sim-signing: insecure (the simulation stand-in) or real (ECDSA)');
  }
  await runSimMode({
    sizes,
    seed: wholeNumber('sim-seed', args['sim-seed'], 0),
    lossRate,
    delayMs: { min, max },
    idleSeconds: wholeNumber('idle-seconds', args['idle-seconds'], 1),
    // auto: one routine ping cycle after the join, and a window of at least one more.
    idleAfterSeconds:
      args['sim-idle-after'] === 'auto'
        ? null
        : wholeNumber('sim-idle-after', args['sim-idle-after'], 0),
    writers: wholeNumber('sim-writers', args['sim-writers'], 1),
    membershipCapSeconds: wholeNumber('sim-cap', args['sim-cap'], 1),
    signing: args['sim-signing'] as 'insecure' | 'real',
    out: args.out,
    tag: args.tag,
    machine,
  });
}
for (const n of args.mode === 'data' || simMode ? [] : sizes) {
  console.log(`N=${n} …`);
  const row = await measure(n);
  // measure() has stopped the nodes: the floor runs with none of them left.
  const floor =
    args.mode === 'process' && floorSizes.includes(n)
      ? await fanoutFloor(n, row.convergence.median)
      : null;
  rows.push({ ...row, floor });
  console.log(table(rows.slice(-1)));
  // Written after every size, so that a long run interrupted keeps what it measured.
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ machine, updates, warmup: args.warmup, rows }, null, 2)}\n`,
  );
  writeFileSync(`${base}.md`, markdown(machine, rows));
  writeFileSync(`${base}.svg`, chartSvg(machine, rows));
}
if (args.mode !== 'data' && !simMode) {
  console.log(`\n${table(rows)}`);
  console.log(`wrote ${base}.json, .md, .svg`);
}
if (args.mode === 'data' || args.mode === 'process') {
  const data = await runData({ ...machine, mode: 'data' }, dataOptions);
  const dataBase = join(args.out, `bench-data${tag}`);
  writeFileSync(`${dataBase}.json`, `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(`${dataBase}.md`, dataMarkdown(data));
  console.log(`\n${dataTable(data)}`);
  console.log(`wrote ${dataBase}.json, .md (${data.seconds} s)`);
  console.log(`reproduce: ${data.command}`);
}
