import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
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
  const md = readFileSync(join(out.path, 'bench-process.md'), 'utf8');
  assert.match(md, /\| 3 \|/);
  assert.ok(row.rssIdleMiB.max > 0);
  assert.ok(
    md.includes(
      `before the throughput run, after the convergence and idle runs: RSS at most ${row.rssIdleMiB.max} MiB`,
    ),
  );
  assert.match(readFileSync(join(out.path, 'bench-process.svg'), 'utf8'), /^<svg/);
  out.cleanup();
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
