// Regenerates docs/dashboard.png: a demo-like network (a monitor and five
// sensors reporting every second, one of them just gone silent) seen through
// the dashboard at 1280×800 in headless Chromium.
//
//   node --import tsx test/browser/screenshot.ts [out.png] [light|dark]
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSensor } from '../../src/cli/demo.js';
import { DSNodeServer, generateKey } from '../../src/index.js';
import { launchChromium } from './chromium.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const scheme = process.argv[3] === 'dark' ? 'dark' : 'light';
const HOST = '127.0.0.1';
// Quick suspicion, slow eviction: the silent sensor shows as suspected.
const timing = { tickMs: 1000, suspectProbeMs: 250, deadAfterMs: 60_000 };
const base = {
  port: 0,
  host: HOST,
  networkIp: HOST,
  aesKey: generateKey(),
  credentialDir: null,
  timing,
};

const monitor = await DSNodeServer.start({
  ...base,
  nodeId: 'monitor',
  dashboard: { port: 0, host: HOST },
});
await monitor.updateData('role', 'monitor');
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
await page.goto(monitor.dashboard?.url as string);
await page.waitForSelector('[data-node="monitor"]');

const nodes = [monitor];
const stops: (() => void)[] = [];
for (let i = 1; i <= 5; i++) {
  const sensor = await DSNodeServer.start({
    ...base,
    nodeId: `sensor-${i}`,
    bootstrapNodes: [{ address: HOST, port: monitor.port }],
  });
  nodes.push(sensor);
  stops.push(startSensor(sensor, i));
}
// Let a few readings arrive, then silence sensor-4 until it is suspected.
await page.waitForTimeout(2500);
stops[3]?.();
await nodes[4]?.stop();
await page.locator('[data-node="sensor-4"] .pill.suspected').waitFor({ timeout: 10_000 });
await page.waitForTimeout(700);
mkdirSync(dirname(out), { recursive: true });
await page.screenshot({ path: out });
console.log(`wrote ${out}`);

await browser.close();
for (const stop of stops) stop();
await Promise.all(nodes.map((n) => n.stop()));
