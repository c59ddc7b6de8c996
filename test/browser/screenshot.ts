// Regenerates docs/dashboard.png: a demo-like network (a monitor and five
// sensors reporting every second) seen through the dashboard in headless
// Chromium after some twenty readings, so that the sparklines show trends;
// one sensor has just crashed (shown failed) and one has stopped cleanly
// (shown left).
//
//   node --import tsx test/browser/screenshot.ts [out.png] [light|dark] [width]
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSensor } from '../../src/cli/demo.js';
import { DSNodeServer, generateKey } from '../../src/index.js';
import { launchChromium } from './chromium.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const scheme = process.argv[3] === 'dark' ? 'dark' : 'light';
const width = Number(process.argv[4] ?? 1280);
const HOST = '127.0.0.1';
// Quick failure detection: the crashed sensor shows as failed within seconds.
const timing = { tickMs: 1000, probeIntervalMs: 1000, probeJitterMs: 500, suspectProbeMs: 250 };
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
const page = await browser.newPage({
  viewport: { width, height: width < 600 ? 1600 : 800 },
  colorScheme: scheme,
});
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
// Let some twenty readings arrive; then sensor-5 stops cleanly and sensor-4
// crashes (its transport closed, no goodbye) a few readings before the end.
await page.waitForTimeout(16_000);
stops[4]?.();
await nodes[5]?.stop();
await page.locator('[data-node="sensor-5"] .pill.left').waitFor({ timeout: 10_000 });
await page.waitForTimeout(2000);
stops[3]?.();
await nodes[4]?.node.transport.close();
await page.locator('[data-node="sensor-4"] .pill.failed').waitFor({ timeout: 20_000 });
await page.waitForTimeout(2500);
mkdirSync(dirname(out), { recursive: true });
await page.screenshot({ path: out, fullPage: width < 600 });
console.log(`wrote ${out}`);

await browser.close();
for (const stop of stops) stop();
await Promise.all(nodes.map((n) => n.stop()));
