// One benchmark node in its own process: the built library (dist/), driven
// by the parent over the IPC channel. Plain JavaScript so that the process
// carries no TypeScript loader (its RSS is the library's own).
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { DSNodeServer } from '../dist/index.js';
import { dataCommand, onReceive } from './data-proc.mjs';
import { privateBytes } from './mem.mjs';

const now = () => performance.timeOrigin + performance.now();
let server = null;
let expect = 0;
let meshed = false;
let mode = 'report';
const lags = [];
/** [writer, seq, arrival time] of every value seen, in collect mode. */
const arrivals = [];
let lastSeen = { seq: -1 };

// The parent may be gone (Ctrl-C): then there is nobody to tell.
const send = (m) => {
  if (process.connected) process.send(m);
};
process.on('disconnect', () => process.exit(0));

function checkMesh() {
  if (!meshed && server && server.peers().length >= expect) {
    meshed = true;
    send({ ev: 'mesh', at: now() });
  }
}

function onUpdate(nodeId) {
  const v = server.readData(nodeId, 'v');
  if (!v) return;
  const [seq, t] = v.split(':').map(Number);
  const at = now();
  if (seq > lastSeen.seq) lastSeen = { seq, from: nodeId };
  if (mode === 'report') send({ ev: 'seen', seq, from: nodeId, lag: at - t });
  else {
    lags.push(at - t);
    arrivals.push([nodeId, seq, at]);
  }
}

async function blast(seconds, window) {
  const end = now() + seconds * 1000;
  let seq = 0;
  let done = 0;
  const inflight = [];
  while (now() < end) {
    const t = now();
    inflight.push(server.updateData('v', `${seq++}:${t}`).then(() => done++));
    if (inflight.length >= window) await inflight.shift();
    if (seq % 16 === 0) await yieldNow();
  }
  const calls = seq;
  const t0 = now();
  await Promise.all(inflight);
  return { calls, delivered: done, last: seq - 1, drainMs: now() - t0 };
}

process.on('message', async (m) => {
  try {
    switch (m.cmd) {
      case 'start': {
        expect = m.expect;
        server = await DSNodeServer.start({
          nodeId: m.id,
          port: 0,
          host: '127.0.0.1',
          aesKey: m.key,
          credentialDir: null,
          bootstrapNodes: m.bootstrapPort ? [{ address: '127.0.0.1', port: m.bootstrapPort }] : [],
          // BENCH_TIMING='{"probesPerSecond":2}' tries other timings.
          ...(process.env.BENCH_TIMING && { timing: JSON.parse(process.env.BENCH_TIMING) }),
          // BENCH_LIMITS='{"maxBodyBytes":67108864}' lets bigger DATA through (none by default).
          ...(process.env.BENCH_LIMITS && { limits: JSON.parse(process.env.BENCH_LIMITS) }),
        });
        server.on('peer', checkMesh);
        server.on('update', onUpdate);
        server.on('receive', (from, data) => onReceive(server, send, from, data));
        server.on('disconnect', (id) => send({ ev: 'problem', message: `${m.id} evicted ${id}` }));
        send({ ev: 'ready', port: server.port });
        checkMesh();
        break;
      }
      case 'mode':
        mode = m.mode;
        lags.length = 0;
        arrivals.length = 0;
        break;
      case 'write': {
        const t = now();
        const done = server.updateData('v', `${m.seq}:${t}`);
        if (m.quiet) send({ ev: 'written', seq: m.seq, t });
        await done;
        if (!m.quiet) send({ ev: 'written', seq: m.seq, t });
        break;
      }
      case 'arrivals':
        send({ ev: 'arrivals', arrivals: arrivals.splice(0) });
        break;
      case 'blast':
        send({ ev: 'blasted', ...(await blast(m.seconds, m.window)) });
        break;
      case 'collect':
        send({ ev: 'collected', lags: lags.splice(0), last: lastSeen.seq });
        break;
      case 'stats': {
        const cpu = process.cpuUsage();
        const s = server.node.transport.stats;
        send({
          ev: 'stats',
          cpuUs: cpu.user + cpu.system,
          userUs: cpu.user,
          systemUs: cpu.system,
          rss: process.memoryUsage().rss,
          private: privateBytes(),
          bytesSent: s.bytesSent,
          requests: s.requestsSent,
          peers: server.peers().length,
        });
        break;
      }
      case 'profile': {
        // CPU profile of this node alone for m.ms milliseconds, to m.file.
        const { Session } = await import('node:inspector/promises');
        const { writeFile } = await import('node:fs/promises');
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        await new Promise((r) => setTimeout(r, m.ms));
        const { profile } = await session.post('Profiler.stop');
        await writeFile(m.file, JSON.stringify(profile));
        session.disconnect();
        send({ ev: 'profiled' });
        break;
      }
      case 'stop':
        await server?.stop();
        process.exit(0);
        break;
      default:
        if (!(await dataCommand(server, send, m))) throw new Error(`unknown command ${m.cmd}`);
    }
  } catch (err) {
    send({ ev: 'problem', message: String(err?.stack ?? err) });
  }
});
send({ ev: 'alive' });
