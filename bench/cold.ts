/**
 * What the steps of receiving an UPDATE cost warm, and right after other
 * work has pushed this process's code and data out of the caches (as two
 * dozen other node processes do on 2 cores between two updates).
 *   node --import tsx bench/cold.ts [MiB touched between steps, default 16] [rounds, default 400]
 * Prints the median µs of each step: warm (run back to back) and cold.
 */
import { createEnvelope } from '../src/crypto/envelope.js';
import { KeyPair } from '../src/crypto/signing.js';
import { keepsAlive, MessageReader } from '../src/transport/http1.js';
import { frame, MsgType, unframe } from '../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../src/wire/limits.js';
import {
  decodeStateAsSigned,
  encodeState,
  type State,
  signedBytesState,
} from '../src/wire/packets.js';
import { parseStateJson, pyJsonDumps } from '../src/wire/pyjson.js';

const mib = Number(process.argv[2] ?? 16);
const rounds = Number(process.argv[3] ?? 400);
if (!(mib >= 0) || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error('usage: bench/cold.ts [MiB ≥ 0] [rounds ≥ 1]');
}

const junk = new Uint8Array(mib * 2 ** 20);
let sink = 0;
/** Touches every cache line of `junk`. */
const evict = () => {
  for (let i = 0; i < junk.length; i += 64) {
    const v = ((junk[i] ?? 0) + 1) & 0xff;
    junk[i] = v;
    sink += v;
  }
};

// One UPDATE as the benchmark's writers send it.
const envelope = createEnvelope('00112233445566778899aabbccddeeff');
const kp = KeyPair.generate();
const state: State = {
  nodeId: 'n7',
  lastUpdate: 1764250000.123,
  sig: new Uint8Array(0),
  stateJson: '{"v": "123:1764250000123.456"}',
};
state.sig = kp.sign(signedBytesState(state));
const body = envelope.seal(frame(MsgType.UPDATE, encodeState(state)));
const payload = unframe(envelope.open(body), MsgType.UPDATE);
const head =
  'POST /update HTTP/1.1\r\nHost: 127.0.0.1:40000\r\nUser-Agent: distributed-state-network-ts\r\n' +
  `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
const request = Buffer.concat([Buffer.from(head, 'latin1'), body]);
const signed = decodeStateAsSigned(payload, DEFAULT_LIMITS).signed as Uint8Array;

const steps: Record<string, () => unknown> = {
  'HTTP head': () => {
    const r = new MessageReader('request', { maxHeadBytes: 8192, maxBodyBytes: 1 << 20 });
    r.push(request);
    return keepsAlive((r.next() as NonNullable<ReturnType<MessageReader['next']>>).head);
  },
  decrypt: () => unframe(envelope.open(body), MsgType.UPDATE),
  decode: () => decodeStateAsSigned(payload, DEFAULT_LIMITS),
  'JSON check': () => pyJsonDumps(parseStateJson(state.stateJson, DEFAULT_LIMITS)),
  signature: () => kp.publicKey.verify(signed, state.sig),
};

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number;
const time = (f: () => unknown) => {
  const t = performance.now();
  f();
  return (performance.now() - t) * 1000;
};
const names = Object.keys(steps);
const warm = new Map(names.map((name) => [name, [] as number[]]));
const cold = new Map(names.map((name) => [name, [] as number[]]));
for (let r = 0; r < rounds + 20; r++) {
  for (const [name, f] of Object.entries(steps)) {
    f();
    const w = time(f);
    evict();
    const c = time(f);
    if (r >= 20) {
      warm.get(name)?.push(w);
      cold.get(name)?.push(c);
    }
  }
}
console.log(`µs per step, median of ${rounds}: warm / after touching ${mib} MiB`);
for (const name of names) {
  const w = median(warm.get(name) ?? []);
  const c = median(cold.get(name) ?? []);
  console.log(`${name.padEnd(11)} ${w.toFixed(1).padStart(7)} / ${c.toFixed(1).padStart(7)}`);
}
if (sink < 0) console.log(sink);
