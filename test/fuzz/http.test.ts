import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_TIMING, type DSNodeServer } from '../../src/index.js';
import type { Response } from '../../src/transport/types.js';
import { rawPost } from '../attacks/wire.js';
import { TestNet } from '../helpers/net.js';
import { bodies, type Case } from './mutate.js';
import { fingerprint, judge, newTally, RICH, seedsFor, watchEvents } from './target.js';

/**
 * The handler fuzz again, smaller, over real HTTP on 127.0.0.1: the same
 * bodies through Node's HTTP server and the transport's body handling, on
 * keep-alive connections, against a target whose ticker and gossip run.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = Math.round(3_000 * SCALE);

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(port: number, c: Case): Promise<Response> {
  return rawPost(port, c.path, c.body, { agent });
}

for (const encrypted of [true, false]) {
  describe(`fuzz over real HTTP (${encrypted ? 'encrypted' : 'plaintext'})`, () => {
    const net = new TestNet();
    const key = encrypted ? net.key : null;
    let target: DSNodeServer;
    let known: DSNodeServer;
    let events: Record<string, number>;
    let older: Uint8Array;

    before(async () => {
      // Default timings: the fuzzing load must not be what a failed ping measures.
      const opts = { aesKey: key, timing: DEFAULT_TIMING };
      target = await net.start('target', opts);
      known = await net.start('known', { ...opts, via: target });
      await known.updateData('k', 'old');
      older = known.node.core.ownStateBytes();
      for (const [k, v] of RICH) await known.updateData(k, v);
      events = watchEvents(target);
    });
    after(() => net.stopAll());

    it(`${RUNS} fuzzed bodies: 4xx only, nothing changes, the network still works`, async () => {
      const seeds = seedsFor(target, known, older);
      const before = fingerprint([target, known]);
      const tally = newTally();
      await fc.assert(
        fc.asyncProperty(bodies(seeds, key), async (c) => {
          const r = await send(target.port, c);
          assert.equal(judge('target', key, c, r, tally), null);
        }),
        { numRuns: RUNS },
      );
      console.log(
        `fuzz cases over HTTP (${key ? 'encrypted' : 'plaintext'}): ${JSON.stringify(tally)}`,
      );
      assert.equal(tally.cases, RUNS);
      assert.equal(fingerprint([target, known]), before);
      assert.deepEqual(events, {
        peer: 0,
        update: 0,
        disconnect: 0,
        receive: 0,
        selfUpdate: 0,
        alert: 0,
      });
      await known.updateData('after', 'fuzzing');
      assert.equal(target.readData('known', 'after'), 'fuzzing');
    });
  });
}

after(() => agent.destroy());
