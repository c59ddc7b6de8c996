// The machine's floor, below the protocol: what a process wake-up and one
// request between two processes cost here.
//   node bench/floor.mjs
// Prints CPU per wake-up of 50 idle processes with a 1 s timer, and CPU per
// request (client and server process) for a raw TCP echo and an HTTP POST
// with a keep-alive agent, requests 20 ms apart so each one wakes both sides.
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
  for (const k of ['tcp', 'http']) {
    const srv = fork(me, ['server', k]);
    const port = await new Promise((r) => srv.once('message', (m) => r(m.port)));
    const agent = new http.Agent({ keepAlive: true });
    const sock = k === 'tcp' ? net.connect(port, '127.0.0.1') : null;
    const one = () =>
      new Promise((resolve) => {
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
      `${k} request, 20 ms apart: client ${client.toFixed(0)} µs, server ${server.toFixed(0)} µs CPU`,
    );
    sock?.destroy();
    agent.destroy();
    srv.kill();
  }
}
