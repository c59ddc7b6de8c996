import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { LOCAL, next, TestNet, tempDir, until } from '../helpers/net.js';
import { assertBuilt, Dsn, freePort, parsePrometheus, runDsn } from './helpers.js';

/** A GET through node:http, which sends the Host header it is given. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOCAL, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * `dsn start --api` and the one-shot commands that use its control API
 * (members, get, set, delete, monitor), through the real executable, with
 * a library node as the peer that sees what they do.
 */
describe('dsn start --api and the control API commands', () => {
  const net = new TestNet();
  const dir = tempDir('dsn-cli-control-');
  const empty = tempDir('dsn-cli-control-empty-');
  const children: Dsn[] = [];
  let lib: DSNodeServer;
  let node: Dsn;
  let apiPort: number;
  let tokenFile: string;
  let base: string;
  const spawnDsn = (args: string[], env: Record<string, string> = {}) => {
    const child = new Dsn(args, env);
    children.push(child);
    return child;
  };
  const api = () => ['--api', String(apiPort)];
  /** Writes read the token file as an operator would: the node's folder and ID. */
  const writer = () => [...api(), '--credentials', dir.path, '--id', 'cli'];
  const token = () => readFileSync(tokenFile, 'utf8').trim();
  const stateText = async () => {
    const r = await runDsn(['get', 'cli', '--json', ...api()]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const metrics = async () => {
    const res = await fetch(`${base}metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };

  before(async () => {
    assertBuilt();
    lib = await net.start('lib');
    const joined = next<[string]>(lib, 'peer', (id) => id === 'cli');
    node = spawnDsn([
      'start',
      '--id',
      'cli',
      '--host',
      LOCAL,
      '--port',
      '0',
      '--key',
      net.key,
      '--bootstrap',
      `${LOCAL}:${lib.port}`,
      '--credentials',
      dir.path,
      '--api',
      '0',
      '--set',
      'role=worker',
      '--json',
    ]);
    const [line] = await node.waitFor(/^\{.*"event":"up".*\}$/m);
    const up = JSON.parse(line) as Record<string, unknown>;
    apiPort = up.apiPort as number;
    tokenFile = up.tokenFile as string;
    base = up.api as string;
    await joined;
    await until([lib], () => lib.readData('cli', 'role') === 'worker', 'lib has cli’s --set');
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await net.stopAll();
    dir.cleanup();
    empty.cleanup();
  });

  it('says where the API is and writes a 0600 token into the node’s credential folder', () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(base, `http://127.0.0.1:${apiPort}/`);
    assert.equal(tokenFile, join(dir.path, 'cli', 'api-token'));
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.match(token(), /^[A-Za-z0-9_-]{43}$/);
  });

  it('members: every node with address, liveness, last update and self; a table or JSON', async () => {
    const r = await runDsn(['members', '--json', ...api()]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.ok(Array.isArray(list));
    assert.deepEqual(
      list.map((m) => m.nodeId),
      ['cli', 'lib'],
      'itself first, then its peers',
    );
    for (const m of list) {
      assert.deepEqual(Object.keys(m), [
        'nodeId',
        'address',
        'port',
        'liveness',
        'lastUpdate',
        'self',
      ]);
    }
    const [self, peer] = list as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(self.self, true);
    assert.equal(peer.self, false);
    assert.deepEqual([peer.address, peer.port, peer.liveness], [LOCAL, lib.port, 'alive']);
    assert.ok((self.lastUpdate as number) > 0, 'cli has a state (its --set)');

    const table = await runDsn(['members', ...api()]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^NODE\s+ADDRESS\s+LIVENESS\s+UPDATED$/);
    assert.match(lines[1] as string, /^cli \(self\)\s+\S+:\d+\s+alive\s+\S+$/);
    assert.match(lines[2] as string, new RegExp(`^lib\\s+127\\.0\\.0\\.1:${lib.port}\\s+alive\\s`));
  });

  it('set: several keys at once reach the peers; get prints them in key order', async () => {
    const r = await runDsn([
      'set',
      'b=2',
      '2=two',
      '__proto__=p',
      'note=a b=c',
      '--json',
      '--wait',
      ...writer(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    // The whole new state, in key order: '2' stays after 'b', '__proto__' is a key like any.
    assert.equal(
      r.stdout,
      '{"nodeId":"cli","changed":["b","2","__proto__","note"],' +
        '"state":{"role":"worker","b":"2","2":"two","__proto__":"p","note":"a b=c"}}\n',
    );
    // --wait: every peer has it when the command returns.
    assert.deepEqual(
      [...(lib.readState('cli') ?? [])],
      [
        ['role', 'worker'],
        ['b', '2'],
        ['2', 'two'],
        ['__proto__', 'p'],
        ['note', 'a b=c'],
      ],
    );
    assert.equal(
      await stateText(),
      '{"nodeId":"cli","state":{"role":"worker","b":"2","2":"two","__proto__":"p","note":"a b=c"}}\n',
    );
    const table = await runDsn(['get', 'cli', ...api()]);
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual(table.stdout.trimEnd().split('\n'), [
      'KEY        VALUE',
      'role       worker',
      'b          2',
      '2          two',
      '__proto__  p',
      'note       a b=c',
    ]);
    const one = await runDsn(['get', 'cli', 'note', ...api()]);
    assert.deepEqual([one.code, one.stdout], [0, 'a b=c\n']);
    const oneJson = await runDsn(['get', 'cli', 'note', '--json', ...api()]);
    assert.equal(oneJson.stdout, '{"nodeId":"cli","key":"note","value":"a b=c"}\n');
    const human = await runDsn(['set', 'mode=on', ...writer()]);
    assert.deepEqual([human.code, human.stdout], [0, 'set mode=on on node cli\n']);
  });

  it('get: another node’s state as this node holds it; an unknown node or key exits 1', async () => {
    // Wait for cli to have lib's update through its own event stream, not by sleeping.
    const mon = spawnDsn(['monitor', '--json', ...api()]);
    await mon.waitFor(/^watching node cli on 127\.0\.0\.1:\d+; Ctrl-C to stop$/m, 'stderr');
    await lib.updateData('color', 'green');
    await mon.waitFor(/"event":"update".*"nodeId":"lib".*"color":"green"/);
    const r = await runDsn(['get', 'lib', 'color', ...api()]);
    assert.deepEqual([r.code, r.stdout], [0, 'green\n']);
    const whole = await runDsn(['get', 'lib', '--json', ...api()]);
    assert.equal(whole.stdout, '{"nodeId":"lib","state":{"color":"green"}}\n');

    const noNode = await runDsn(['get', 'nobody', ...api()]);
    assert.equal(noNode.code, 1);
    assert.equal(noNode.stdout, '');
    assert.equal(
      noNode.stderr,
      `dsn get: 127.0.0.1:${apiPort} refused: no node "nobody" is known here (404 unknown_node)\n`,
    );
    const noKey = await runDsn(['get', 'lib', 'size', ...api()]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /^dsn get: .*node "lib" has no key "size" \(404 unknown_key\)\n$/);
    mon.proc.kill('SIGINT');
    assert.equal((await mon.exited()).code, 0, 'monitor ends with 0 on Ctrl-C');
  });

  it('a write without the token, or with a wrong one, is refused (exit 1) and changes nothing', async () => {
    const earlier = await stateText();
    const none = await runDsn(['set', 'evil=1', ...api(), '--credentials', empty.path]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(
      none.stderr,
      /^dsn set: 127\.0\.0\.1:\d+ refused: writes need the header Authorization: Bearer <token> \(401 unauthorized\); no token: .*api-token does not exist; pass --token, or --credentials DIR --id ID of the node\n$/,
    );
    const wrong = await runDsn(['set', 'evil=1', ...api()], { DSN_TOKEN: 'not-the-token' });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^dsn set: .*the bearer token is wrong.*\(401 unauthorized\); sent the token of DSN_TOKEN\n$/,
    );
    const del = await runDsn(['delete', 'role', ...api(), '--token', 'x'.repeat(43)]);
    assert.equal(del.code, 1);
    assert.match(del.stderr, /\(401 unauthorized\)/);
    assert.equal(await stateText(), earlier, 'state unchanged');

    // Straight to the API: no header at all, and a body the node never reads.
    const res = await fetch(`${base}v1/state`, { method: 'PUT', body: '{"evil":"1"}' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.deepEqual(await res.json(), {
      error: 'unauthorized',
      message: 'writes need the header Authorization: Bearer <token>',
    });
    assert.equal(await stateText(), earlier, 'state unchanged');

    // The token from DSN_TOKEN works.
    const right = await runDsn(['set', 'ok=1', ...api()], { DSN_TOKEN: token() });
    assert.equal(right.code, 0, right.stderr);
  });

  it('bad input gets a clear JSON error and changes nothing', async () => {
    const earlier = await stateText();
    const put = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}v1/state`, {
        method: 'PUT',
        body,
        headers: { Authorization: `Bearer ${token()}`, ...headers },
      });
    const cases: [string, number, string, RegExp][] = [
      ['{"a": "1", "b": ', 400, 'bad_json', /^the body is not valid JSON: /],
      ['{"a": "1", "n": 5}', 400, 'bad_value', /^the value of "n" must be a string, got a number$/],
      ['{"a": "1", "a": "2"}', 400, 'bad_json', /key "a" appears twice/],
      ['["a"]', 400, 'bad_request', /must be a JSON object/],
      ['{}', 400, 'bad_request', /sets no key/],
      [
        `{"big": "${'x'.repeat(1024 * 1024)}"}`,
        413,
        'body_too_large',
        /over the limit of 1048576 bytes/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await put(body);
      assert.equal(res.status, status, body.slice(0, 40));
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const answer = (await res.json()) as { error: string; message: string };
      assert.equal(answer.error, code, body.slice(0, 40));
      assert.match(answer.message, message);
    }
    const unknown = await fetch(`${base}v1/nope`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: string }).error, 'not_found');
    const method = await fetch(`${base}v1/members`, { method: 'DELETE' });
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET, HEAD');
    const badPath = await fetch(`${base}v1/state/%E0%A4%A`);
    assert.equal(((await badPath.json()) as { error: string }).error, 'bad_path');
    // (fetch may not set Host: node:http can)
    const rebound = await rawGet(apiPort, '/v1/members', { Host: 'evil.example:80' });
    assert.equal(rebound.status, 403, 'a Host header that names another machine is refused');
    assert.equal((JSON.parse(rebound.body) as { error: string }).error, 'bad_host');
    const named = await rawGet(apiPort, '/v1/members', { Host: `localhost:${apiPort}` });
    assert.equal(named.status, 200);
    assert.equal(await stateText(), earlier, 'state unchanged');

    // Bad usage of the commands themselves: one line, exit 2, nothing sent.
    const usage: [string[], RegExp][] = [
      [['set', 'novalue', ...writer()], /^dsn set: .*Expected KEY=VALUE/],
      [['set', '=x', ...writer()], /^dsn set: .*Expected KEY=VALUE/],
      [['members'], /^dsn members: --api PORT \(or DSN_API\) is required/],
      [
        ['members', '--api', 'http'],
        /^dsn members: option '--api <port>' argument 'http' is invalid/,
      ],
      [['members', '--api', '0'], /^dsn members: --api: port 0 names no node/],
      [
        ['members', ...api(), '--api-host', '10.0.0.1'],
        /^dsn members: --api-host: .*this machine only/,
      ],
      [['get', ...api()], /^dsn get: missing required argument 'node'/],
      [['delete', ...writer()], /^dsn delete: missing required argument 'key'/],
    ];
    for (const [args, message] of usage) {
      const r = await runDsn(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    }
    assert.equal(await stateText(), earlier, 'state unchanged');
  });

  it('delete: the key is gone everywhere; a key it does not have exits 1', async () => {
    await runDsn(['set', 'temp=1', '--wait', ...writer()]);
    assert.equal(lib.readData('cli', 'temp'), '1');
    const gone = until([lib], () => lib.readData('cli', 'temp') === null, 'lib saw temp go');
    const r = await runDsn(['delete', 'temp', '--json', ...writer()]);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(answer), ['nodeId', 'deleted', 'state']);
    assert.equal(answer.deleted, 'temp');
    assert.ok(!('temp' in (answer.state as object)));
    await gone;
    const again = await runDsn(['delete', 'temp', ...writer()]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^dsn delete: .*node "cli" has no key "temp" \(404 unknown_key\)\n$/,
    );
    const human = await runDsn(['delete', 'mode', ...writer()]);
    assert.deepEqual([human.code, human.stdout], [0, 'deleted mode from node cli\n']);
  });

  it('monitor --json: one JSON object per line for peer, update, leave and own updates', async () => {
    const mon = spawnDsn(['monitor', '--json', ...api()]);
    const human = spawnDsn(['monitor', ...api()]);
    await mon.waitFor(/^watching node cli/m, 'stderr');
    await human.waitFor(/^watching node cli/m, 'stderr');
    const late = await net.start('late', { via: lib });
    await mon.waitFor(/"event":"peer","time":\d+,"nodeId":"late"/);
    await late.updateData('k', 'v');
    await late.updateData('2', 'x');
    await mon.waitFor(/"nodeId":"late","self":false,"changed":\{"2":"x"\}/);
    await late.stop();
    await mon.waitFor(/"event":"leave","time":\d+,"nodeId":"late"\}/);
    await runDsn(['set', 'z=1', 'a=2', ...writer()]);
    await mon.waitFor(/"nodeId":"cli","self":true/);

    const events = mon.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) {
      assert.deepEqual(Object.keys(e).slice(0, 2), ['event', 'time']);
      assert.ok(Math.abs((e.time as number) - Date.now()) < 60_000);
    }
    const peer = events.find((e) => e.event === 'peer' && e.nodeId === 'late');
    assert.deepEqual(Object.keys(peer ?? {}), ['event', 'time', 'nodeId', 'address', 'port']);
    assert.equal(peer?.address, LOCAL);
    const update = events.find(
      (e) => e.event === 'update' && e.nodeId === 'late' && '2' in (e.changed as object),
    );
    assert.deepEqual(Object.keys(update ?? {}), [
      'event',
      'time',
      'nodeId',
      'self',
      'changed',
      'removed',
    ]);
    assert.deepEqual([update?.changed, update?.removed], [{ 2: 'x' }, []]);
    // Two keys set by one command are one event, their order kept on the line.
    const own = mon.stdout.split('\n').filter((l) => l.includes('"nodeId":"cli","self":true'));
    assert.equal(own.length, 1, mon.stdout);
    assert.match(own[0] as string, /"changed":\{"z":"1","a":"2"\},"removed":\[\]\}$/);

    await human.waitFor(/ update {5}cli \(self\) {2}z=1 a=2$/m);
    assert.match(human.stdout, /^\S+ peer {7}late {2}at 127\.0\.0\.1:\d+$/m);
    assert.match(human.stdout, /^\S+ leave {6}late$/m);
    human.proc.kill('SIGINT');
    mon.proc.kill('SIGINT');
    assert.equal((await human.exited()).code, 0);
    assert.equal((await mon.exited()).code, 0);
  });

  it('GET /metrics is Prometheus text; counters grow with an update and a DATA', async () => {
    const first = await metrics();
    for (const name of first.types.keys()) assert.match(name, /^dsn_/, 'every metric is dsn_…');
    for (const name of first.types.keys()) assert.ok(first.help.has(name), `${name} has HELP`);
    assert.equal(first.types.get('dsn_messages_total'), 'counter');
    assert.equal(first.types.get('dsn_peers'), 'gauge');
    assert.equal(first.types.get('dsn_update_spread_seconds'), 'histogram');
    assert.equal(first.types.get('dsn_data_request_seconds'), 'histogram');
    assert.equal(first.samples.get('dsn_peers{liveness="alive"}'), 1);
    assert.equal(first.samples.get('dsn_peers{liveness="suspect"}'), 0);
    assert.ok((first.samples.get('dsn_joins_total') ?? 0) >= 2, 'lib and late joined');
    assert.equal(first.samples.get('dsn_leaves_total'), 1, 'late left');
    assert.equal(first.samples.get('dsn_node_info{node_id="cli"}'), 1);

    const sentUpdates = 'dsn_messages_total{type="update",direction="out"}';
    const sentBytes = 'dsn_message_bytes_total{type="update",direction="out"}';
    const spread = 'dsn_update_spread_seconds_count';
    const dataIn = 'dsn_messages_total{type="data",direction="in"}';
    const dataBytes = 'dsn_message_bytes_total{type="data",direction="in"}';
    // --wait: the update has reached lib, and so been counted, when the command returns.
    const r = await runDsn(['set', 'metric=1', '--wait', ...writer()]);
    assert.equal(r.code, 0, r.stderr);
    await lib.sendToNode('cli', 'hello over DATA');
    const second = await metrics();
    const grew = (key: string) => (second.samples.get(key) ?? 0) - (first.samples.get(key) ?? 0);
    assert.ok(grew(sentUpdates) >= 1, `${sentUpdates} grew`);
    assert.ok(grew(sentBytes) > 0, `${sentBytes} grew`);
    assert.ok(grew(spread) >= 1, `${spread} grew`);
    assert.equal(grew(dataIn), 1, `${dataIn} grew by one`);
    assert.ok(grew(dataBytes) >= 'hello over DATA'.length, `${dataBytes} grew`);
    // Histogram buckets are cumulative and end in +Inf = count.
    assert.equal(
      second.samples.get('dsn_update_spread_seconds_bucket{le="+Inf"}'),
      second.samples.get(spread),
    );
    // The token is not a metric, and nothing here names the network key.
    const text = await (await fetch(`${base}metrics`)).text();
    assert.ok(!text.includes(token()) && !text.includes(net.key));
  });

  it('stops with the node: monitors hear it (exit 1), the token file is removed', async () => {
    const mon = spawnDsn(['monitor', ...api()]);
    await mon.waitFor(/^watching node cli/m, 'stderr');
    node.proc.kill('SIGINT');
    assert.equal((await node.exited()).code, 0, node.dump());
    const { code } = await mon.exited();
    assert.equal(code, 1);
    assert.match(mon.stderr, /dsn monitor: node cli stopped\n$/);
    assert.ok(!existsSync(tokenFile), 'the token of a stopped node is gone');
    const r = await runDsn(['members', ...api()]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `dsn members: no node answers on 127.0.0.1:${apiPort}\n`);
  });
});

describe('dsn start --api: refusals', () => {
  const dir = tempDir('dsn-cli-control-ro-');
  after(() => dir.cleanup());

  before(() => assertBuilt());

  it('refuses to serve the API anywhere but loopback (exit 2, one line)', async () => {
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) {
      const r = await runDsn([
        'start',
        '--id',
        'x',
        '--port',
        '0',
        '--api',
        '0',
        '--api-host',
        host,
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        `dsn start: --api-host: the control API listens on loopback only (127.0.0.1, ::1 or localhost), not ${host}\n`,
      );
      assert.equal(r.stdout, '');
    }
    const env = await runDsn(['start', '--id', 'x', '--port', '0'], {
      DSN_API: '0',
      DSN_API_HOST: '0.0.0.0',
    });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /^dsn start: DSN_API_HOST: the control API listens on loopback only/);
    const alone = await runDsn(['start', '--id', 'x', '--port', '0', '--api-host', LOCAL]);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, 'dsn start: --api-host needs --api PORT (or DSN_API)\n');
  });

  it('a taken API port stops the start with one line (exit 1)', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOCAL, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runDsn([
        'start',
        '--id',
        'x',
        '--host',
        LOCAL,
        '--port',
        '0',
        '--credentials',
        dir.path,
        '--api',
        String(port),
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `dsn start: control API: port ${port} is already in use \\(127\\.0\\.0\\.1:${port}\\)\\n$`,
        ),
      );
      assert.ok(!existsSync(join(dir.path, 'x', 'api-token')), 'no token left behind');
    } finally {
      taken.close();
    }
  });

  it('without a credential folder the API is read-only: reads work, writes get 403', async () => {
    const config = join(dir.path, 'ro.json');
    writeFileSync(config, JSON.stringify({ node_id: 'ro', port: 0, credential_dir: null }));
    const node = new Dsn(['start', '--config', config, '--host', LOCAL], {
      DSN_API: '0',
      DSN_JSON: '1',
    });
    try {
      const [line] = await node.waitFor(/^\{.*"event":"up".*\}$/m);
      const up = JSON.parse(line) as { apiPort: number; tokenFile: string | null; msg: string };
      assert.equal(up.tokenFile, null);
      assert.match(up.msg, /control API at http:\/\/127\.0\.0\.1:\d+\/ \(read-only\)$/);
      await node.waitFor(
        /"msg":"the control API is read-only: the node has no credential folder/,
        'stderr',
      );
      const port = String(up.apiPort);
      const get = await runDsn(['get', 'ro', '--json', '--api', port]);
      assert.deepEqual([get.code, get.stdout], [0, '{"nodeId":"ro","state":{}}\n']);
      const set = await runDsn(['set', 'a=1', '--api', port, '--token', 'anything']);
      assert.equal(set.code, 1);
      assert.match(set.stderr, /refused: this control API is read-only: .* \(403 read_only\)\n$/);
      const later = await runDsn(['get', 'ro', '--json', '--api', port]);
      assert.equal(later.stdout, '{"nodeId":"ro","state":{}}\n');
    } finally {
      await node.kill();
    }
  });

  it('a node that is not running: "no node answers", exit 1, for every command', async () => {
    const port = String(await freePort());
    for (const args of [
      ['members'],
      ['get', 'a'],
      ['set', 'k=v', '--token', 't'],
      ['delete', 'k', '--token', 't'],
      ['monitor'],
    ]) {
      const r = await runDsn([...args, '--api', port]);
      assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr, `dsn ${args[0]}: no node answers on 127.0.0.1:${port}\n`);
    }
  });

  it('--help lists --api with DSN_API', async () => {
    const start = await runDsn(['start', '--help']);
    assert.match(start.stdout, /--api <port>[\s\S]*?\(env:\s+DSN_API\)/);
    assert.match(start.stdout, /--api-host <host>[\s\S]*\(env: DSN_API_HOST\)/);
    for (const command of ['members', 'get', 'set', 'delete', 'monitor']) {
      const r = await runDsn([command, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /--api <port>[\s\S]*?\(env:\s+DSN_API\)/, command);
    }
    const set = await runDsn(['set', '--help']);
    assert.match(set.stdout, /--token <token>[\s\S]*\(env: DSN_TOKEN\)/);
  });
});
