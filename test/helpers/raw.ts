import { createEnvelope } from '../../src/crypto/envelope.js';
import { KeyPair } from '../../src/crypto/signing.js';
import { frame, MsgType } from '../../src/wire/frame.js';
import {
  type Data,
  encodeData,
  encodeHello,
  encodePeers,
  encodeState,
  type Hello,
  type Peers,
  type State,
  signedBytesData,
  signedBytesHello,
  signedBytesPeers,
  signedBytesState,
} from '../../src/wire/packets.js';
import { pyJsonDumps } from '../../src/wire/pyjson.js';
import { LOCAL } from './net.js';

/** One raw POST to a node, as an attacker or a foreign implementation would send it. */
export async function post(
  port: number,
  path: string,
  body: Uint8Array | string,
): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`http://${LOCAL}:${port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** Builds signed, enveloped protocol bodies for an identity of the test's choosing. */
export class Forger {
  readonly keys: KeyPair;
  private readonly env;

  constructor(
    readonly nodeId: string,
    aesKey: string | null,
    keys = KeyPair.generate(),
  ) {
    this.keys = keys;
    this.env = createEnvelope(aesKey);
  }

  seal(type: MsgType, payload: Uint8Array): Uint8Array {
    return this.env.seal(frame(type, payload));
  }

  open(body: Uint8Array): Uint8Array {
    return this.env.open(body);
  }

  hello(port: number, overrides: Partial<Hello> = {}): Uint8Array {
    const h: Hello = {
      version: '0.9.0',
      nodeId: this.nodeId,
      address: '',
      port,
      publicKey: this.keys.publicKey.raw,
      sig: new Uint8Array(0),
      detectedAddress: '',
      ...overrides,
    };
    h.sig = overrides.sig ?? this.keys.sign(signedBytesHello(h));
    return this.seal(MsgType.HELLO, encodeHello(h));
  }

  state(
    entries: [string, string][],
    lastUpdate = Date.now() / 1000,
    signer = this.keys,
    nodeId = this.nodeId,
  ): Uint8Array {
    const s: State = {
      nodeId,
      lastUpdate,
      sig: new Uint8Array(0),
      stateJson: pyJsonDumps(new Map(entries)),
    };
    s.sig = signer.sign(signedBytesState(s));
    return this.seal(MsgType.UPDATE, encodeState(s));
  }

  data(bytes: Uint8Array, signer = this.keys): Uint8Array {
    const d: Data = { nodeId: this.nodeId, sig: new Uint8Array(0), data: bytes };
    d.sig = signer.sign(signedBytesData(d));
    return this.seal(MsgType.DATA, encodeData(d));
  }

  peers(signer = this.keys): Uint8Array {
    const p: Peers = { nodeId: this.nodeId, sig: new Uint8Array(0), connections: [] };
    p.sig = signer.sign(signedBytesPeers(p));
    return this.seal(MsgType.PEERS, encodePeers(p));
  }
}
