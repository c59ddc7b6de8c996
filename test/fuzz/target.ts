import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { KeyPair } from '../../src/crypto/signing.js';
import type { DSNodeServer } from '../../src/index.js';
import type { Response } from '../../src/transport/types.js';
import { MsgType } from '../../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { decodeHello, decodeState } from '../../src/wire/packets.js';
import { signedData, signedHello, signedPeers, signedState } from '../helpers/packets.js';
import { type Case, equal, type Seed } from './mutate.js';

/**
 * What the fuzz tests aim at: a target node with one known peer, a corpus of
 * valid packets built around them (so that mutations reach every decoder and
 * the signature checks), and the rules every answer must follow.
 */

/** Entries that exercise every escape of the state JSON. */
export const RICH: [string, string][] = [
  ['k', 'v'],
  ['quote"back\\slash', 'new\nline\ttab\r\b\f'],
  ['é€', '😀 astral and \u007f and \u0001'],
  ['10', 'integer-like key'],
  ['__proto__', 'not a prototype'],
];

function helloPacket(kp: KeyPair, nodeId: string, port: number, version = '0.9.0'): Uint8Array {
  return signedHello(kp, nodeId, port, { version });
}

function peersPacket(kp: KeyPair, nodeId: string, entries: number): Uint8Array {
  const connections = Array.from({ length: entries }, (_, i) => ({
    nodeId: `peer-${i}`,
    address: `10.0.0.${i}`,
    port: 7000 + i,
  }));
  return signedPeers(kp, nodeId, connections);
}

/**
 * Valid packets around `target` and its known peer `known` (whose genuine
 * key the fuzzer borrows, so mutations of its packets reach the signature
 * checks). `older` is an earlier genuine State of `known`. None of these is
 * ever sent unmutated by the fuzzer.
 */
export function seedsFor(target: DSNodeServer, known: DSNodeServer, older: Uint8Array): Seed[] {
  const kb = known.node.core.creds.keyPair;
  const stranger = KeyPair.generate();
  const now = known.node.core.own.packet.lastUpdate;
  const knownId = known.nodeId();
  return [
    { name: 'hello (new node)', type: MsgType.HELLO, payload: helloPacket(stranger, 'fz-new', 9) },
    { name: 'hello (known node)', type: MsgType.HELLO, payload: known.node.core.hello('') },
    {
      name: 'hello (known ID, new key)',
      type: MsgType.HELLO,
      payload: helloPacket(stranger, knownId, 9),
    },
    {
      name: 'hello (other version)',
      type: MsgType.HELLO,
      payload: helloPacket(stranger, 'fz-v', 9, '0.9.1'),
    },
    {
      name: 'state (current, replayed)',
      type: MsgType.UPDATE,
      payload: known.node.core.ownStateBytes(),
    },
    { name: 'state (older, replayed)', type: MsgType.UPDATE, payload: older },
    {
      name: 'state (unknown node)',
      type: MsgType.UPDATE,
      payload: signedState(stranger, 'fz-ghost', RICH, now + 100),
    },
    {
      name: 'state (forged for the known node)',
      type: MsgType.UPDATE,
      payload: signedState(stranger, knownId, RICH, now + 100),
    },
    {
      name: "state (target's own ID)",
      type: MsgType.UPDATE,
      payload: signedState(kb, target.nodeId(), [['x', 'y']], now + 100),
    },
    { name: 'peers (known node)', type: MsgType.PEERS, payload: peersPacket(kb, knownId, 3) },
    {
      name: 'peers (unknown node)',
      type: MsgType.PEERS,
      payload: peersPacket(stranger, 'fz-p', 1),
    },
    {
      name: 'data (known node)',
      type: MsgType.DATA,
      payload: signedData(kb, knownId, Buffer.from('payload')),
    },
    {
      name: 'data (unknown node)',
      type: MsgType.DATA,
      payload: signedData(stranger, 'fz-d', Buffer.from('payload')),
    },
    { name: 'ping', type: MsgType.PING, payload: new Uint8Array([0x20]) },
  ];
}

/** Everything observable about what a node holds: members, addresses, states (no times). */
export function fingerprint(nodes: DSNodeServer[]): string {
  return JSON.stringify(
    nodes.map((n) => [
      n.peers(),
      n.snapshot().map((v) => [v.nodeId, v.address, v.port, v.lastUpdate, v.state]),
      n.peers().map((id) => [...(n.readState(id) ?? [])]),
    ]),
  );
}

/**
 * Counts every event that would mean the node changed (or complained). The
 * node's reports of what it refused ("… does not decrypt with the network
 * key", "refused X from …") are what garbage should get: not counted.
 */
export function watchEvents(node: DSNodeServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const ev of ['peer', 'update', 'disconnect', 'receive', 'selfUpdate', 'alert'] as const) {
    counts[ev] = 0;
    node.on(ev, (...args: unknown[]) => {
      if (ev === 'alert' && REFUSAL.test(String(args[0]))) return;
      counts[ev] = (counts[ev] ?? 0) + 1;
    });
  }
  return counts;
}

const REFUSAL = /^(a request from \S+ does not decrypt with the network key|refused .+ from \S+: )/;

/** How the accepted-but-harmless answers were reached (for the summary). */
export interface Tally {
  cases: number;
  statuses: Record<string, number>;
  /** Genuine PINGs (one space byte) answered 200. */
  pingAnswered: number;
  notTaken: number;
  versionMismatch: number;
}

export function newTally(): Tally {
  return {
    cases: 0,
    statuses: {},
    pingAnswered: 0,
    notTaken: 0,
    versionMismatch: 0,
  };
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/**
 * The rules every answer to a fuzzed body must follow; returns what is wrong,
 * or null. Never a 5xx (except 505 for a well-formed Hello of another
 * version), never a 200 except a genuine PING or an UPDATE of a known node
 * whose State is not taken (a copy of the one held, or a verified older one,
 * maybe equivalent JSON: answered "not accepted", empty). With a
 * network key, every refusal before authentication is the one uniform 401,
 * except what handlers.ts keeps on purpose for well-formed packets: 505 for
 * another version, 406 for a Hello or State that carries the receiver's own
 * ID.
 */
export function judge(
  targetId: string,
  aesKey: string | null,
  c: Case,
  r: Response,
  tally: Tally,
): string | null {
  tally.cases++;
  tally.statuses[r.status] = (tally.statuses[r.status] ?? 0) + 1;
  const env = createEnvelope(aesKey);
  const open = (b: Uint8Array): Uint8Array | null => {
    try {
      return env.open(b);
    } catch {
      return null;
    }
  };
  const body = text(r.body);
  if (r.status === 204) {
    // An empty answer: a PING's, or an UPDATE's that stored nothing new.
    const req = open(c.body);
    if (r.body.length !== 0) return `204 with a body for ${c.kind} on ${c.path}`;
    // A PING is answered only when it is exactly [0x04, 0x20]: anything that
    // merely decrypts would make /ping a padding oracle (ping-oracle.test.ts).
    if (c.path === '/ping' && req && equal(req, Uint8Array.of(MsgType.PING, 0x20))) {
      tally.pingAnswered++;
      return null;
    }
    if (c.path === '/update' && req?.[0] === MsgType.UPDATE) {
      tally.notTaken++;
      return null;
    }
    return `204 for ${c.kind} on ${c.path}`;
  }
  if (r.status === 200) {
    return `200 for ${c.kind} on ${c.path}`;
  }
  if (r.status === 505) {
    const req = open(c.body);
    try {
      if (c.path === '/hello' && req && req[0] === MsgType.HELLO) {
        const h = decodeHello(req.subarray(1), DEFAULT_LIMITS);
        if (h.version !== '0.9.0') {
          tally.versionMismatch++;
          return null;
        }
      }
    } catch {}
    return `505 for ${c.kind} that is not a well-formed Hello of another version`;
  }
  if (r.status < 400 || r.status >= 500) return `status ${r.status} (${body}) for ${c.kind}`;
  if (!aesKey) return null;
  // Encrypted: the uniform answer, or a refusal that needs no decryption.
  if (r.status === 401 && body === 'not authorized') return null;
  if (r.status === 400 && c.body.length === 0 && body === 'empty body') return null;
  if (r.status === 404 && body === 'not found') return null;
  if (r.status === 413) return null;
  if (r.status === 406 && /own ID/.test(body) && claimsToBe(targetId, open(c.body))) return null;
  return `non-uniform ${r.status} '${body}' for ${c.kind} on ${c.path}`;
}

/** Whether a plain body is a well-formed Hello or State carrying `targetId` (406 "own ID"). */
function claimsToBe(targetId: string, req: Uint8Array | null): boolean {
  try {
    if (req?.[0] === MsgType.UPDATE) {
      return decodeState(req.subarray(1), DEFAULT_LIMITS).nodeId === targetId;
    }
    if (req?.[0] === MsgType.HELLO) {
      return decodeHello(req.subarray(1), DEFAULT_LIMITS).nodeId === targetId;
    }
  } catch {}
  return false;
}

let gcFn: (() => void) | null = null;

/** A full garbage collection (exposed at run time, so no command-line flag is needed). */
export function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Heap and ArrayBuffer memory after a full collection, in bytes. */
export function settledMemory(): { heapUsed: number; arrayBuffers: number } {
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}
