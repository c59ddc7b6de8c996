// The machine's floor, below the protocol: what a process wake-up and one
// request between two processes cost here.
//   node bench/floor.mjs
// Prints CPU per wake-up of 50 idle processes with a 1 s timer, and CPU per
// request (client and server process) for a raw TCP echo, an HTTP POST
// through node:http (keep-alive agent) and one through this project's
// transport (dist/, HTTP framed on plain sockets; run `npm run build` first),
// requests 20 ms apart so each one wakes both sides.
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

const [role, kind] = process.argv.slice(2);
const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ask = (child) =>
  new Promise((r) => {
    child.once('message', (m) => r(m.cpu));
    child.send('cpu');
  });

if (role === 'timer') {
  setInterval(() => {}, 1000);
  process.on('message', () => process.send({ cpu: cpu() }));
} else if (role === 'server') {
  const reply = () => process.send({ cpu: cpu() });
  if (kind === 'dsn') {
    const { HttpTransport } = await import('../dist/index.js');
    const t = new HttpTransport();
    const answer = { status: 200, body: Buffer.alloc(48) };
    const port = await t.listen(() => answer, {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1 << 20,
    });
    process.send({ port });
  } else {
    const server =
      kind === 'tcp'
        ? net.createServer((c) => c.on('data', (d) => c.write(d)))
        : http.createServer({ keepAlive: true }, (req, res) => {
            req.resume();
            req.on('end', () => {
              res.writeHead(200, { 'Content-Length': 48 });
              res.end(Buffer.alloc(48));
            });
          });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  }
  process.on('message', reply);
} else {
  const me = new URL(import.meta.url).pathname;
  // 1. Wake-ups: 50 processes, one 1 s timer each, for 10 s.
  const timers = Array.from({ length: 50 }, () => fork(me, ['timer']));
  await sleep(3000);
  const a = await Promise.all(timers.map(ask));
  await sleep(10_000);
  const b = await Promise.all(timers.map(ask));
  const used = b.reduce((s, x, i) => s + x - a[i], 0);
  console.log(`timer wake-up (50 idle processes, 1/s): ${(used / 500).toFixed(0)} µs CPU each`);
  for (const t of timers) t.kill();
  // 2. One request between two processes.
  for (const k of ['tcp', 'http', 'dsn']) {
    const srv = fork(me, ['server', k]);
    const port = await new Promise((r) => srv.once('message', (m) => r(m.port)));
    const agent = new http.Agent({ keepAlive: true });
    const sock = k === 'tcp' ? net.connect(port, '127.0.0.1') : null;
    // (Loaded here, not at the top: the 50 timer processes above must not load it.)
    const dsn = k === 'dsn' ? new (await import('../dist/index.js')).HttpTransport() : null;
    const one = () =>
      new Promise((resolve) => {
        if (dsn) {
          dsn
            .request('127.0.0.1', port, '/ping', Buffer.alloc(48), { timeoutMs: 2000 })
            .then(resolve);
          return;
        }
        if (sock) {
          sock.once('data', resolve);
          sock.write(Buffer.alloc(200));
          return;
        }
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', agent, headers: { 'Content-Length': 48 } },
          (res) => res.resume().on('end', resolve),
        );
        req.end(Buffer.alloc(48));
      });
    for (let i = 0; i < 50; i++) await one();
    const n = 300;
    const c0 = cpu();
    const s0 = await ask(srv);
    for (let i = 0; i < n; i++) {
      await one();
      await sleep(20);
    }
    const client = (cpu() - c0) / n;
    const server = ((await ask(srv)) - s0) / n;
    console.log(
      `${{ tcp: 'raw TCP echo', http: 'node:http POST', dsn: 'dsn transport POST' }[k]}, 20 ms apart: client ${client.toFixed(0)} µs, server ${server.toFixed(0)} µs CPU`,
    );
    sock?.destroy();
    await dsn?.close();
    agent.destroy();
    srv.kill();
  }
}
