// The dashboard's HTTP API over real sockets: /api/state, the server-sent
// events, methods and paths refused, and that no key material leaks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDashboard } from '../../src/dashboard/server.js';
import type { DSNodeServer, NodeView } from '../../src/index.js';
import { LOCAL, TestNet } from '../helpers/net.js';
import { type SseEvent, SseStream } from './sse-client.js';

type Departed = { reason: 'left' | 'failed'; at: number; until: number; view: NodeView };
type State = { self: string; now: number; nodes: NodeView[]; departed: Departed[] };
type Change = State & { events: { kind: string; node: string }[] };

const stateOf = (e: SseEvent) => JSON.parse(e.data) as Change;
const valueIn = (s: State, node: string, key: string) =>
  s.nodes.find((v) => v.nodeId === node)?.state.find(([k]) => k === key)?.[1];

/** A raw request, for methods and Host headers fetch will not send. */
function raw(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard HTTP API', () => {
  const net = new TestNet();
  const streams: SseStream[] = [];
  const bodies: string[] = [];
  let a: DSNodeServer;
  let b: DSNodeServer;
  let url: string;
  const open = async (path = 'api/events') => {
    const s = await SseStream.open(url + path);
    streams.push(s);
    return s;
  };

  before(async () => {
    // Through the library's own hook: DSNodeServer.start({ dashboard }).
    a = await net.start('a', { dashboard: { port: 0, host: LOCAL } });
    b = await net.start('b', { via: a });
    await net.start('c', { via: a });
    await b.updateData('temperature', '20.5');
    url = a.dashboard?.url as string;
  });
  after(async () => {
    for (const s of streams) s.close();
    await net.stopAll();
  });

  it('GET /api/state lists every node with its state, own node first', async () => {
    const res = await fetch(`${url}api/state`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const text = await res.text();
    bodies.push(text);
    const state = JSON.parse(text) as State;
    assert.equal(state.self, 'a');
    assert.deepEqual(state.nodes.map((v) => v.nodeId).sort(), ['a', 'b', 'c']);
    assert.equal(state.nodes[0]?.nodeId, 'a');
    assert.equal(state.nodes[0]?.self, true);
    assert.equal(valueIn(state, 'b', 'temperature'), '20.5');
    const viewB = state.nodes.find((v) => v.nodeId === 'b') as NodeView;
    assert.deepEqual(Object.keys(state).sort(), ['departed', 'nodes', 'now', 'self']);
    assert.deepEqual(state.departed, []);
    assert.deepEqual(Object.keys(viewB).sort(), [
      'address',
      'alive',
      'lastHeardMs',
      'lastUpdate',
      'liveness',
      'nodeId',
      'port',
      'self',
      'state',
    ]);
    assert.equal(viewB.address, LOCAL);
    assert.equal(viewB.port, b.port);
    assert.equal(viewB.alive, true);
    assert.equal(viewB.liveness, 'alive');
    assert.ok(Math.abs(state.now - Date.now()) < 5000);
  });

  it('GET / is the self-contained page, with a strict content security policy', async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    bodies.push(html);
    assert.match(html, /new EventSource\('\/api\/events'\)/);
    assert.doesNotMatch(
      html,
      /https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      'nothing is fetched from elsewhere',
    );
    assert.doesNotMatch(html, /setInterval\([^)]*fetch|location\.reload/, 'no polling, no reloads');
  });

  it('GET /api/events sends a snapshot at once, then a change for every update', async () => {
    const s = await open();
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
    const snap = await s.next((e) => e.event === 'snapshot');
    assert.deepEqual(
      stateOf(snap)
        .nodes.map((v) => v.nodeId)
        .sort(),
      ['a', 'b', 'c'],
    );
    assert.equal(stateOf(snap).self, 'a');

    const from = s.events.length;
    await b.updateData('temperature', '22.25');
    const change = await s.next(
      (e) => e.event === 'change' && valueIn(stateOf(e), 'b', 'temperature') === '22.25',
      from,
    );
    assert.ok(stateOf(change).events.some((x) => x.kind === 'update' && x.node === 'b'));

    const mark = s.events.length;
    await a.updateData('own', 'yes');
    const own = await s.next(
      (e) => e.event === 'change' && valueIn(stateOf(e), 'a', 'own') === 'yes',
      mark,
    );
    assert.ok(stateOf(own).events.some((x) => x.kind === 'selfUpdate' && x.node === 'a'));
    bodies.push(...s.events.map((e) => e.data));
  });

  it('pushes joins, suspicions and departures (left or failed) as they happen, from the events', async () => {
    const server = await startDashboard(a, { port: 0, host: LOCAL });
    try {
      const s = await SseStream.open(`${server.url}api/events`);
      streams.push(s);
      await s.next((e) => e.event === 'snapshot');
      const kindIs = (kind: string, node: string) => (e: SseEvent) =>
        e.event === 'change' && stateOf(e).events.some((x) => x.kind === kind && x.node === node);

      const d = await net.start('d', { via: a });
      const joined = await s.next(kindIs('peer', 'd'));
      assert.ok(stateOf(joined).nodes.some((v) => v.nodeId === 'd'));
      await d.updateData('role', 'leaver');
      await s.next((e) => valueIn(stateOf(e), 'd', 'role') === 'leaver');

      // A clean stop says goodbye: listed at once as left, with its last state.
      await d.stop();
      const left = stateOf(await s.next(kindIs('leave', 'd')));
      assert.ok(!left.nodes.some((v) => v.nodeId === 'd'));
      const dGone = left.departed.find((x) => x.view.nodeId === 'd');
      assert.equal(dGone?.reason, 'left');
      assert.deepEqual(dGone?.view.state, [['role', 'leaver']]);
      assert.ok((dGone?.until ?? 0) - (dGone?.at ?? 0) >= 60_000, 'listed for minutes');

      // No goodbye: suspected after a failed probe, then declared failed.
      const e = await net.start('e', { via: a });
      await s.next(kindIs('peer', 'e'));
      const from = s.events.length;
      await e.node.transport.close();
      const suspected = stateOf(await s.next(kindIs('suspect', 'e'), from));
      assert.equal(suspected.nodes.find((v) => v.nodeId === 'e')?.liveness, 'suspect');
      const failed = stateOf(await s.next(kindIs('disconnect', 'e'), from));
      assert.ok(!failed.nodes.some((v) => v.nodeId === 'e'));
      assert.deepEqual(
        failed.departed.map((x) => [x.view.nodeId, x.reason]),
        [
          ['e', 'failed'],
          ['d', 'left'],
        ],
        'most recent first',
      );

      // GET /api/state says the same to whoever asks later.
      const later = (await (await fetch(`${server.url}api/state`)).json()) as State;
      assert.deepEqual(
        later.departed.map((x) => [x.view.nodeId, x.reason]),
        [
          ['e', 'failed'],
          ['d', 'left'],
        ],
      );
    } finally {
      await server.close();
    }
  });

  it('drops a departed node from the list when its time is up, and says so', async () => {
    const server = await startDashboard(a, { port: 0, host: LOCAL }, { departedMs: 300 });
    try {
      const s = await SseStream.open(`${server.url}api/events`);
      streams.push(s);
      await s.next((e) => e.event === 'snapshot');
      const f = await net.start('f', { via: a });
      await s.next((e) => e.event === 'change' && stateOf(e).nodes.some((v) => v.nodeId === 'f'));
      await f.stop();
      const left = await s.next(
        (e) => e.event === 'change' && stateOf(e).events.some((x) => x.kind === 'leave'),
      );
      assert.ok(stateOf(left).departed.some((x) => x.view.nodeId === 'f'));
      const expired = await s.next(
        (e) =>
          e.event === 'change' &&
          stateOf(e).events.some((x) => x.kind === 'expire' && x.node === 'f'),
      );
      assert.ok(!stateOf(expired).departed.some((x) => x.view.nodeId === 'f'));
      assert.ok(!stateOf(expired).nodes.some((v) => v.nodeId === 'f'));
    } finally {
      await server.close();
    }
  });

  it('coalesces a burst: at most one push per 100 ms, and the last value always arrives', async () => {
    const s = await open();
    await s.next((e) => e.event === 'snapshot');
    const from = s.events.length;
    const t0 = Date.now();
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 500; i++) writes.push(b.updateData('counter', String(i)));
    await Promise.all(writes);
    await s.next((e) => valueIn(stateOf(e), 'b', 'counter') === '500', from);
    const elapsed = Date.now() - t0;
    const pushes = s.events.slice(from).length;
    assert.ok(pushes <= Math.ceil(elapsed / 100) + 2, `${pushes} pushes in ${elapsed} ms`);
    assert.ok(pushes < 500 / 5, `${pushes} pushes for 500 updates`);
  });

  it('sends a heartbeat comment on idle streams', async () => {
    const server = await startDashboard(b, { port: 0, host: LOCAL }, { heartbeatMs: 50 });
    try {
      const s = await SseStream.open(`${server.url}api/events`);
      streams.push(s);
      await s.until(() => s.comments.includes('ping'), 'a heartbeat');
    } finally {
      await server.close();
    }
  });

  it('subscribes once, for all clients, and unsubscribes on close', async () => {
    const c = net.servers.find((x) => x.nodeId() === 'c') as DSNodeServer;
    const events = [
      'update',
      'peer',
      'suspect',
      'alive',
      'leave',
      'disconnect',
      'selfUpdate',
    ] as const;
    const base = events.map((e) => c.listenerCount(e));
    const server = await startDashboard(c, { port: 0, host: LOCAL });
    try {
      // From the start, so that departures are known to pages opened later.
      const one = base.map((n) => n + 1);
      assert.deepEqual(
        events.map((e) => c.listenerCount(e)),
        one,
      );
      const x = await SseStream.open(`${server.url}api/events`);
      const y = await SseStream.open(`${server.url}api/events`);
      streams.push(x, y);
      await Promise.all([x, y].map((t) => t.next((e) => e.event === 'snapshot')));
      assert.deepEqual(
        events.map((e) => c.listenerCount(e)),
        one,
        'one shared subscription',
      );
    } finally {
      await server.close();
    }
    assert.deepEqual(
      events.map((e) => c.listenerCount(e)),
      base,
    );
  });

  it('is read-only: 405 for other methods, 404 for other paths', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of ['', 'api/state', 'api/events']) {
        const r = await raw(url + path, method);
        assert.equal(r.status, 405, `${method} /${path}`);
        assert.equal(r.headers.allow, 'GET, HEAD');
      }
    }
    for (const path of [
      'nope',
      'api',
      'api/state/x',
      'index.html',
      '..%2f..%2fetc%2fpasswd',
      'api/events/',
    ]) {
      const r = await raw(url + path, 'GET');
      assert.equal(r.status, 404, `/${path}`);
    }
    const head = await raw(url, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const headEvents = await raw(`${url}api/events`, 'HEAD');
    assert.equal(headEvents.status, 200);
    assert.equal(headEvents.body, '');
    assert.equal(
      (await raw(`${url}api/state?x=1`, 'GET')).status,
      200,
      'a query string is ignored',
    );
  });

  it('answers only to loopback names when bound to loopback (DNS rebinding)', async () => {
    assert.equal((await raw(`${url}api/state`, 'GET', { Host: 'attacker.example' })).status, 403);
    assert.equal(
      (await raw(`${url}api/state`, 'GET', { Host: `attacker.example:${a.dashboard?.port}` }))
        .status,
      403,
    );
    assert.equal(
      (await raw(`${url}api/state`, 'GET', { Host: `localhost:${a.dashboard?.port}` })).status,
      200,
    );
  });

  it('never sends the network key or a private key', () => {
    assert.ok(bodies.length >= 3);
    const secrets = [net.key, net.key.toUpperCase()];
    for (const id of ['a', 'b', 'c']) {
      const priv = readFileSync(join(net.credentialDir, id, `${id}.key`));
      secrets.push(priv.toString('hex'), priv.toString('base64'), priv.toString('base64url'));
    }
    for (const body of bodies) {
      for (const secret of secrets)
        assert.ok(!body.includes(secret), 'a secret appears in a response');
    }
  });

  it('close() is idempotent and ends open streams', async () => {
    const server = await startDashboard(b, { port: 0, host: LOCAL });
    const s = await SseStream.open(`${server.url}api/events`);
    streams.push(s);
    await s.next((e) => e.event === 'snapshot');
    const base = b.listenerCount('update');
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await s
      .until(() => false, 'the end of the stream')
      .catch((err: Error) => {
        assert.match(err.message, /stream ended/);
      });
    assert.equal(b.listenerCount('update'), base - 1);
    await assert.rejects(fetch(`${server.url}api/state`));
  });
});
