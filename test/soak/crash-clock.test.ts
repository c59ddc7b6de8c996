import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/clock.js';
import { Timestamps } from '../../src/node/timestamps.js';

/**
 * README: "`last_update` never goes back, across restarts too … a restart
 * with the clock set back still wins". A value is only handed out while a
 * ceiling above it is on disk (fsync'ed): a crash in the middle of writing
 * the next ceiling — kill -9 during the write, or a power cut — leaves the
 * old ceiling on disk, still above every value peers hold. Restarted with its
 * clock behind (a Raspberry Pi without a real-time clock boots with an old
 * time), the node stamps above it.
 *
 * The disk here is slow on purpose (its writes complete only when told), so
 * the crash lands in the window every time.
 */
describe('last_update after a crash in the middle of a ceiling write', () => {
  it('a restart with the clock set back still stamps above every value handed out', async () => {
    const disk = { ceiling: 0 };
    const inFlight: (() => void)[] = [];
    const slowDisk = (c: number) =>
      new Promise<void>((resolve) =>
        inFlight.push(() => {
          disk.ceiling = c;
          resolve();
        }),
      );
    const turn = () => new Promise((r) => setImmediate(r));
    /** Lets the queued writes reach the disk. */
    const flush = async () => {
      await turn();
      for (const w of inFlight.splice(0)) w();
      await turn();
    };
    const clock = new FakeClock(1_800_000_000_000);
    const before = new Timestamps(clock, disk.ceiling, slowDisk, () => {});
    assert.throws(() => before.next(), /reserve\(\) must run first/);
    const reserved = before.reserve(); // start-up: the first lease, on disk before any value
    await flush();
    await reserved;
    const leased = disk.ceiling;
    assert.ok(leased > 0);
    clock.set(clock.now() + 11_000); // an update 11 s later would pass the lease…
    const sent = before.next(); // …so it creeps just above the last value, below the ceiling
    assert.ok(sent < leased, `${sent} < ${leased}`);
    await turn(); // the new ceiling's write has started, not finished
    // …and the process dies before the new ceiling reaches the disk.
    const behind = new FakeClock(clock.now() - 3_600_000);
    const after = new Timestamps(behind, disk.ceiling, slowDisk, () => {});
    const again = after.reserve();
    await flush();
    await again;
    const restarted = after.next();
    assert.ok(
      restarted > sent,
      `after the restart: ${restarted}, below the ${sent} the peers hold (ceiling on disk ${disk.ceiling})`,
    );
  });
});
