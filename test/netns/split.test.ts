import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKey } from '../../src/index.js';
import { sorted, tempDir, until } from '../helpers/net.js';
import { ProcNode } from '../helpers/proc.js';
import { LivenessLog } from './hosts.js';
import { Lab, labUnavailable, useLab } from './lab.js';

/**
 * A 3|3 split far longer than eviction heals by itself: every node is a
 * process on its own host (network namespace), default timings. During the
 * split each side drops the other (the failure detector: two failed probes
 * and 16 s of silence after timeouts), keeps working on its own, and keeps
 * looking for the lost peers (at least every reconnectMaxMs, 5 s). Within
 * 10 s of the heal every node lists every node and holds every owner's
 * latest State: values written during the split, and right before the heal.
 *
 * 60 s always; 10 minutes with DSN_LONG_SPLIT=1 (a backoff that kept
 * doubling would wait minutes there). Needs root and iproute2: skipped with
 * the reason otherwise, except under CI (CI set), where that is a failure.
 */
const unavailable = labUnavailable();
const skip = unavailable !== null && !process.env.CI ? unavailable : false;
const LONG = process.env.DSN_LONG_SPLIT === '1';
const PORT = 7000;
const HEAL_WITHIN_MS = 10_000;
const SIDE_A = [1, 2, 3];
const SIDE_B = [4, 5, 6];

describe('a long 3|3 split across network namespaces', { skip }, () => {
  const lab = new Lab(6, 'split');
  const key = generateKey();
  const creds = tempDir('dsnt-cred-');
  const procs: ProcNode[] = [];
  const liveness = new LivenessLog();
  let all: ProcNode[] = [];

  useLab(lab, procs, unavailable);
  after(() => creds.cleanup());

  const ids = (ps: ProcNode[]) => ps.map((p) => p.id);
  const hostOf = (p: ProcNode) => Number(p.id.slice(1));
  const sideOf = (id: string) => (SIDE_A.includes(Number(id.slice(1))) ? 'A' : 'B');

  const meshed = (group: ProcNode[]) =>
    group.every((p) => JSON.stringify(sorted(p.listed())) === JSON.stringify(sorted(ids(group))));

  /** Whether every node of `group` holds want[k][o] for every other owner o and key k. */
  const holdAll = (group: ProcNode[], want: Record<string, Record<string, string>>) =>
    group.every((p) =>
      group.every(
        (o) =>
          o === p ||
          Object.entries(want).every(([k, byOwner]) => p.holds(o.id, k) === byOwner[o.id]),
      ),
    );

  async function waitFor(
    group: ProcNode[],
    check: () => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<void> {
    try {
      await until(group, check, what, { events: ['peer', 'update', 'disconnect'], timeoutMs });
    } catch (err) {
      const held = group.map((p) => `${p.id}: ${JSON.stringify([...p.view])}`).join('\n');
      throw new Error(`${(err as Error).message}\n${held}\n${liveness.describe()}`);
    }
  }

  /** Every node of `group` writes `k`; resolves once all of `group` hold all values. */
  async function writeAll(group: ProcNode[], k: string, tag: string) {
    const want = Object.fromEntries(group.map((p) => [p.id, `${tag} by ${p.id}`]));
    await Promise.all(group.map((p) => p.update(k, want[p.id] as string)));
    await waitFor(group, () => holdAll(group, { [k]: want }), `every node holds every '${tag}'`);
    return want;
  }

  /** Six hosts, meshed (started once, kept for the next test). */
  async function network(): Promise<ProcNode[]> {
    if (all.length > 0) return all;
    const start = async (h: number, via: number[]) => {
      const p = new ProcNode({
        id: `s${h}`,
        port: PORT,
        host: '0.0.0.0',
        key,
        cred: creds.path,
        netns: lab.ns(h),
        bootstrap: via.map((v) => `${lab.address(v)}:${PORT}`),
      });
      procs.push(p);
      liveness.watch(p);
      // Whoever leaves the table leaves the mirror too.
      p.on('leave', (node: string) => p.view.delete(node));
      await p.ready;
      return p;
    };
    const first = await start(1, []);
    all = [first, ...(await Promise.all([2, 3, 4, 5, 6].map((h) => start(h, [1]))))];
    await waitFor(all, () => meshed(all), 'six hosts meshed', 60_000);
    return all;
  }

  async function splitAndHeal(splitMs: number, tag: string): Promise<void> {
    const nodes = await network();
    await writeAll(nodes, 'k', `${tag}: before`);
    const A = nodes.filter((p) => SIDE_A.includes(hostOf(p)));
    const B = nodes.filter((p) => SIDE_B.includes(hostOf(p)));
    const since = Date.now();

    lab.split(SIDE_B);
    const splitAt = Date.now();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((h) => lab.bridgeOf(h)),
      ['br0', 'br0', 'br0', 'br1', 'br1', 'br1'],
    );
    // Each side works on its own: every node writes, its side converges.
    const [duringA, duringB] = await Promise.all([
      writeAll(A, 'k', `${tag}: during the split`),
      writeAll(B, 'k', `${tag}: during the split`),
    ]);
    // Each side drops the other: the heal below is a real reunion, not a
    // link that came back before anyone noticed.
    const crossDrops = () =>
      liveness
        .find({ event: 'disconnect' }, since)
        .filter((d) => sideOf(d.observer) !== sideOf(d.node));
    const allDropped = () =>
      nodes.every((p) =>
        nodes.every(
          (o) =>
            sideOf(o.id) === sideOf(p.id) ||
            crossDrops().some((d) => d.observer === p.id && d.node === o.id),
        ),
      );
    const lastChance = splitMs - 5_000 - (Date.now() - splitAt);
    await waitFor(
      nodes,
      allDropped,
      'every node dropped the three of the other side',
      Math.max(1, lastChance),
    );
    const drops = crossDrops().map((d) => d.at - splitAt);
    console.log(
      `${tag}: 18 of 18 cross-side drops ${Math.min(...drops)}–${Math.max(...drops)} ms ` +
        'after the split',
    );
    assert.deepEqual(sorted(A[0]?.listed() ?? []), sorted(ids(A)), 'side A lists only side A');

    // The split itself, then every node writes again right before the heal.
    await sleep(Math.max(0, splitMs - (Date.now() - splitAt) - 1_000));
    const [lastA, lastB] = await Promise.all([
      writeAll(A, 'last', `${tag}: right before the heal`),
      writeAll(B, 'last', `${tag}: right before the heal`),
    ]);
    await sleep(Math.max(0, splitMs - (Date.now() - splitAt)));
    // Nothing crossed.
    const crossed = (from: ProcNode[], to: ProcNode[], want: Record<string, string>) =>
      to.some((p) => from.some((o) => p.holds(o.id, 'k') === want[o.id]));
    assert.equal(crossed(A, B, duringA) || crossed(B, A, duringB), false, 'the split held');

    lab.heal();
    const healAt = Date.now();
    console.log(`${tag}: healed after a split of ${healAt - splitAt} ms`);
    const want = { k: { ...duringA, ...duringB }, last: { ...lastA, ...lastB } };
    let meshedAt = 0;
    await waitFor(
      nodes,
      () => {
        if (!meshedAt && meshed(nodes)) meshedAt = Date.now();
        return meshed(nodes) && holdAll(nodes, want);
      },
      `every node lists every node and holds every latest value within ${HEAL_WITHIN_MS} ms of the heal`,
      HEAL_WITHIN_MS,
    );
    const healed = Date.now() - healAt;
    console.log(
      `${tag}: every node listed every node ${meshedAt - healAt} ms and held every ` +
        `latest value ${healed} ms after the heal`,
    );

    // The same through the processes themselves, not the mirrored events.
    for (const p of nodes) {
      const states = await p.states();
      assert.deepEqual(sorted(Object.keys(states)), sorted(ids(nodes)), `${p.id} lists`);
      for (const o of nodes) {
        for (const [k, byOwner] of Object.entries(want)) {
          const value = states[o.id]?.find(([x]) => x === k)?.[1];
          assert.equal(value, byOwner[o.id], `${p.id} holds ${o.id}'s ${k}`);
        }
      }
    }
    // Only the other side was ever dropped, and nobody "left".
    const wrong = liveness
      .find({}, since)
      .filter(
        (e) =>
          e.event === 'leave' ||
          (e.event === 'disconnect' && sideOf(e.observer) === sideOf(e.node)),
      );
    assert.deepEqual(wrong, []);
  }

  it('60 s: within 10 s of the heal every node lists every node and holds every latest value', {
    timeout: 180_000,
  }, async () => {
    await splitAndHeal(60_000, '60 s split');
  });

  it('10 minutes: the same', {
    skip: LONG ? false : 'a 10-minute split: set DSN_LONG_SPLIT=1 to run it',
    timeout: 15 * 60_000,
  }, async () => {
    await splitAndHeal(600_000, '10 min split');
  });
});
