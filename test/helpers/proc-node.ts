/**
 * One DSN node as a process, for fault tests across real hosts (network
 * namespaces) and the soak run. Talks JSON lines, like test/interop/pypeer.py:
 *
 *   events on stdout  {"event":"ready","id","port"} {"event":"update","node","entries"}
 *                     {"event":"peer","node"} {"event":"disconnect","node"}
 *                     {"event":"leave","node"} {"event":"suspect","node"} {"event":"alive","node"}
 *                     {"event":"alert","message"} {"event":"fatal","message"}
 *                     (a peer that left is reported as `leave`, not `disconnect`: a
 *                     mirror that drops peers on `disconnect` must drop it on `leave` too)
 *   commands on stdin {"id":1,"cmd":"update","key","value"}  → {"reply":1,"ok":true}
 *                     read {node,key} → value · peers → peers · state {node} → entries
 *                     states → states {id: entries} · snapshot → server.snapshot()
 *                     stats → memory (after a GC
 *                     when run with --expose-gc) · stop → exits 0
 *
 * node --import tsx test/helpers/proc-node.ts --id ID --port P [--host H] [--key HEX]
 *   [--bootstrap host:port]… [--cred DIR] [--fast] [--timing JSON] [--clock-offset-ms N]
 *
 * --clock-offset-ms shifts the node's clock (e.g. -3600000: an hour behind).
 * The process stops when stdin closes, so it never outlives its parent.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Clock } from '../../src/clock.js';
import { DSNodeServer, type Endpoint, type Timing } from '../../src/index.js';
import { FAST } from './net.js';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    key: { type: 'string' },
    bootstrap: { type: 'string', multiple: true, default: [] },
    cred: { type: 'string' },
    fast: { type: 'boolean', default: false },
    timing: { type: 'string' },
    'clock-offset-ms': { type: 'string', default: '0' },
  },
});

const out = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

function endpoint(s: string): Endpoint {
  const i = s.lastIndexOf(':');
  return { address: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

function shiftedClock(offsetMs: number): Clock {
  return {
    now: () => Date.now() + offsetMs,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

const offset = Number(values['clock-offset-ms']);
const timing: Partial<Timing> = {
  ...(values.fast ? FAST : {}),
  ...(values.timing ? (JSON.parse(values.timing) as Partial<Timing>) : {}),
};

/** Set once joined; events from the join itself are reported from a snapshot below. */
let joined: DSNodeServer | undefined;

async function startNode(): Promise<DSNodeServer> {
  try {
    return await DSNodeServer.start(
      {
        nodeId: values.id as string,
        port: Number(values.port),
        host: values.host,
        aesKey: values.key ?? null,
        credentialDir: values.cred ?? null,
        bootstrapNodes: values.bootstrap.map(endpoint),
        timing,
        ...(offset !== 0 ? { clock: shiftedClock(offset) } : {}),
      },
      {
        onUpdate: (node) => joined && out({ event: 'update', node, entries: entries(node) }),
        // While joining only the callback is there (it fires for a leave too);
        // afterwards the events below tell a failure from a goodbye.
        onDisconnect: (node) => !joined && out({ event: 'disconnect', node }),
        onAlert: (message) => out({ event: 'alert', message }),
      },
    );
  } catch (err) {
    out({ event: 'fatal', message: (err as Error).message });
    process.exit(1);
  }
}

const server = await startNode();
joined = server;
server.on('peer', (node) => out({ event: 'peer', node }));
for (const event of ['disconnect', 'leave', 'suspect', 'alive'] as const) {
  server.on(event, (node) => out({ event, node }));
}
// The peers met while joining (before the listener above): report them too,
// so that a mirror of the events is complete from the start.
for (const node of server.peers().slice(1)) {
  out({ event: 'peer', node });
  out({ event: 'update', node, entries: entries(node) });
}
out({ event: 'ready', id: server.nodeId(), port: server.port });

function entries(node: string): [string, string][] | null {
  const m = server.readState(node);
  return m ? [...m] : null;
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await server.stop();
  }
  process.exit(code);
}

type Command = { id: number; cmd: string; [k: string]: unknown };

async function run(c: Command): Promise<Record<string, unknown>> {
  switch (c.cmd) {
    case 'update':
      await server.updateData(String(c.key), String(c.value));
      return {};
    case 'read':
      return { value: server.readData(String(c.node), String(c.key)) };
    case 'peers':
      return { peers: server.peers() };
    case 'state':
      return { entries: entries(String(c.node)) };
    case 'states':
      return { states: Object.fromEntries(server.peers().map((id) => [id, entries(id)])) };
    case 'snapshot':
      return { snapshot: server.snapshot() };
    case 'stats': {
      (globalThis as { gc?: () => void }).gc?.();
      return { memory: process.memoryUsage() };
    }
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let c: Command;
  try {
    c = JSON.parse(line) as Command;
  } catch {
    out({ event: 'alert', message: `not JSON: ${line.slice(0, 80)}` });
    return;
  }
  if (c.cmd === 'stop') {
    out({ reply: c.id, ok: true });
    void stop(0);
    return;
  }
  run(c).then(
    (r) => out({ reply: c.id, ok: true, ...r }),
    (err: Error) => out({ reply: c.id, ok: false, error: err.message }),
  );
});
rl.on('close', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
