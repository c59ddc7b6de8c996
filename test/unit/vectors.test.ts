import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { availableBackends, KeyPair, PublicKey } from '../../src/crypto/signing.js';
import { PROTOCOL_VERSION } from '../../src/node/core.js';
import { hashOf, placeholder } from '../../src/node/states.js';
import { Reader, Writer } from '../../src/wire/bytes.js';
import { frame, PING_PAYLOAD, unframe } from '../../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import {
  decodeData,
  decodeHello,
  decodePeers,
  decodeState,
  encodeData,
  encodeHello,
  encodePeers,
  encodeState,
  signedBytesData,
  signedBytesHello,
  signedBytesPeers,
  signedBytesState,
} from '../../src/wire/packets.js';
import { parseStateJson, pyJsonDumps } from '../../src/wire/pyjson.js';
import { hex, toHex, vectors } from '../helpers/vectors.js';

const L = DEFAULT_LIMITS;
const P = vectors.packets;

it('the vectors are the Python reference’s, for the protocol this node speaks', () => {
  assert.equal(vectors.protocol_version, PROTOCOL_VERSION);
  assert.match(vectors.about, /Python reference implementation/);
});

describe('vectors: byte_helper', () => {
  for (const v of vectors.byte_helper) {
    it(`${v.kind} ${JSON.stringify(v.value)}`, () => {
      const w = new Writer();
      const r = new Reader(hex(v.encoded));
      if (v.kind === 'int') {
        assert.equal(toHex(w.u32(v.value).finish()), v.encoded);
        assert.equal(r.u32(), v.value);
      } else if (v.kind === 'float') {
        assert.equal(toHex(w.f64(v.value).finish()), v.encoded);
        assert.equal(r.f64(), v.value);
      } else if (v.kind === 'string') {
        assert.equal(toHex(w.string(v.value).finish()), v.encoded);
        assert.equal(r.string('s', 1000), v.value);
      } else {
        assert.equal(toHex(w.bytes(hex(v.value)).finish()), v.encoded);
        assert.equal(toHex(r.bytes('b', 1000)), v.value);
      }
      r.end('value');
    });
  }
});

describe('vectors: python_json', () => {
  for (const v of vectors.python_json) {
    it(v.json.length > 60 ? `${v.json.slice(0, 60)}…` : v.json, () => {
      const map = new Map<string, string>(v.dict_entries);
      const text = pyJsonDumps(map);
      assert.equal(text, v.json);
      assert.equal(hashOf(text), v.sha256);
      assert.deepEqual([...parseStateJson(v.json, L)], v.dict_entries);
    });
  }
});

describe('vectors: aes_128_cbc', () => {
  for (const v of vectors.aes_128_cbc) {
    it(`${v.plaintext.length / 2} bytes`, () => {
      const env = createEnvelope(v.key);
      assert.equal(toHex(env.seal(hex(v.plaintext), hex(v.iv))), v.ciphertext);
      assert.equal(toHex(env.open(hex(v.ciphertext))), v.plaintext);
    });
  }
});

describe('vectors: ecdsa', () => {
  for (const backend of availableBackends) {
    for (const [i, v] of vectors.ecdsa.entries()) {
      it(`${backend.name} #${i} valid=${v.valid}${v.high_s ? ' high-S' : ''}`, () => {
        const pub = new PublicKey(hex(v.public));
        assert.equal(pub.verify(hex(v.message), hex(v.signature), backend), v.valid);
      });
    }
    it(`${backend.name} derives the public keys and its signatures verify under the other back ends`, () => {
      for (const k of Object.values(vectors.keys) as { private: string; public: string }[]) {
        const kp = new KeyPair(hex(k.private));
        assert.equal(kp.publicKey.hex(), k.public);
        const msg = hex('68656c6c6f');
        const sig = kp.sign(msg, backend);
        for (const other of availableBackends) assert.ok(kp.publicKey.verify(msg, sig, other));
        assert.ok(!kp.publicKey.verify(hex('68656c6c6e'), sig, backend));
      }
    });
  }
});

function checkSignature(
  v: { bytes: string; signed_bytes: string; signer_public: string },
  sig: Uint8Array,
) {
  for (const backend of availableBackends) {
    assert.ok(
      new PublicKey(hex(v.signer_public)).verify(hex(v.signed_bytes), sig, backend),
      backend.name,
    );
  }
}

describe('vectors: packets', () => {
  it('hello_request', () => {
    const v = P.hello_request;
    const f = v.fields;
    const h = decodeHello(hex(v.bytes), L);
    assert.deepEqual(
      { ...h, publicKey: toHex(h.publicKey), sig: undefined },
      {
        version: f.version,
        nodeId: f.node_id,
        address: f.address,
        port: f.port,
        publicKey: f.public_key,
        sig: undefined,
        detectedAddress: f.detected_address,
      },
    );
    assert.equal(toHex(signedBytesHello(h)), v.signed_bytes);
    assert.equal(toHex(encodeHello(h)), v.bytes);
    checkSignature(v, h.sig);
  });

  it('hello_response_no_address (signed before detected_address is filled in)', () => {
    const v = P.hello_response_no_address;
    const h = decodeHello(hex(v.bytes), L);
    assert.equal(h.address, '');
    assert.equal(h.nodeId, v.fields.node_id);
    assert.equal(h.port, v.fields.port);
    assert.equal(h.detectedAddress, v.fields.detected_address);
    assert.equal(toHex(signedBytesHello(h, true)), v.signed_bytes);
    assert.equal(toHex(encodeHello(h)), v.bytes);
    checkSignature(v, h.sig);
  });

  for (const name of ['peers_request', 'peers_response']) {
    it(name, () => {
      const v = P[name];
      const p = decodePeers(hex(v.bytes), L);
      assert.equal(p.nodeId, v.fields.node_id);
      assert.deepEqual(
        p.connections.map((c) => [c.nodeId, c.address, c.port]),
        v.fields.connections.map((c: [string, string | null, number]) => [c[0], c[1] ?? '', c[2]]),
      );
      const built = { nodeId: v.fields.node_id, sig: p.sig, connections: p.connections };
      assert.equal(toHex(signedBytesPeers(built)), v.signed_bytes);
      assert.equal(toHex(encodePeers(built)), v.bytes);
      checkSignature(v, p.sig);
    });
  }

  it('state: fields → signed bytes, bytes → fields, signature', () => {
    const v = P.state;
    const stateJson = pyJsonDumps(new Map(v.fields.state_entries));
    const s = decodeState(hex(v.bytes), L);
    assert.equal(s.nodeId, v.fields.node_id);
    assert.equal(s.lastUpdate, v.fields.last_update);
    assert.equal(s.stateJson, stateJson);
    assert.deepEqual([...parseStateJson(s.stateJson, L)], v.fields.state_entries);
    const built = {
      nodeId: v.fields.node_id,
      lastUpdate: v.fields.last_update,
      sig: s.sig,
      stateJson,
    };
    assert.equal(toHex(signedBytesState(built)), v.signed_bytes);
    assert.equal(toHex(encodeState(built)), v.bytes);
    checkSignature(v, s.sig);
  });

  it('state_initial_unsigned is the placeholder for a peer just met', () => {
    const v = P.state_initial_unsigned;
    assert.equal(toHex(encodeState(placeholder(v.fields.node_id).packet)), v.bytes);
    const s = decodeState(hex(v.bytes), L);
    assert.equal(s.lastUpdate, 0);
    assert.equal(s.sig.length, 0);
    assert.equal(s.stateJson, '{}');
  });

  it('data', () => {
    const v = P.data;
    const d = decodeData(hex(v.bytes), L);
    assert.equal(d.nodeId, v.fields.node_id);
    assert.equal(toHex(d.data), v.fields.data);
    assert.equal(toHex(signedBytesData(d)), v.signed_bytes);
    assert.equal(toHex(encodeData(d)), v.bytes);
    checkSignature(v, d.sig);
  });
});

describe('vectors: http_bodies', () => {
  for (const v of vectors.http_bodies) {
    it(`${v.path} (type ${v.msg_type})`, () => {
      const payload = v.packet === null ? PING_PAYLOAD : hex(P[v.packet].bytes);
      const plain = frame(v.msg_type, payload);
      assert.equal(toHex(plain), v.plain_body);
      const env = createEnvelope(v.aes_key);
      assert.equal(toHex(env.seal(plain, hex(v.iv))), v.encrypted_body);
      const opened = env.open(hex(v.encrypted_body));
      assert.equal(toHex(opened), v.plain_body);
      assert.equal(toHex(unframe(opened, v.msg_type)), toHex(payload));
    });
  }
});
