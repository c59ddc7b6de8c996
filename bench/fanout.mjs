// The convergence floor of this machine: the benchmark's fan-out with no
// protocol at all. N Node.js processes, a full mesh of plain TCP
// connections; writers take turns (as in `npm run bench`), each writes 200
// bytes to every peer; a receiver notes the time and answers 40 bytes (as a
// peer answers an UPDATE). No HTTP, no AES, no signatures.
//   node bench/fanout.mjs [N] [updates]
// Prints the convergence median/p90/p99 (until every peer has the bytes),
// when the k-th peer got them (median over the updates), and the CPU of the
// writer and of a receiver per update. `npm run bench` forks it for the
// sizes of its --floor-sizes and takes the convergence over IPC.
import { fork } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

if (process.argv[2] === 'peer') {
  const got = new Map();
  const out = [];
  const answer = Buffer.alloc(40);
  const server = net.createServer({ noDelay: true }, (c) => {
    c.on('data', (d) => {
      const t = now();
      const seq = d.readUInt32LE(0);
      if (!got.has(seq)) got.set(seq, t);
      c.write(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  let writes = 0;
  let writeCpu = 0;
  process.on('message', (m) => {
    if (m.ports) {
      for (const port of m.ports) {
        const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
        s.on('data', () => {});
        out.push(s);
      }
      process.send({ ok: true });
    } else if (m.write !== undefined) {
      const c0 = cpu();
      const t = now();
      const b = Buffer.alloc(200);
      b.writeUInt32LE(m.write, 0);
      for (const s of out) s.write(b);
      writes++;
      writeCpu += cpu() - c0;
      process.send({ t });
    } else if (m.report) {
      process.send({ got: [...got], cpu: cpu(), writes, writeCpu });
    }
  });
} else {
  const n = Number(process.argv[2] ?? 25);
  const updates = Number(process.argv[3] ?? 100);
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(updates) || updates < 1) {
    console.error('usage: node bench/fanout.mjs [N ≥ 2] [updates ≥ 1]');
    process.exit(2);
  }
  const me = new URL(import.meta.url).pathname;
  const peers = Array.from({ length: n }, () => fork(me, ['peer']));
  const next = (p) => new Promise((r) => p.once('message', r));
  const ask = (p, m) => {
    const r = next(p);
    p.send(m);
    return r;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const ports = (await Promise.all(peers.map(next))).map((m) => m.port);
  await Promise.all(peers.map((p, i) => ask(p, { ports: ports.filter((_, j) => j !== i) })));
  // A warm-up round (every process writes once), then the measured updates,
  // 20 + 3·N ms apart as in `npm run bench`.
  const writes = [];
  let before = null;
  for (let seq = 0; seq < n + updates; seq++) {
    if (seq === n) before = await Promise.all(peers.map((p) => ask(p, { report: true })));
    writes[seq] = (await ask(peers[seq % n], { write: seq })).t;
    await sleep(20 + 3 * n);
  }
  await sleep(500);
  const after = await Promise.all(peers.map((p) => ask(p, { report: true })));
  const got = after.map((r) => new Map(r.got));
  const worst = [];
  const kth = Array.from({ length: n - 1 }, () => []);
  for (let seq = n; seq < n + updates; seq++) {
    const times = got
      .filter((_, i) => i !== seq % n)
      .map((g) => g.get(seq) - writes[seq])
      .sort((a, b) => a - b);
    for (const [k, t] of times.entries()) kth[k].push(t);
    worst.push(times[times.length - 1]);
  }
  const q = (a, f) => [...a].sort((x, y) => x - y)[Math.floor(f * (a.length - 1))];
  const ms = (v) => v.toFixed(1);
  console.log(
    `N=${n}, ${updates} updates: convergence p50 ${ms(q(worst, 0.5))} ms, p90 ${ms(q(worst, 0.9))}, p99 ${ms(q(worst, 0.99))}`,
  );
  console.log(
    `k-th peer reached (median ms): ${kth.map((a, k) => `${k + 1}:${ms(q(a, 0.5))}`).join(' ')}`,
  );
  // CPU: the writes themselves apart from everything else a process did.
  const spent = after.map((r, i) => r.cpu - before[i].cpu);
  const writeCpu = after.reduce((s, r, i) => s + r.writeCpu - before[i].writeCpu, 0);
  const total = spent.reduce((a, b) => a + b, 0);
  console.log(
    `CPU per update: the network ${(total / updates / 1000).toFixed(1)} ms, of which the writer's ` +
      `writes ${(writeCpu / updates / 1000).toFixed(2)} ms; the rest ~${((total - writeCpu) / updates / (n - 1) / 1000).toFixed(2)} ms per receiver`,
  );
  // Every peer gone before the result goes out: the benchmark (bench/run.ts,
  // which forks this) measures the next thing once this process has exited.
  await Promise.all(
    peers.map((p) => {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill();
      return gone;
    }),
  );
  // Forked by the benchmark: the numbers unrounded, then let it see the exit.
  process.send?.({ updates, median: q(worst, 0.5), p90: q(worst, 0.9), p99: q(worst, 0.99) }, () =>
    process.disconnect(),
  );
}
