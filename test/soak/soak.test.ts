import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SOAK, describeSummary, runSoak } from './soak.js';

/**
 * A short soak for CI: 8 node processes for about 30 s of random updates,
 * kill -9 and restarts (`npm run soak -- --minutes N` runs the long one with
 * 20 nodes). Zero lost updates, no live node dropped, RSS growth under 10 %.
 */
describe('soak (short)', () => {
  it('8 nodes, ~30 s of updates, kill -9 and restarts: nothing lost', {
    timeout: 180_000,
  }, async () => {
    const lines: string[] = [];
    const summary = await runSoak({
      ...DEFAULT_SOAK,
      nodes: 8,
      durationMs: 30_000,
      updateEveryMs: 100,
      killEveryMs: 3_000,
      restartAfterMs: [300, 12_000],
      maxDead: 2,
      stable: 2,
      warmupMs: 5_000,
      settleMs: 30_000,
      log: (l) => lines.push(l),
    });
    console.log(describeSummary(summary));
    for (const l of lines) console.log(`  ${l}`);
    assert.ok(summary.kills >= 1 && summary.restarts === summary.kills, 'faults were injected');
    assert.ok(summary.updates > 50, 'updates were written');
    assert.equal(summary.wrongfulDrops, 0, 'no live node was dropped');
    assert.notEqual(summary.convergedAfterMs, null, 'the network converged');
    assert.deepEqual(summary.lostDetail, [], 'no update was lost');
    assert.ok(summary.rss.growthPct < 10, `RSS grew by ${summary.rss.growthPct} %`);
    assert.ok(summary.ok);
  });
});
