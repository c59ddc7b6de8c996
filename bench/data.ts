/**
 * The DATA section of `npm run bench` (`--mode data`, and after the other
 * sections in process mode): what Language Pipes does with DSN (PROTOCOL.md
 * §9) — awaited sends of 8 KiB to 32 MiB between two node processes, a
 * decode ring of three, the receiver's memory under 32 MiB messages — and
 * beside each size the floor: the same bytes through AES-128-CBC both ways,
 * two SHA-256 and one copy, in this process. Every message is checked on the
 * receiver (length and SHA-256); mismatches are counted, never ignored.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { generateKey } from '../src/index.js';
import { peakRssBytes, privateBytes, resetPeakRss, rssBytes } from './mem.mjs';
import { type Child, ProcNet } from './procnet.js';
import type { Machine } from './report.js';
import { round, summary } from './stats.js';

const KiB = 1024;
const MiB = 1024 * 1024;
/** A decode step's message in Language Pipes: a 4,096-value bf16 hidden state and its metadata. */
export const RING_BYTES = 9 * KiB;
const RING_WARMUP = 20;
/** How often the memory run reads the receiver's private memory (each read costs ~1 ms of CPU). */
const SAMPLE_MS = 20;

export interface DataOptions {
  sizes: number[];
  /** Sends per size, or null for the default of each size (defaultSends). */
  sends: number | null;
  /** Measured laps of the ring. */
  rounds: number;
  /** Messages of the memory run (the largest size). */
  rssSends: number;
}

export interface SizeRow {
  bytes: number;
  label: string;
  /** The error of the first send, when the receiver refused the size; the other fields are then null. */
  refused: string | null;
  warmup: number;
  sends: number;
  medianMs: number | null;
  p90Ms: number | null;
  /** 10^6 bytes per second at the median. */
  mbPerSec: number | null;
  /** AES-128-CBC encrypt + decrypt, two SHA-256 and one copy of as many bytes, in the bench's process. */
  floorMs: number;
  /** medianMs / floorMs. */
  ratio: number | null;
  /** Messages that arrived changed, twice, not at all, from someone else, or whose sender's buffer changed. */
  mismatches: number;
  /** Sends that failed after the first one went through. */
  errors: number;
  /** The first few mismatches and errors, as text. */
  problems: string[];
  /** The receiver's peak RSS over the run (VmHWM), MiB. */
  receiverPeakRssMiB: number | null;
  target: { text: string; met: boolean } | null;
}

export interface RingResult {
  nodes: 3;
  bytes: number;
  warmup: number;
  rounds: number;
  roundTripsPerSec: number | null;
  medianMs: number | null;
  p90Ms: number | null;
  mismatches: number;
  errors: number;
  problem: string | null;
}

export interface RssResult {
  bytes: number;
  label: string;
  sends: number;
  refused: string | null;
  /** The receiver joined and idle, before the first message. */
  rssBeforeMiB: number | null;
  privateBeforeMiB: number | null;
  /** VmHWM over the run (or the highest sample where /proc/<pid>/clear_refs cannot be written). */
  peakRssMiB: number | null;
  /** The highest of the samples taken every SAMPLE_MS. */
  peakPrivateMiB: number | null;
  rssAfterMiB: number | null;
  samples: number;
  mismatches: number;
  errors: number;
  problems: string[];
}

export interface DataReport {
  machine: Machine;
  options: DataOptions & {
    limits: string | null;
    nodeFlags: string | null;
    /** BENCH_DATA_FAULT: set only to check that corruption is counted. */
    fault: string | null;
  };
  command: string;
  sizes: SizeRow[];
  ring: RingResult;
  rss: RssResult;
  seconds: number;
  /** The machine's 1-minute load average at the start and the end (other work on it skews the times). */
  loadAverage: { start: number; end: number };
}

/** `8k`, `256k`, `4m`, `32m` or a number of bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m)
    throw new Error(`--data-sizes: ${JSON.stringify(text)} is not a size like 8k, 4m or 1000`);
  const unit = { '': 1, k: KiB, m: MiB }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 16) throw new Error('--data-sizes: at least 16 bytes');
  return bytes;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** Sends per size: enough for a stable median, few enough that the section takes a minute or two. */
export function defaultSends(bytes: number): number {
  if (bytes <= 64 * KiB) return 1000;
  if (bytes <= 256 * KiB) return 500;
  if (bytes <= 4 * MiB) return 100;
  return 30;
}

/**
 * Sends before the measured ones: the steady state is what Language Pipes
 * lives in (a message per generated token, hundreds of prefill chunks), and
 * V8 has optimised the path only after a few hundred small messages.
 */
function warmupFor(bytes: number): number {
  if (bytes <= 64 * KiB) return 500;
  if (bytes <= 256 * KiB) return 100;
  if (bytes <= 4 * MiB) return 10;
  return 3;
}

/** The issue's target for a size, if it has one. */
function targetFor(
  bytes: number,
  medianMs: number | null,
  ratio: number | null,
): SizeRow['target'] {
  if (bytes === 8 * KiB)
    return { text: 'median ≤ 0.3 ms', met: medianMs !== null && medianMs <= 0.3 };
  if (bytes === 256 * KiB)
    return { text: 'median ≤ 1.5 ms', met: medianMs !== null && medianMs <= 1.5 };
  if (bytes === 4 * MiB || bytes === 32 * MiB)
    return { text: '≤ 1.5× floor', met: ratio !== null && ratio <= 1.5 };
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number | null) => (b === null ? null : round(b / MiB));

/**
 * The floor for `bytes`: AES-128-CBC encrypt and decrypt (one cipher context
 * each), two SHA-256 (the sender's signature digest and the receiver's) and
 * one copy; the median of `reps` repetitions after one unmeasured.
 */
export function floorMs(bytes: number, reps: number): number {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const plain = randomBytes(bytes);
  const once = () => {
    const t0 = performance.now();
    const enc = createCipheriv('aes-128-cbc', key, iv);
    const c1 = enc.update(plain);
    const c2 = enc.final();
    const dec = createDecipheriv('aes-128-cbc', key, iv);
    const p1 = dec.update(c1);
    const p2 = dec.update(c2);
    const p3 = dec.final();
    createHash('sha256').update(plain).digest();
    createHash('sha256').update(p1).update(p2).update(p3).digest();
    Buffer.from(plain);
    return performance.now() - t0;
  };
  once();
  const times = Array.from({ length: reps }, once);
  return summary(times).median;
}

/** Repetitions of the floor: ~64 MiB of work per size, 5 to 201 of them. */
const floorReps = (bytes: number) => Math.min(201, Math.max(5, Math.ceil((64 * MiB) / bytes)));

interface SendRun {
  lat: number[];
  refused: string | null;
  mismatches: number;
  errors: number;
  problems: string[];
}

/**
 * `warmup` + `count` sends from `sender` to `receiver`, each awaited, one
 * after another in the sender's process (no round trip to this process
 * between them); then the receiver's report of what it got is checked
 * against what was sent, message by message.
 */
async function sendRun(
  sender: Child,
  receiver: Child,
  bytes: number,
  warmup: number,
  count: number,
): Promise<SendRun> {
  const run: SendRun = { lat: [], refused: null, mismatches: 0, errors: 0, problems: [] };
  const problem = (text: string) => {
    if (run.problems.length < 5) run.problems.push(text);
  };
  const r = await sender.ask(
    { cmd: 'data-send', to: receiver.id, size: bytes, count: warmup + count },
    'data-sent',
  );
  const sent = r.sent as {
    seq: number;
    ms?: number;
    sha?: string;
    intact?: boolean;
    error?: string;
  }[];
  const v = await receiver.ask({ cmd: 'data-verify' }, 'data-verified');
  const got = v.got as { from: string; seq: number; length: number; sha: string }[];
  if (sent[0]?.error) {
    run.refused = sent[0].error;
    return run;
  }
  const bySeq = new Map<number, (typeof got)[number][]>();
  for (const g of got) bySeq.set(g.seq, [...(bySeq.get(g.seq) ?? []), g]);
  for (const s of sent) {
    if (s.error) {
      run.errors++;
      problem(`send ${s.seq}: ${s.error}`);
      continue;
    }
    const arrivals = bySeq.get(s.seq) ?? [];
    const g = arrivals[0];
    let bad: string | null = null;
    if (arrivals.length !== 1 || !g) bad = `arrived ${arrivals.length} times`;
    else if (g.from !== sender.id) bad = `arrived from ${g.from}`;
    else if (g.length !== bytes) bad = `arrived with ${g.length} bytes`;
    else if (g.sha !== s.sha) bad = 'arrived changed (SHA-256 differs)';
    else if (!s.intact) bad = "the sender's buffer changed during the send";
    if (bad) {
      run.mismatches++;
      problem(`send ${s.seq}: ${bad}`);
    }
    if (s.seq >= warmup && s.ms !== undefined) run.lat.push(s.ms);
  }
  if (got.length > sent.length) {
    run.mismatches += got.length - sent.length;
    problem(`${got.length - sent.length} messages arrived that were not sent`);
  }
  return run;
}

/** Two fresh node processes, the first sending to the second. */
async function pair(): Promise<{ net: ProcNet; sender: Child; receiver: Child }> {
  const net = new ProcNet();
  await net.start(2, generateKey());
  const [sender, receiver] = net.children as [Child, Child];
  return { net, sender, receiver };
}

async function measureSize(bytes: number, sends: number): Promise<SizeRow> {
  const warmup = warmupFor(bytes);
  const { net, sender, receiver } = await pair();
  let run: SendRun;
  let peak: number | null = null;
  try {
    await sleep(300);
    const pid = receiver.proc.pid as number;
    const reset = resetPeakRss(pid);
    run = await sendRun(sender, receiver, bytes, warmup, sends);
    peak = reset ? peakRssBytes(pid) : null;
  } finally {
    await net.stop();
  }
  const floor = floorMs(bytes, floorReps(bytes));
  const s = run.lat.length ? summary(run.lat) : null;
  const ratio = s ? s.median / floor : null;
  return {
    bytes,
    label: sizeLabel(bytes),
    refused: run.refused,
    warmup,
    sends: run.lat.length,
    medianMs: s ? round(s.median, 3) : null,
    p90Ms: s ? round(s.p90, 3) : null,
    mbPerSec: s ? round(bytes / 1e6 / (s.median / 1000), 1) : null,
    floorMs: round(floor, 3),
    ratio: ratio === null ? null : round(ratio, 2),
    mismatches: run.mismatches,
    errors: run.errors,
    problems: run.problems,
    receiverPeakRssMiB: mib(peak),
    target: run.refused ? targetFor(bytes, null, null) : targetFor(bytes, s?.median ?? null, ratio),
  };
}

/** The receiver's memory while `sends` messages of `bytes` arrive back to back. */
async function measureRss(bytes: number, sends: number): Promise<RssResult> {
  const { net, sender, receiver } = await pair();
  try {
    await sleep(1000); // joined and settled
    const pid = receiver.proc.pid as number;
    const rssBefore = rssBytes(pid);
    const privateBefore = privateBytes(pid);
    const reset = resetPeakRss(pid);
    let peakRss = rssBefore ?? 0;
    let peakPrivate = privateBefore ?? 0;
    let samples = 0;
    const sample = () => {
      const r = rssBytes(pid);
      const p = privateBytes(pid);
      if (r !== null) peakRss = Math.max(peakRss, r);
      if (p !== null) peakPrivate = Math.max(peakPrivate, p);
      samples++;
    };
    const timer = setInterval(sample, SAMPLE_MS);
    let run: SendRun;
    try {
      run = await sendRun(sender, receiver, bytes, 0, sends);
      sample();
    } finally {
      clearInterval(timer);
    }
    const hwm = reset ? peakRssBytes(pid) : null;
    return {
      bytes,
      label: sizeLabel(bytes),
      sends: run.lat.length,
      refused: run.refused,
      rssBeforeMiB: mib(rssBefore),
      privateBeforeMiB: mib(privateBefore),
      peakRssMiB: mib(hwm !== null ? Math.max(hwm, peakRss) : rssBefore === null ? null : peakRss),
      peakPrivateMiB: privateBefore === null ? null : mib(peakPrivate),
      rssAfterMiB: mib(rssBytes(pid)),
      samples,
      mismatches: run.mismatches,
      errors: run.errors,
      problems: run.problems,
    };
  } finally {
    await net.stop();
  }
}

/** A→B→C→A: each node forwards the message to the next as soon as it arrives. */
async function measureRing(rounds: number): Promise<RingResult> {
  const net = new ProcNet();
  await net.start(3, generateKey());
  const [a, b, c] = net.children as [Child, Child, Child];
  const result: RingResult = {
    nodes: 3,
    bytes: RING_BYTES,
    warmup: RING_WARMUP,
    rounds: 0,
    roundTripsPerSec: null,
    medianMs: null,
    p90Ms: null,
    mismatches: 0,
    errors: 0,
    problem: null,
  };
  try {
    await sleep(300);
    await b.ask({ cmd: 'ring', next: c.id, origin: false }, 'ring-ready');
    await c.ask({ cmd: 'ring', next: a.id, origin: false }, 'ring-ready');
    const done = a.next('ring-done');
    a.send({
      cmd: 'ring',
      next: b.id,
      origin: true,
      size: RING_BYTES,
      rounds,
      warmup: RING_WARMUP,
    });
    // A lap lost (a forward that failed) would stall the ring: give up after a while.
    const limitMs = 30_000 + 100 * (rounds + RING_WARMUP);
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<null>((res) => {
      timer = setTimeout(() => res(null), limitMs);
    });
    const r = await Promise.race([done, stalled]);
    clearTimeout(timer);
    if (!r) {
      result.problem = `the ring stalled: no end after ${limitMs / 1000} s`;
      return result;
    }
    const rtts = r.rtts as number[];
    result.rounds = rtts.length;
    result.mismatches = r.bad;
    result.errors = r.errors;
    if (rtts.length < rounds) result.problem = `only ${rtts.length} of ${rounds} rounds completed`;
    if (rtts.length > 0) {
      const s = summary(rtts);
      result.roundTripsPerSec = round(rtts.length / r.seconds);
      result.medianMs = round(s.median, 3);
      result.p90Ms = round(s.p90, 3);
    }
    return result;
  } finally {
    const left = Promise.all(net.children.map((n) => n.ask({ cmd: 'ring-leave' }, 'ring-left')));
    await Promise.race([left, sleep(10_000)]);
    await net.stop();
  }
}

/** The command that repeats this section with the same settings. */
export function reproduceCommand(o: DataOptions): string {
  const env = [
    process.env.BENCH_LIMITS ? `BENCH_LIMITS='${process.env.BENCH_LIMITS}' ` : '',
    process.env.BENCH_NODE_FLAGS ? `BENCH_NODE_FLAGS='${process.env.BENCH_NODE_FLAGS}' ` : '',
    process.env.BENCH_DATA_FAULT ? `BENCH_DATA_FAULT=${process.env.BENCH_DATA_FAULT} ` : '',
  ].join('');
  const sizes = o.sizes
    .map((b) => (b % MiB === 0 ? `${b / MiB}m` : b % KiB === 0 ? `${b / KiB}k` : String(b)))
    .join(',');
  const sends = o.sends === null ? '' : ` --data-sends ${o.sends}`;
  return `npm run build && ${env}npm run bench -- --mode data --data-sizes ${sizes}${sends} --data-rounds ${o.rounds} --data-rss-sends ${o.rssSends}`;
}

export async function runData(machine: Machine, o: DataOptions): Promise<DataReport> {
  const t0 = performance.now();
  const loadStart = loadavg()[0] ?? 0;
  const sizes: SizeRow[] = [];
  for (const bytes of o.sizes) {
    const sends = o.sends ?? defaultSends(bytes);
    console.log(`DATA ${sizeLabel(bytes)}: ${sends} awaited sends …`);
    sizes.push(await measureSize(bytes, sends));
  }
  console.log(`DATA ring of 3, ${sizeLabel(RING_BYTES)}: ${o.rounds} rounds …`);
  const ring = await measureRing(o.rounds);
  const biggest = Math.max(...o.sizes);
  console.log(`DATA receiver memory: ${o.rssSends} × ${sizeLabel(biggest)} …`);
  const rss = await measureRss(biggest, o.rssSends);
  return {
    machine,
    options: {
      ...o,
      limits: process.env.BENCH_LIMITS ?? null,
      nodeFlags: process.env.BENCH_NODE_FLAGS ?? null,
      fault: process.env.BENCH_DATA_FAULT ?? null,
    },
    command: reproduceCommand(o),
    sizes,
    ring,
    rss,
    seconds: round((performance.now() - t0) / 1000),
    loadAverage: { start: round(loadStart, 2), end: round(loadavg()[0] ?? 0, 2) },
  };
}

const HEAD = [
  'size',
  'sends',
  'median ms',
  'p90 ms',
  'MB/s',
  'floor ms',
  '× floor',
  'bad',
  'recv peak RSS MiB',
  'target',
];

const show = (v: number | null) => (v === null ? '–' : String(v));
const targetText = (t: SizeRow['target']) => (t ? `${t.text}: ${t.met ? 'met' : 'not met'}` : '–');

function cells(r: SizeRow): string[] {
  if (r.refused) return [r.label, `refused: ${r.refused}`];
  return [
    r.label,
    String(r.sends),
    show(r.medianMs),
    show(r.p90Ms),
    show(r.mbPerSec),
    String(r.floorMs),
    show(r.ratio),
    String(r.mismatches + r.errors),
    show(r.receiverPeakRssMiB),
    targetText(r.target),
  ];
}

function ringLine(g: RingResult): string {
  const rate =
    g.roundTripsPerSec === null
      ? 'no round completed'
      : `${g.roundTripsPerSec} round trips/s, median ${g.medianMs} ms, p90 ${g.p90Ms} ms`;
  const problem = g.problem ? ` — ${g.problem}` : '';
  return `ring A→B→C→A, ${sizeLabel(g.bytes)} forwarded from each receive handler, ${g.rounds} rounds after ${g.warmup}: ${rate}; bad ${g.mismatches + g.errors}${problem}`;
}

function rssLine(r: RssResult): string {
  const what = `receiver memory, ${r.refused ? '' : `${r.sends} × `}${r.label} back to back`;
  const before = `RSS before ${show(r.rssBeforeMiB)} MiB, private before ${show(r.privateBeforeMiB)} MiB`;
  if (r.refused) return `${what}: refused: ${r.refused} (${before})`;
  return `${what}: ${before}; peak RSS ${show(r.peakRssMiB)} MiB, peak private ${show(r.peakPrivateMiB)} MiB; bad ${r.mismatches + r.errors}`;
}

function problems(d: DataReport): string[] {
  return [
    ...d.sizes.flatMap((r) => r.problems.map((p) => `${r.label} ${p}`)),
    ...d.rss.problems.map((p) => `memory run ${p}`),
  ];
}

/** The printed table and the lines under it. */
export function dataTable(d: DataReport): string {
  const rows = [HEAD, ...d.sizes.map(cells)];
  const w = HEAD.map((_, i) =>
    Math.max(...rows.filter((r) => r.length === HEAD.length).map((r) => (r[i] ?? '').length)),
  );
  const text = rows.map((r) =>
    r.length === HEAD.length
      ? r
          .map((c, i) =>
            i === 0 || i === HEAD.length - 1 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0),
          )
          .join('  ')
          .trimEnd()
      : `${(r[0] ?? '').padEnd(w[0] ?? 0)}  ${r[1]}`,
  );
  return [
    'DATA: awaited sends between two node processes on 127.0.0.1, AES on',
    ...text,
    ringLine(d.ring),
    rssLine(d.rss),
    ...problems(d).map((p) => `problem: ${p}`),
  ].join('\n');
}

export function dataMarkdown(d: DataReport): string {
  const m = d.machine;
  const head = `| ${HEAD.join(' | ')} |\n|${HEAD.map(() => '---').join('|')}|`;
  const body = d.sizes
    .map((r) => {
      const c = cells(r);
      return r.refused
        ? `| ${c[0]} | ${c[1]?.replaceAll('|', '\\|')} |${' |'.repeat(HEAD.length - 2)}`
        : `| ${c.join(' | ')} |`;
    })
    .join('\n');
  const targets = d.sizes
    .filter((r) => r.target)
    .map((r) => {
      const t = r.target as { text: string; met: boolean };
      const got = r.refused
        ? `refused: ${r.refused}`
        : t.text.includes('floor')
          ? `${r.ratio}×: ${r.medianMs} ms against a floor of ${r.floorMs} ms`
          : `${r.medianMs} ms`;
      return `- ${t.met ? '✅' : '❌'} ${r.label}: ${t.text} (${got})`;
    });
  const bad = problems(d);
  return `# Benchmark (DATA)

${m.cores} cores (${m.cpu}), Node ${m.node}, signatures by ${m.crypto}, ${m.date}
(load average ${d.loadAverage.start} at the start, ${d.loadAverage.end} at the end; ${d.seconds} s).
Two node processes on 127.0.0.1 with AES on; each \`sendToNode\` awaited before the next (as
Language Pipes sends), timed in the sender, after ${d.sizes.map((r) => r.warmup).join('/')} warm-up sends. Every message is
checked on the receiver (length and SHA-256): bad = messages changed, missing, repeated, or
failed. MB/s = 10^6 bytes per second at the median. Floor = the same bytes through AES-128-CBC
encrypt and decrypt, two SHA-256 and one copy in the benchmark's own process; × floor = median / floor.
Each size in two fresh processes; recv peak RSS = the receiver's VmHWM over that size's run.

${head}
${body}

${ringLine(d.ring)}.

${rssLine(d.rss)} (peak private: the most of Private_Clean + Private_Dirty in \`/proc/<pid>/smaps_rollup\`, read every ${SAMPLE_MS} ms).

Targets:
${targets.length ? targets.join('\n') : '- (only 8 KiB, 256 KiB, 4 MiB and 32 MiB have targets)'}
${bad.length ? `\nProblems:\n${bad.map((p) => `- ${p}`).join('\n')}\n` : ''}
Reproduce: \`${d.command}\`
`;
}
