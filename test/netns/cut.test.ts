import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKey } from '../../src/index.js';
import { sorted, tempDir, until, untilAsync } from '../helpers/net.js';
import { ProcNode } from '../helpers/proc.js';
import { pythonUnavailable } from '../helpers/pypeer.js';
import { LivenessLog, NsPyPeer } from './hosts.js';
import { Lab, labUnavailable, useLab } from './lab.js';

/**
 * A↛C: three hosts A, B, C, and only the path between A and C cut, both
 * ways, while both still reach B (Lab.cut: each one's neighbour entry for
 * the other points to a MAC nobody has, so packets vanish as on a dead
 * link). Default timings.
 *
 * - Three nodes of this package: a value A writes reaches C through B (the
 *   digests B and C exchange in gossip) within a few gossip rounds; A and C
 *   suspect each other but neither evicts the other for 40 s (B vouches for
 *   each when asked, an indirect probe); once the link is back both are
 *   alive again.
 * - Two nodes of this package and the Python peer (test/interop/pypeer.py,
 *   standing in for the reference): the Python node drops A at its first
 *   failed ping round, as the reference does, and B sends it A's States as
 *   ordinary UPDATEs: its `read` of A's key shows A's latest value.
 *
 * Needs root and iproute2 (and python3 with cryptography for the second):
 * skipped with the reason otherwise, except under CI (CI set), where that is
 * a failure.
 */
const unavailable = labUnavailable();
const skip = unavailable !== null && !process.env.CI ? unavailable : false;
const noPython = pythonUnavailable();
const skipMixed = skip || (noPython !== null && !process.env.CI ? noPython : false);
const PORT = 7000;
/** "Within two gossip rounds" (tickMs 3 s), generously: a gossip partner is picked at random. */
const RELAYED_WITHIN_MS = 20_000;
const WINDOW_MS = 40_000;

function startProc(
  lab: Lab,
  procs: { kill(): Promise<void> }[],
  liveness: LivenessLog,
  key: string,
  cred: string,
  h: number,
  id: string,
  via: number[],
): ProcNode {
  const p = new ProcNode({
    id,
    port: PORT,
    host: '0.0.0.0',
    key,
    cred,
    netns: lab.ns(h),
    bootstrap: via.map((v) => `${lab.address(v)}:${PORT}`),
  });
  procs.push(p);
  liveness.watch(p);
  p.on('leave', (node: string) => p.view.delete(node));
  p.on('alert', (m: string) => console.log(`alert from ${id}: ${m}`));
  return p;
}

/** Checks the cut: A→C and C→A hang, both reach B. */
async function checkCut(lab: Lab): Promise<void> {
  const [ac, ca, ab, cb] = await Promise.all([
    lab.tcpConnect(1, lab.address(3), PORT),
    lab.tcpConnect(3, lab.address(1), PORT),
    lab.tcpConnect(1, lab.address(2), PORT),
    lab.tcpConnect(3, lab.address(2), PORT),
  ]);
  assert.deepEqual(
    { ac, ca, ab, cb },
    { ac: 'timeout', ca: 'timeout', ab: 'connected', cb: 'connected' },
    'TCP connects: A→C and C→A hang, A→B and C→B connect',
  );
}

describe('A↛C: the A–C path cut, both still reach B', { skip }, () => {
  const lab = new Lab(3, 'cut');
  const key = generateKey();
  const creds = tempDir('dsnt-cred-');
  const procs: ProcNode[] = [];
  const liveness = new LivenessLog();

  useLab(lab, procs, unavailable);
  after(() => creds.cleanup());

  async function waitFor(group: ProcNode[], check: () => boolean, what: string, timeoutMs: number) {
    try {
      await until(group, check, what, {
        events: ['peer', 'update', 'disconnect', 'leave', 'suspect', 'alive'],
        timeoutMs,
      });
    } catch (err) {
      const held = group.map((p) => `${p.id}: ${JSON.stringify([...p.view])}`).join('\n');
      throw new Error(`${(err as Error).message}\n${held}\n${liveness.describe()}`);
    }
  }

  it("A's value reaches C through B; neither evicts the other for 40 s; alive again after", {
    timeout: 150_000,
  }, async () => {
    const start = (h: number, id: string, via: number[]) =>
      startProc(lab, procs, liveness, key, creds.path, h, id, via);
    const a = start(1, 'a', []);
    await a.ready;
    const [b, c] = [start(2, 'b', [1]), start(3, 'c', [1])];
    await Promise.all([b.ready, c.ready]);
    const all = [a, b, c];
    await waitFor(
      all,
      () => all.every((p) => sorted(p.listed()).join() === 'a,b,c'),
      'three hosts meshed',
      30_000,
    );
    await Promise.all(all.map((p) => p.update('k', `before by ${p.id}`)));
    await waitFor(
      all,
      () =>
        all.every((p) => all.every((o) => o === p || p.holds(o.id, 'k') === `before by ${o.id}`)),
      'every node holds every value',
      20_000,
    );

    lab.cut(1, 3);
    const cutAt = Date.now();
    await checkCut(lab);

    // A writes: its own push to C is lost; C gets it from B.
    const t0 = Date.now();
    const written = a.update('k', 'during the cut by a');
    await waitFor(
      [c],
      () => c.holds('a', 'k') === 'during the cut by a',
      "C holds A's new value (through B)",
      RELAYED_WITHIN_MS,
    );
    const aToC = Date.now() - t0;
    // And the other way.
    const t1 = Date.now();
    const writtenC = c.update('k', 'during the cut by c');
    await waitFor(
      [a],
      () => a.holds('c', 'k') === 'during the cut by c',
      "A holds C's new value (through B)",
      RELAYED_WITHIN_MS,
    );
    const cToA = Date.now() - t1;
    await Promise.all([written, writtenC]);
    console.log(
      `A↛C: A's value reached C ${aToC} ms after it was written, C's reached A after ${cToA} ms`,
    );

    // The observation window: 40 s from the cut in which nothing may be evicted.
    await sleep(Math.max(0, WINDOW_MS - (Date.now() - cutAt)));
    const during = liveness.find({}, cutAt);
    assert.deepEqual(
      during.filter((e) => e.event === 'disconnect' || e.event === 'leave'),
      [],
      `nobody evicted anyone for ${WINDOW_MS} ms:\n${liveness.describe(cutAt)}`,
    );
    for (const p of all)
      assert.deepEqual(sorted(await p.peers()), ['a', 'b', 'c'], `${p.id} lists`);
    const firstSuspect = (o: string, n: string) =>
      liveness.find({ observer: o, event: 'suspect', node: n }, cutAt)[0];
    const aSuspectsC = firstSuspect('a', 'c');
    const cSuspectsA = firstSuspect('c', 'a');
    assert.ok(
      aSuspectsC && cSuspectsA,
      `A and C suspected each other:\n${liveness.describe(cutAt)}`,
    );
    console.log(
      `A↛C: A suspected C ${aSuspectsC.at - cutAt} ms, C suspected A ` +
        `${cSuspectsA.at - cutAt} ms after the cut; ${during.length} liveness events in ` +
        `${WINDOW_MS} ms, none a disconnect: ${during.map((e) => `${e.observer}:${e.event} ${e.node}`).join(', ')}`,
    );
    // B was never in doubt.
    assert.deepEqual(
      during.filter((e) => e.node === 'b' || e.observer === 'b'),
      [],
      'nobody suspected B, B suspected nobody',
    );

    // A later value still goes through B.
    const t2 = Date.now();
    const late = a.update('k', 'late in the cut by a');
    await waitFor(
      [c],
      () => c.holds('a', 'k') === 'late in the cut by a',
      "C holds A's later value",
      RELAYED_WITHIN_MS,
    );
    console.log(`A↛C: A's value written 40 s into the cut reached C after ${Date.now() - t2} ms`);
    await late;

    lab.restore(1, 3);
    const restoredAt = Date.now();
    await waitFor(
      all,
      () => liveness.of('a', 'c') === 'alive' && liveness.of('c', 'a') === 'alive',
      'A and C alive to each other again',
      20_000,
    );
    console.log(`A↛C: both alive again ${Date.now() - restoredAt} ms after the link came back`);
    for (const [p, other] of [
      [a, 'c'],
      [c, 'a'],
    ] as const) {
      const view = (
        (await p.cmd('snapshot')).snapshot as { nodeId: string; liveness: string }[]
      ).find((v) => v.nodeId === other);
      assert.equal(view?.liveness, 'alive', `${p.id}'s snapshot: ${other} is alive`);
    }
    assert.deepEqual(
      liveness.find({}, cutAt).filter((e) => e.event === 'disconnect' || e.event === 'leave'),
      [],
    );
  });
});

describe('A↛C with C a Python node: B sends it A’s States', { skip: skipMixed }, () => {
  const lab = new Lab(3, 'mixed');
  const key = generateKey();
  const creds = tempDir('dsnt-cred-');
  const procs: { kill(): Promise<void> }[] = [];
  const liveness = new LivenessLog();

  useLab(lab, procs, unavailable);
  after(() => creds.cleanup());

  it("C's read of A's key shows A's latest value, relayed by B", { timeout: 120_000 }, async () => {
    if (noPython) throw new Error(`the Python peer is required under CI: ${noPython}`);
    const a = startProc(lab, procs, liveness, key, creds.path, 1, 'a', []);
    await a.ready;
    const b = startProc(lab, procs, liveness, key, creds.path, 2, 'b', [1]);
    await b.ready;
    const c = new NsPyPeer({
      id: 'c',
      netns: lab.ns(3),
      port: PORT,
      key,
      bootstrap: [`${lab.address(2)}:${PORT}`],
    });
    procs.push(c);
    liveness.watch(c);
    await c.ready;
    const ts = [a, b];
    const cHolds = (node: string, value: string, what: string, timeoutMs: number) =>
      untilAsync(
        c,
        ['update', 'peer', 'disconnect'],
        async () => (await c.read(node, 'k')) === value,
        what,
        timeoutMs,
      );

    await until(
      ts,
      () => ts.every((p) => sorted(p.listed()).join() === 'a,b,c'),
      'A and B list the Python node',
      { events: ['peer', 'update'], timeoutMs: 30_000 },
    );
    await untilAsync(
      c,
      ['peer', 'update'],
      async () => sorted(await c.peers()).join() === 'a,b,c',
      'the Python node lists A and B',
      30_000,
    );
    await a.update('k', 'before by a');
    await cHolds('a', 'before by a', "C holds A's value (sent by A)", 20_000);

    lab.cut(1, 3);
    const cutAt = Date.now();
    await checkCut(lab);

    const t0 = Date.now();
    const written = a.update('k', 'during the cut by a');
    await cHolds('a', 'during the cut by a', "C holds A's value written after the cut", 40_000);
    const first = Date.now() - t0;
    await written;
    const dropped = liveness.find({ observer: 'c', event: 'disconnect', node: 'a' }, cutAt)[0];
    console.log(
      `mixed A↛C: the Python node ${dropped ? `dropped A ${dropped.at - cutAt} ms after the cut` : 'never dropped A'}; ` +
        `A's value written after the cut reached it through B ${first} ms after it was written`,
    );

    // Once B knows the Python node no longer lists A, each new State of A goes to it at once.
    const t1 = Date.now();
    const later = a.update('k', 'later by a');
    await cHolds('a', 'later by a', "C holds A's latest value", RELAYED_WITHIN_MS);
    console.log(`mixed A↛C: A's next value reached the Python node after ${Date.now() - t1} ms`);
    await later;
    assert.equal(await c.read('a', 'k'), 'later by a');
    assert.ok((await c.peers()).includes('a'), 'the Python node lists A again (from its State)');
  });
});
