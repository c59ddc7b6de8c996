/**
 * Where an update's CPU goes: the writer's share against one receiver's.
 *   npm run build && node --import tsx bench/split.ts [N] [updates]
 * Starts N node processes (as `npm run bench` does), lets every node write
 * once (connections open, code warm), then has node 0 write `updates` times,
 * 20 + 3·N ms apart, and prints the CPU each process spent per update, less
 * what it spends idle over as long (measured just before).
 */
import { generateKey } from '../src/index.js';
import { ProcNet } from './procnet.js';

const n = Number(process.argv[2] ?? 25);
const updates = Number(process.argv[3] ?? 40);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(updates) || updates < 1) {
  throw new Error('usage: bench/split.ts [N ≥ 2] [updates ≥ 1]');
}
const spacing = 20 + 3 * n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const minus = (a: number[], b: number[]) => a.map((v, i) => v - (b[i] ?? 0));

const net = new ProcNet();
try {
  await net.start(n, generateKey());
  await sleep(1000);
  await net.convergeAll(n, spacing, 1);
  net.collect();
  const i0 = await net.cpuPerNode();
  await sleep(updates * spacing);
  const idle = minus(await net.cpuPerNode(), i0);
  const c0 = await net.cpuPerNode();
  for (let seq = n + 1; seq <= n + updates; seq++) {
    await net.writeFrom(0, seq);
    await sleep(spacing);
  }
  const spent = minus(minus(await net.cpuPerNode(), c0), idle);
  const writerMs = (spent[0] ?? 0) / updates / 1000;
  const receiverMs = spent.slice(1).reduce((a, b) => a + b, 0) / (n - 1) / updates / 1000;
  console.log(
    `N=${n}, ${updates} updates by one writer: writer ${writerMs.toFixed(2)} ms per update ` +
      `(${((writerMs * 1000) / (n - 1)).toFixed(0)} µs per peer), each receiver ` +
      `${receiverMs.toFixed(3)} ms, the network ${(writerMs + receiverMs * (n - 1)).toFixed(1)} ms`,
  );
} finally {
  await net.stop();
}
