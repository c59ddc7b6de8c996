// The DATA side of a benchmark node process (bench/node-proc.mjs loads it):
// awaited sends to one peer, checked on the receiver, and the decode ring of
// Language Pipes. Only the public API: sendToNode and the 'receive' event.
import { createHash, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
/**
 * What a message is checked by: its SHA-256 up to 64 KiB; above, the SHA-256
 * of 4 KiB taken every 256 KiB and of its last 4 KiB (hashing all of a
 * 32 MiB message would cost the receiver as much as receiving it, inside
 * the time measured). Whole-message integrity at every size is what
 * test/integration/data.test.ts asserts.
 */
function fingerprint(bytes) {
  if (bytes.length <= 64 * 1024) return sha256(bytes);
  const h = createHash('sha256');
  for (let at = 0; at < bytes.length; at += 256 * 1024) h.update(bytes.subarray(at, at + 4096));
  h.update(bytes.subarray(bytes.length - 4096));
  return h.digest('hex');
}
/** Bytes 0–3 of every message: its number. */
const seqOf = (bytes) =>
  bytes.length >= 4 ? Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE(0) : -1;

/** What arrived since the last 'data-verify', held until then (a consumer holding its message). */
let arrived = [];
/** The payload being sent: one buffer per size, its first bytes numbered per send. */
let payload = null;
/** Set while this node is in the ring: where to forward, and (the origin) its bookkeeping. */
let ring = null;

/**
 * BENCH_DATA_FAULT=flip changes the last byte of every message received: a
 * self-check that the benchmark counts corrupted delivery (the smoke test).
 */
const flip = process.env.BENCH_DATA_FAULT === 'flip';

export function onReceive(server, send, from, data) {
  if (flip && data.length > 0) data[data.length - 1] ^= 1;
  if (!ring) {
    arrived.push({ from, seq: seqOf(data), length: data.length, sha: fingerprint(data) });
    return;
  }
  if (!ring.origin) {
    // Forward at once, as each Language Pipes machine does with its hidden state.
    const forward = server.sendToNode(ring.next, data).catch((err) => {
      send({ ev: 'problem', message: `ring forward: ${errorText(err)}` });
    });
    ring.pending.add(forward);
    forward.finally(() => ring?.pending.delete(forward));
    return;
  }
  ring.lap(data);
}

function errorText(err) {
  const message = String(err?.message ?? err);
  const status =
    err?.status === undefined || message.includes(String(err.status))
      ? ''
      : ` (HTTP ${err.status})`;
  return `${err?.code ? `${err.code}: ` : ''}${message}${status}`;
}

/**
 * `count` sends to `to`, one after another, each awaited (as Language Pipes
 * sends prefill chunks and model-file chunks): the time of each, and what
 * was sent, for the receiver's report to be checked against.
 */
async function sendMany(server, m) {
  if (!payload || payload.length !== m.size) {
    payload = Buffer.allocUnsafe(m.size);
    randomFillSync(payload);
  }
  const sent = [];
  for (let seq = 0; seq < m.count; seq++) {
    payload.writeUInt32BE(seq, 0);
    const sha = fingerprint(payload);
    const t0 = performance.now();
    try {
      await server.sendToNode(m.to, payload);
    } catch (err) {
      sent.push({ seq, error: errorText(err) });
      if (seq === 0) break;
      continue;
    }
    const ms = performance.now() - t0;
    // The library must not have written into the caller's buffer.
    sent.push({ seq, ms, sha, intact: fingerprint(payload) === sha });
  }
  return { ev: 'data-sent', sent };
}

function verify() {
  const got = arrived;
  arrived = [];
  return { ev: 'data-verified', got };
}

/** The origin of the ring: one message around A→B→C→A at a time, `rounds` after `warmup`. */
function startRing(server, send, m) {
  const msg = Buffer.allocUnsafe(m.size);
  randomFillSync(msg);
  const rtts = [];
  let seq = 0;
  let t0 = 0;
  let tStart = 0;
  let bad = 0;
  let errors = 0;
  let finished = false;
  const total = m.warmup + m.rounds;
  const go = () => {
    if (seq === m.warmup) tStart = performance.now();
    msg.writeUInt32BE(seq, 0);
    t0 = performance.now();
    server.sendToNode(ring.next, msg).catch((err) => {
      errors++;
      send({ ev: 'problem', message: `ring send: ${errorText(err)}` });
      finish(); // the lap cannot complete
    });
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    const seconds = (performance.now() - (tStart || t0)) / 1000;
    ring = null;
    send({ ev: 'ring-done', rtts, bad, errors, seconds, rounds: rtts.length });
  };
  ring.lap = (data) => {
    const at = performance.now();
    if (data.length !== msg.length || !msg.equals(data)) bad++;
    if (seq >= m.warmup) rtts.push(at - t0);
    seq++;
    if (seq < total) go();
    else finish();
  };
  go();
}

/** Handles the data commands; false for any other. */
export async function dataCommand(server, send, m) {
  switch (m.cmd) {
    case 'data-send':
      send(await sendMany(server, m));
      return true;
    case 'data-verify':
      send(verify());
      return true;
    case 'data-drop':
      // Frees the sender's payload (before a memory run, say).
      payload = null;
      arrived = [];
      send({ ev: 'data-dropped' });
      return true;
    case 'ring':
      ring = { next: m.next, origin: m.origin, lap: () => {}, pending: new Set() };
      if (m.origin) startRing(server, send, m);
      else send({ ev: 'ring-ready' });
      return true;
    case 'ring-leave':
      // After the forwards still under way, so that stopping the node fails none.
      await Promise.allSettled(ring?.pending ?? []);
      ring = null;
      send({ ev: 'ring-left' });
      return true;
    default:
      return false;
  }
}
