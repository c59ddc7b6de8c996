import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { DSNodeServer, FakeClock, MemoryNetwork } from '../../src/index.js';
import type { MemoryTransport } from '../../src/transport/memory.js';
import { frame, MsgType } from '../../src/wire/frame.js';

/**
 * PROTOCOL.md §8: CBC without a MAC must not become a padding oracle; every
 * failure before authentication gets one answer. A PING is not
 * authenticated: a node that answered 200 to any body decrypting to
 * [0x04, anything] and 401 to everything else told an attacker whether a
 * forged ciphertext had valid padding (and a 0x04 first byte) — enough to
 * decrypt captured traffic block by block without the key (this test did,
 * in about 56,000 requests). Fixed in handlers.ts: a PING whose plaintext is
 * not exactly [0x04, 0x20] (all a Python node sends) gets the uniform 401.
 * The in-memory transport keeps the ~60,000 requests of the attack to a
 * couple of seconds; over HTTP on a LAN it takes minutes.
 */
const KEY = 'b0b1b2b3b4b5b6b7b8b9babbbcbdbebf';

describe('no padding oracle through /ping', () => {
  let target: DSNodeServer;
  let attacker: MemoryTransport;
  before(async () => {
    const network = new MemoryNetwork();
    target = await DSNodeServer.start({
      nodeId: 'target',
      port: 7000,
      aesKey: KEY,
      credentialDir: null,
      clock: new FakeClock(),
      transport: network.transport('127.0.1.1'),
    });
    attacker = network.transport('127.0.1.66');
  });
  after(() => target.stop());

  const ping = async (body: Uint8Array) =>
    (await attacker.request('127.0.1.1', 7000, '/ping', body, { timeoutMs: 1000 })).status;

  it('a body that decrypts and one that does not get the same answer', async () => {
    const env = createEnvelope(KEY);
    const decrypts = env.seal(frame(MsgType.PING, Buffer.from('not a space')));
    const garbage = Uint8Array.from(decrypts);
    garbage[garbage.length - 1] = (garbage[garbage.length - 1] as number) ^ 0x55; // bad padding
    assert.equal(await ping(decrypts), await ping(garbage));
  });

  it('the padding oracle attack cannot decrypt a captured block', async () => {
    // What the attacker captured: a sealed message it cannot read.
    const env = createEnvelope(KEY);
    const secret = Buffer.from('\u0003{"password": "hunter2, never to be read"}');
    const captured = env.seal(secret);
    const prev = captured.subarray(16, 32); // ciphertext block 1 (the IV of block 2)
    const target2 = captured.subarray(32, 48); // block 2, to decrypt
    let requests = 0;
    const oracle = async (iv: Uint8Array) => {
      requests++;
      const body = new Uint8Array(32);
      body.set(iv);
      body.set(target2, 16);
      return (await ping(body)) === 200;
    };
    // Step 1: an IV whose first byte decrypts to 0x04 and whose last is valid padding.
    const iv = new Uint8Array(16);
    let hit = false;
    search: for (let a = 0; a < 256; a++) {
      iv[0] = a;
      for (let b = 0; b < 256; b++) {
        iv[15] = b;
        if (await oracle(iv)) {
          hit = true;
          break search;
        }
      }
    }
    const inter = new Uint8Array(16); // D(block 2), what CBC XORs with the previous block
    if (hit) {
      inter[0] = (iv[0] as number) ^ 0x04;
      inter[15] = (iv[15] as number) ^ 0x01;
      // Step 2: byte by byte, padding 2..15.
      for (let pad = 2; pad <= 15; pad++) {
        const at = 16 - pad;
        for (let j = at + 1; j < 16; j++) iv[j] = (inter[j] as number) ^ pad;
        for (let g = 0; g < 256; g++) {
          iv[at] = g;
          if (await oracle(iv)) {
            inter[at] = g ^ pad;
            break;
          }
        }
      }
    }
    const recovered = Buffer.from(inter.map((d, i) => d ^ (prev[i] as number)));
    const actual = secret.subarray(16, 32);
    console.log(
      `padding oracle: ${requests} requests, recovered ${JSON.stringify(recovered.toString('latin1'))}`,
    );
    assert.notDeepEqual(recovered, actual, `/ping decrypted ${JSON.stringify(actual.toString())}`);
  });
});
