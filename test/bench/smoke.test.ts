import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { markdown } from '../../bench/report.js';
import type { Row } from '../../bench/types.js';
import { tempDir } from '../helpers/net.js';

/**
 * A tiny run of the benchmark (three node processes, a few updates), so that
 * `npm run bench` keeps working. It asserts what the run reports, never how
 * fast: speed is for the benchmark itself.
 */
it('npm run bench: a smoke run with three node processes writes a complete report', () => {
  const out = tempDir('dsn-bench-');
  const args = [
    '--sizes',
    '3',
    '--updates',
    '5',
    '--throughput-seconds',
    '1',
    '--idle-seconds',
    '1',
    // The protocol-free floor at this run's one size (by default only 25 and 50).
    '--floor-sizes',
    '3',
    // Process mode runs the DATA section after the others: a tiny one here.
    '--data-sizes',
    '1k',
    '--data-sends',
    '2',
    '--data-rounds',
    '2',
    '--data-rss-sends',
    '1',
  ];
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', ...args, '--out', out.path],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out.path, 'bench-process.json'), 'utf8'));
  const [row] = report.rows;
  assert.equal(report.machine.cores > 0, true);
  assert.equal(row.n, 3);
  assert.equal(row.convergence.n, 5);
  // The default warm-up is one round: each of the three nodes writes once first.
  assert.equal(row.warmup.n, 3);
  assert.ok(Number.isFinite(row.warmup.median) && row.warmup.median > 0);
  assert.ok(Number.isFinite(row.convergence.median) && row.convergence.median > 0);
  assert.equal(row.throughput.finalEverywhere, true);
  assert.ok(row.throughput.acceptedPerSec > 0);
  assert.ok(row.rssMiB.max > 0 && row.joinMs > 0);
  // The floor ran (bench/fanout.mjs at N=3, as many updates) and the ratio is conv p50 / floor p50.
  assert.equal(row.floor.updates, 5);
  assert.ok(Number.isFinite(row.floor.median) && row.floor.median > 0, `floor ${row.floor.median}`);
  assert.ok(row.floor.p99 >= row.floor.median);
  assert.ok(Number.isFinite(row.floor.ratio) && row.floor.ratio > 0, `ratio ${row.floor.ratio}`);
  // (The ratio is of the unrounded floor; the JSON's floor is rounded to 0.01 ms.)
  assert.ok(
    Math.abs(row.floor.ratio - row.convergence.median / row.floor.median) <=
      0.01 + (row.floor.ratio * 0.01) / row.floor.median,
    `ratio ${row.floor.ratio} vs ${row.convergence.median} / ${row.floor.median}`,
  );
  assert.ok(row.privateMiB.max > 0, 'private memory is read on Linux');
  const md = readFileSync(join(out.path, 'bench-process.md'), 'utf8');
  assert.match(
    md,
    /^\| N \| join ms \| conv p50 \| p90 \| p99 \| 1st p50 \| floor p50 \| ×floor \| /m,
  );
  assert.ok(
    md.includes(`| ${row.warmup.median} | ${row.floor.median} | ${row.floor.ratio} |`),
    'the floor and the ratio in the table',
  );
  assert.match(md, /^\| 3 \|/m);
  assert.match(
    md,
    new RegExp(
      `^- [✅❌] private memory ≤ 60 MiB per node \\(max ${row.privateMiB.max} MiB; RSS max ${row.rssMiB.max} MiB`,
      'm',
    ),
  );
  assert.ok(row.rssIdleMiB.max > 0);
  assert.ok(
    md.includes(
      `before the throughput run, after the convergence and idle runs: RSS at most ${row.rssIdleMiB.max} MiB`,
    ),
  );
  const svg = readFileSync(join(out.path, 'bench-process.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, />floor \(median\)</);
  const data = JSON.parse(readFileSync(join(out.path, 'bench-data.json'), 'utf8'));
  assert.equal(data.sizes[0].sends, 2);
  assert.equal(data.sizes[0].mismatches, 0);
  out.cleanup();
});

it('bench/report.ts: the convergence targets are ratios to the floor; unmeasured targets are not met', () => {
  const machine = { cores: 2, cpu: 'test', node: 'v20', crypto: 'test', mode: 'process', date: '' };
  const row = (n: number, floor: Row['floor'], privateMiB: Row['privateMiB']): Row => ({
    n,
    joinMs: 100,
    convergence: { median: 12, p90: 14, p99: 16, n: 60 },
    warmup: null,
    throughput: {
      seconds: 10,
      acceptedPerSec: 2000,
      deliveredPerSec: 2000,
      lagP99Ms: 20,
      finalEverywhere: true,
    },
    cpuSecPerUpdate: 0.03,
    idleCores: 0.1,
    idleRequestsPerSec: 10,
    bytesPerUpdate: 3000,
    rssMiB: { median: 56, max: 93.9 },
    privateMiB,
    rssIdleMiB: { median: 53, max: 55 },
    floor,
  });
  const floor = (median: number) => ({
    updates: 40,
    median,
    p90: median,
    p99: median,
    ratio: Math.round((12 / median) * 100) / 100,
  });
  const measured = markdown(machine, [
    row(25, floor(8), { median: 14, max: 51.4 }),
    row(50, floor(4), { median: 14, max: 48 }),
  ]);
  assert.match(measured, /^\| 25 \| 100 \| 12 \| 14 \| 16 \| – \| 8 \| 1\.5 \| /m);
  assert.match(
    measured,
    /^- ✅ convergence median N=25 ≤ 2× floor \(12 ms vs floor 8 ms = 1\.5×\)$/m,
  );
  assert.match(measured, /^- ❌ convergence median N=50 ≤ 2× floor \(12 ms vs floor 4 ms = 3×\)$/m);
  assert.match(
    measured,
    /^- ✅ private memory ≤ 60 MiB per node \(max 51\.4 MiB; RSS max 93\.9 MiB, /m,
  );
  assert.doesNotMatch(measured, /RSS ≤ 60 MiB|N=25 ≤ 10 ms|N=50 ≤ 25 ms/);
  // No floor, or one node's private memory unknown: reported as not measured, never as met.
  const unmeasured = markdown(machine, [
    row(25, null, { median: 14, max: 51.4 }),
    row(50, floor(8), null),
  ]);
  assert.match(unmeasured, /^\| 25 \| 100 \| 12 \| 14 \| 16 \| – \| – \| – \| /m);
  assert.match(
    unmeasured,
    /^- ❔ convergence median N=25 ≤ 2× floor: floor not measured \(12 ms\)$/m,
  );
  assert.match(unmeasured, /^- ✅ convergence median N=50 ≤ 2× floor \(12 ms vs floor 8 ms/m);
  assert.match(
    unmeasured,
    /^- ❔ private memory ≤ 60 MiB per node: not measured \(.*RSS max 93\.9 MiB/m,
  );
});

/** Runs the DATA section alone with `args`; its JSON and markdown reports. */
function dataRun(args: string[], env: Record<string, string> = {}) {
  const out = tempDir('dsn-bench-data-');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--mode', 'data', ...args, '--out', out.path],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } },
  );
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(out.path, 'bench-data.json'), 'utf8'));
  const md = readFileSync(join(out.path, 'bench-data.md'), 'utf8');
  out.cleanup();
  return { stdout: r.stdout, json, md };
}

it('npm run bench --mode data: a tiny run prints the table and writes every field', () => {
  const { stdout, json, md } = dataRun([
    '--data-sizes',
    '1k,64k',
    '--data-sends',
    '5',
    '--data-rounds',
    '10',
    '--data-rss-sends',
    '3',
  ]);
  assert.match(stdout, /^size +sends +median ms +p90 ms +MB\/s +floor ms +× floor +bad/m);
  assert.match(stdout, /^1 KiB +5 /m);
  assert.match(stdout, /^64 KiB +5 /m);
  assert.match(stdout, /^ring A→B→C→A, 9 KiB .*10 rounds after 20: [\d.]+ round trips\/s/m);
  assert.match(stdout, /^receiver memory, 3 × 64 KiB back to back: RSS before/m);
  assert.match(
    stdout,
    /^reproduce: npm run build && npm run bench -- --mode data --data-sizes 1k,64k /m,
  );
  // Not process mode's files: only the DATA report.
  assert.equal(json.machine.mode, 'data');
  assert.ok(json.machine.cores > 0);
  assert.deepEqual(
    json.sizes.map((r: { bytes: number }) => r.bytes),
    [1024, 65536],
  );
  for (const r of json.sizes) {
    assert.equal(r.refused, null);
    assert.equal(r.sends, 5);
    assert.equal(r.mismatches, 0);
    assert.equal(r.errors, 0);
    for (const k of ['medianMs', 'p90Ms', 'mbPerSec', 'floorMs', 'ratio']) {
      assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${r.label} ${k}: ${r[k]}`);
    }
    assert.equal(r.target, null); // only 8k, 256k, 4m and 32m have targets
  }
  assert.equal(json.ring.rounds, 10);
  assert.equal(json.ring.mismatches, 0);
  assert.equal(json.ring.problem, null);
  assert.ok(json.ring.roundTripsPerSec > 0 && json.ring.medianMs > 0);
  assert.equal(json.rss.bytes, 65536);
  assert.equal(json.rss.sends, 3);
  assert.equal(json.rss.mismatches, 0);
  for (const k of ['rssBeforeMiB', 'privateBeforeMiB', 'peakRssMiB', 'peakPrivateMiB']) {
    assert.ok(json.rss[k] > 0, `rss.${k}: ${json.rss[k]}`);
  }
  assert.ok(json.rss.peakRssMiB >= json.rss.rssBeforeMiB);
  assert.match(json.command, /--mode data --data-sizes 1k,64k --data-sends 5 --data-rounds 10/);
  assert.match(md, /^\| 1 KiB \| 5 \|/m);
  assert.match(md, /^Reproduce: `npm run build && npm run bench -- --mode data/m);
});

it('npm run bench --mode data: corrupted delivery is counted and a refused size is reported', () => {
  // Every receiver flips a byte of what it gets; 80 MiB is above any DATA limit.
  const { stdout, json } = dataRun(
    ['--data-sizes', '1k,80m', '--data-sends', '3', '--data-rounds', '3', '--data-rss-sends', '2'],
    { BENCH_DATA_FAULT: 'flip' },
  );
  const [small, big] = json.sizes;
  assert.equal(small.mismatches, small.warmup + small.sends);
  assert.match(small.problems[0], /arrived changed/);
  assert.match(stdout, /^problem: 1 KiB send 0: arrived changed/m);
  assert.ok(json.ring.mismatches > 0);
  assert.equal(typeof big.refused, 'string');
  assert.ok(big.refused.length > 0);
  assert.equal(big.medianMs, null);
  assert.match(stdout, /^80 MiB +refused: \S/m);
  assert.equal(typeof json.rss.refused, 'string');
  assert.equal(json.options.fault, 'flip');
});

it('bench/split.ts: a smoke run with three node processes prints the writer’s and a receiver’s CPU', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/split.ts', '3', '3'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const m =
    /^N=3, 3 updates by one writer: writer (\S+) ms per update .* each receiver (\S+) ms/m.exec(
      r.stdout,
    );
  assert.ok(m, r.stdout);
  assert.ok(Number.isFinite(Number(m[1])) && Number.isFinite(Number(m[2])));
});

it('bench/split.ts: a bad argument is refused with its usage', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/split.ts', '1'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /usage: bench\/split\.ts/);
});

it('bench/fanout.mjs: a smoke run with three processes prints convergence, each peer and CPU', () => {
  const r = spawnSync(process.execPath, ['bench/fanout.mjs', '3', '3'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^N=3, 3 updates: convergence p50 [\d.]+ ms, p90 [\d.]+, p99 [\d.]+$/m);
  // Both peers of each writer got the bytes: two ranks, each a time.
  assert.match(r.stdout, /^k-th peer reached \(median ms\): 1:[\d.]+ 2:[\d.]+$/m);
  assert.match(r.stdout, /^CPU per update: the network [\d.]+ ms/m);
  const bad = spawnSync(process.execPath, ['bench/fanout.mjs', '1'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /usage: node bench\/fanout\.mjs/);
});

it('bench/cold.ts: a short run prints every receive step warm and cold', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cold.ts', '1', '3'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  for (const step of ['HTTP head', 'decrypt', 'decode', 'JSON check', 'signature']) {
    assert.match(r.stdout, new RegExp(`^${step} +[\\d.]+ / +[\\d.]+$`, 'm'));
  }
});

it('npm run bench --mode sim: a small simulation reaches full membership and convergence and reports every field', () => {
  const out = tempDir('dsn-bench-sim-');
  const args = ['--mode', 'sim', '--sizes', '10,20', '--idle-seconds', '5', '--sim-writers', '2'];
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', ...args, '--out', out.path],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out.path, 'bench-sim.json'), 'utf8'));
  assert.deepEqual(
    report.rows.map((row: { n: number }) => row.n),
    [10, 20],
  );
  for (const row of report.rows) {
    // Correctness, not speed: everyone found everyone, every update reached everyone.
    assert.equal(row.membership.reached, true, `N=${row.n} membership`);
    assert.ok(row.membership.seconds > 0 && row.membership.seconds <= 300);
    assert.equal(row.membership.nodesCompletePct, 100);
    assert.equal(row.convergence.updates, 2);
    assert.equal(row.convergence.reached, 2, `N=${row.n} convergence`);
    for (const k of ['medianMs', 'maxMs', 'medianRounds', 'medianDelays', 'requestsPerNode']) {
      assert.ok(Number.isFinite(row.convergence[k]) && row.convergence[k] > 0, `${k}`);
    }
    assert.ok(Number.isInteger(row.convergence.medianHops) && row.convergence.medianHops >= 1);
    assert.ok(row.convergence.bytesPerNode > 0);
    // --sim-idle-after auto: the window starts one routine ping cycle after
    // the join and lasts at least one, so pings have resumed in it.
    assert.ok(row.idle.routineCycleSeconds >= 4, `cycle ${row.idle.routineCycleSeconds}`);
    assert.equal(row.idle.seconds, Math.max(5, row.idle.routineCycleSeconds));
    assert.ok(row.idle.byPath['/ping'] > 0, `N=${row.n}: no PING in the idle window`);
    assert.ok(row.idle.requestsPerNodePerSec > 0 && row.idle.bytesPerNodePerSec > 0);
    assert.equal(typeof row.idle.byPath, 'object');
    assert.equal(row.alerts.count, 0, row.alerts.first.join('; '));
    assert.ok(row.memory.peakRssMiB > 0 && row.wallSeconds.total > 0 && row.deliveries > 0);
  }
  assert.match(r.stdout, /^ N +members s +conv ms +rounds +hops/m);
  assert.match(r.stdout, /targets:\n.*convergence ≤ 12 rounds at 1,000 nodes/);
  assert.match(
    r.stdout,
    /^reproduce: npm run bench -- --mode sim --sizes 10,20 --sim-seed 1 --sim-loss 0.01 --sim-delay 1-5 /m,
  );
  const md = readFileSync(join(out.path, 'bench-sim.md'), 'utf8');
  assert.match(md, /^\| 20 \| /m);
  assert.match(md, /INSECURE simulation stand-in/);
  out.cleanup();
});
