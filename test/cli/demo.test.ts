import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { NodeView } from '../../src/index.js';
import { SseStream } from '../browser/sse-client.js';
import { assertBuilt, Dsn, runDsn } from './helpers.js';

type State = { self: string; nodes: NodeView[] };
const SENSORS = ['sensor-1', 'sensor-2', 'sensor-3', 'sensor-4', 'sensor-5'];

describe('dsn demo', () => {
  const children: Dsn[] = [];
  const streams: SseStream[] = [];
  before(assertBuilt);
  after(async () => {
    for (const s of streams) s.close();
    await Promise.all(children.map((c) => c.kill()));
  });

  it('is up in well under 5 s, serves a live network, stops on SIGINT with exit 0', async () => {
    const t0 = Date.now();
    const demo = new Dsn(['demo', '--port', '0']);
    children.push(demo);
    const [, url] = (await demo.waitFor(
      /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m,
      'stdout',
      5000,
    )) as [string, string];
    assert.ok(Date.now() - t0 < 5000);
    assert.match(
      demo.stdout,
      /^Watch it: {2}dsn watch --bootstrap 127\.0\.0\.1:\d+ --key [0-9a-f]{32}$/m,
    );

    const state = (await (await fetch(`${url}api/state`)).json()) as State;
    assert.equal(state.self, 'monitor');
    assert.deepEqual(state.nodes.map((v) => v.nodeId).sort(), ['monitor', ...SENSORS]);

    // Each sensor reports a plausible temperature and humidity, and its
    // location and unit; new readings keep arriving every second.
    const events = await SseStream.open(`${url}api/events`);
    streams.push(events);
    const readings = new Map<string, Set<string>>();
    await events.until(() => {
      for (const e of events.events) {
        for (const v of (JSON.parse(e.data) as State).nodes) {
          const state = new Map(v.state);
          const t = state.get('temperature');
          const h = state.get('humidity');
          if (t === undefined || h === undefined) continue;
          assert.match(t, /^\d{1,2}\.\d$/);
          assert.ok(Number(t) >= 10 && Number(t) <= 35, `${v.nodeId} temperature ${t}`);
          assert.match(h, /^\d{1,3}$/);
          assert.equal(state.get('unit'), '°C');
          assert.ok(state.get('location'), `${v.nodeId} has a location`);
          if (!readings.has(v.nodeId)) readings.set(v.nodeId, new Set());
          readings.get(v.nodeId)?.add(`${t}/${h}`);
        }
      }
      return SENSORS.every((s) => (readings.get(s)?.size ?? 0) >= 2);
    }, 'two different readings from every sensor');

    demo.proc.kill('SIGINT');
    assert.deepEqual(await demo.exited(), { code: 0, signal: null });
    assert.match(demo.stderr, /stopping the demo network/);
    await assert.rejects(fetch(`${url}api/state`), 'everything is stopped');
  });

  it('without --port, takes another port when 8080 is busy', async () => {
    // Hold 8080 (unless something else already does: either way it is busy).
    const holder: Server = createServer();
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen(8080, '127.0.0.1', () => resolve());
    });
    try {
      const demo = new Dsn(['demo', '--sensors', '1']);
      children.push(demo);
      const [, port] = (await demo.waitFor(/^Dashboard: http:\/\/127\.0\.0\.1:(\d+)\/$/m)) as [
        string,
        string,
      ];
      assert.notEqual(Number(port), 8080);
      demo.proc.kill('SIGTERM');
      assert.deepEqual(await demo.exited(), { code: 0, signal: null });
    } finally {
      holder.close();
    }
  });

  it('with an explicit --port that is busy, fails with exit code 1', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = await runDsn(['demo', '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `dsn demo: dashboard: port ${port} is already in use (127.0.0.1:${port})\n`,
      );
    } finally {
      holder.close();
    }
  });
});
