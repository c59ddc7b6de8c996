import { createEnvelope } from '../../src/crypto/envelope.js';
import { KeyPair } from '../../src/crypto/signing.js';
import { frame, MsgType } from '../../src/wire/frame.js';
import type { Hello } from '../../src/wire/packets.js';
import { LOCAL } from './net.js';
import { signedData, signedHello, signedPeers, signedState } from './packets.js';

/** One raw POST to a node, as an attacker or a foreign implementation would send it. */
export async function post(
  port: number,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`http://${LOCAL}:${port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
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
    return this.seal(MsgType.HELLO, signedHello(this.keys, this.nodeId, port, overrides));
  }

  state(
    entries: [string, string][],
    lastUpdate = Date.now() / 1000,
    signer = this.keys,
    nodeId = this.nodeId,
  ): Uint8Array {
    return this.seal(MsgType.UPDATE, signedState(signer, nodeId, entries, lastUpdate));
  }

  data(bytes: Uint8Array, signer = this.keys): Uint8Array {
    return this.seal(MsgType.DATA, signedData(signer, this.nodeId, bytes));
  }

  peers(signer = this.keys): Uint8Array {
    return this.seal(MsgType.PEERS, signedPeers(signer, this.nodeId));
  }
}
