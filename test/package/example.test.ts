import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

it("the README's temperature-monitor example runs and the monitor holds every sensor's last value", () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/temperature-monitor.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const held = r.stdout.split('what the monitor holds:')[1] ?? '';
  const rooms = [...held.matchAll(/sensor-(\w+): (\d+\.\d) °C/g)].map((m) => m[1]);
  assert.deepEqual(rooms.sort(), ['attic', 'garage', 'kitchen']);
  // The last value printed per sensor by the update listener is what the monitor holds.
  for (const m of held.matchAll(/(sensor-\w+): (\d+\.\d) °C/g)) {
    const lines = r.stdout.split('\n').filter((l) => l.startsWith(`${m[1]} `));
    assert.match(lines.at(-1) ?? '', new RegExp(`${m[2]} °C$`));
  }
});
