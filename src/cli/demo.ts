import { startDashboard } from '../dashboard/server.js';
import type { Dashboard } from '../server.js';
import { DSNodeServer, generateKey } from '../server.js';
import { stopSignal } from './signals.js';

export interface DemoOptions {
  /** Dashboard port; undefined: 8080, or any free port if 8080 is taken. */
  port?: number;
  sensors: number;
}

const HOST = '127.0.0.1';
const DEFAULT_DASHBOARD_PORT = 8080;
const READING_MS = 1000;
const PLACES = [
  'greenhouse',
  'server room',
  'kitchen',
  'cellar',
  'office',
  'attic',
  'garage',
  'lab',
];

/**
 * `dsn demo`: a small network in this process, on 127.0.0.1 with a fresh key
 * and keys kept in memory: a `monitor` node serving the dashboard and
 * sensors that join through it and report a temperature and a humidity
 * every second. Runs until SIGINT or SIGTERM.
 */
export async function demo(opts: DemoOptions): Promise<void> {
  const stopped = stopSignal();
  const key = generateKey();
  const base = { port: 0, host: HOST, networkIp: HOST, aesKey: key, credentialDir: null };
  const nodes: DSNodeServer[] = [];
  const sensors: (() => void)[] = [];
  let dashboard: Dashboard | null = null;
  const stopAll = async () => {
    for (const stopSensor of sensors) stopSensor();
    await dashboard?.close();
    await Promise.all(nodes.map((n) => n.stop()));
  };

  try {
    const monitor = await DSNodeServer.start({ ...base, nodeId: 'monitor' });
    nodes.push(monitor);
    await monitor.updateData('role', 'monitor');
    dashboard = await openDashboard(monitor, opts.port);
    const via = [{ address: HOST, port: monitor.port }];
    // Sensors join one after another through the monitor, each then
    // reporting on its own timer, started at a random offset so that the
    // updates do not all arrive in the same instant.
    for (let i = 1; i <= opts.sensors; i++) {
      const sensor = await DSNodeServer.start({
        ...base,
        nodeId: `sensor-${i}`,
        bootstrapNodes: via,
      });
      nodes.push(sensor);
      sensors.push(startSensor(sensor, i));
    }
    process.stdout.write(
      [
        `DSN demo: monitor and ${opts.sensors} sensors on ${HOST}`,
        `Dashboard: ${dashboard.url}`,
        `Watch it:  dsn watch --bootstrap ${HOST}:${monitor.port} --key ${key}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  await stopped;
  process.stderr.write('dsn: stopping the demo network\n');
  await stopAll();
  process.exitCode = 0;
}

/** The dashboard on the chosen port; without a choice, 8080 or else any free one. */
async function openDashboard(server: DSNodeServer, port: number | undefined): Promise<Dashboard> {
  try {
    return await startDashboard(server, { port: port ?? DEFAULT_DASHBOARD_PORT, host: HOST });
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (port !== undefined || code !== 'EADDRINUSE') throw err;
    return startDashboard(server, { port: 0, host: HOST });
  }
}

/** Writes the sensor's fixed keys once, then a reading every second; returns what stops it. */
export function startSensor(sensor: DSNodeServer, n: number): () => void {
  let temperature = 18 + Math.random() * 6;
  let humidity = 35 + Math.random() * 20;
  const report = () => {
    // A random walk: small steps, pulled gently back into a plausible range.
    temperature = clamp(temperature + (Math.random() - 0.5) * 0.6, 12, 30);
    humidity = clamp(humidity + (Math.random() - 0.5) * 2, 20, 80);
    // Failures reach the node's 'alert' event; the demo has nobody to tell.
    sensor.updateData('temperature', temperature.toFixed(1)).catch(() => {});
    sensor.updateData('humidity', humidity.toFixed(0)).catch(() => {});
  };
  sensor.updateData('location', PLACES[(n - 1) % PLACES.length] as string).catch(() => {});
  sensor.updateData('unit', '°C').catch(() => {});
  report();
  let timer = setTimeout(() => {
    timer = setInterval(report, READING_MS);
    report();
  }, Math.random() * READING_MS);
  return () => clearTimeout(timer);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
