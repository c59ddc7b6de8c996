import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/clock.js';
import { DEFAULT_TIMING } from '../../src/config.js';
import { FailureDetector, type LivenessRecord, type Transition } from '../../src/node/liveness.js';

/** Every transition of the failure detector, on a fake clock. */
function setup() {
  const clock = new FakeClock();
  const seen: Transition[] = [];
  const det = new FailureDetector<{ live: LivenessRecord }>(clock, DEFAULT_TIMING, (_p, t) =>
    seen.push(t),
  );
  const peer = { live: det.fresh() };
  const fail = (how: 'refused' | 'timeout' | 'other', calm = true) => {
    det.probeStarted(peer);
    return det.probeFailed(peer, how, calm);
  };
  return { clock, det, peer, seen, fail };
}
const { deadAfterMs, suspectProbeMs } = DEFAULT_TIMING;

describe('failure detector', () => {
  it('a new peer is alive; one failed probe makes it suspect; a sign of life alive again', async () => {
    const { det, peer, seen, fail } = setup();
    assert.equal(peer.live.state, 'alive');
    assert.equal(fail('timeout'), false);
    assert.equal(peer.live.state, 'suspect');
    fail('timeout'); // a second failure while suspect is no new transition
    det.heard(peer);
    assert.equal(peer.live.state, 'alive');
    det.heard(peer); // alive stays alive, silently
    assert.deepEqual(seen, ['suspect', 'alive']);
  });

  it('a port that refuses two probes in a row is dead at once (a process gone)', async () => {
    const { clock, peer, seen, fail } = setup();
    assert.equal(fail('refused'), false);
    await clock.advance(suspectProbeMs);
    assert.equal(fail('refused'), true);
    assert.equal(peer.live.state, 'dead');
    assert.deepEqual(seen, ['suspect', 'dead']);
  });

  it('refusals must be in a row: a timeout in between starts the count again', async () => {
    const { peer, fail } = setup();
    fail('refused');
    fail('timeout');
    assert.equal(fail('refused'), false);
    assert.equal(peer.live.state, 'suspect');
  });

  it('a silent peer is dead after two failures and deadAfterMs, twice that for timeouts', async () => {
    const a = setup();
    a.fail('other');
    await a.clock.advance(deadAfterMs - 1);
    assert.equal(a.fail('other'), false, 'not before deadAfterMs');
    await a.clock.advance(1);
    assert.equal(a.fail('other'), true);

    const b = setup();
    b.fail('timeout');
    await b.clock.advance(deadAfterMs);
    assert.equal(b.fail('timeout'), false, 'timeouts get twice as long');
    await b.clock.advance(deadAfterMs);
    assert.equal(b.fail('timeout'), true);
    assert.deepEqual(b.seen, ['suspect', 'dead']);
  });

  it('never dead while this node is starved of CPU; a silent one not while another peer vouches for it', async () => {
    const { clock, det, peer, fail } = setup();
    fail('refused', false);
    assert.equal(fail('refused', false), false, 'not calm: no eviction');
    det.vouched(peer);
    await clock.advance(2 * deadAfterMs - 1);
    det.vouched(peer);
    assert.equal(fail('timeout'), false, 'silent long enough, but vouched for: no eviction');
    assert.equal(peer.live.state, 'suspect', 'still suspect: not reached directly');
    await clock.advance(2 * deadAfterMs);
    assert.equal(det.vouchedFor(peer), false, 'a vouch lasts deadAfterMs');
    assert.equal(fail('timeout'), true);
  });

  it('two refusals in a row win over a vouch (it is stale: no process answers there)', () => {
    const { det, peer, fail } = setup();
    det.vouched(peer);
    fail('refused');
    assert.equal(fail('refused'), true);
  });

  it('leave is final; nothing moves a dead or departed peer', async () => {
    const { det, peer, seen, fail } = setup();
    det.left(peer);
    assert.equal(peer.live.state, 'left');
    det.heard(peer);
    det.left(peer);
    assert.equal(fail('refused'), false);
    assert.equal(fail('refused'), false);
    assert.equal(peer.live.state, 'left');
    assert.deepEqual(seen, ['left']);

    const d = setup();
    d.fail('refused');
    d.fail('refused');
    d.det.heard(d.peer);
    d.det.left(d.peer);
    assert.equal(d.peer.live.state, 'dead');
    assert.deepEqual(d.seen, ['suspect', 'dead']);
  });

  it('probes are due: healthy after the routine interval or a hangup, suspects every suspectProbeMs', async () => {
    const { clock, det, peer, fail } = setup();
    assert.equal(det.due(peer, 4000), false);
    det.hungUp(peer);
    assert.equal(det.due(peer, 4000), true, 'a hangup makes a probe due at once');
    det.probeStarted(peer);
    assert.equal(det.due(peer, 4000), false, 'one probe at a time');
    det.probeSucceeded(peer);
    await clock.advance(4000);
    assert.equal(det.due(peer, 4000), true);
    fail('timeout');
    assert.equal(det.due(peer, 4000), false);
    await clock.advance(suspectProbeMs);
    assert.equal(det.due(peer, 4000), true);
  });
});
