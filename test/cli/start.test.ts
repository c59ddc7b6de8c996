import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { LOCAL, next, TestNet, tempDir, until } from '../helpers/net.js';
import { assertBuilt, Dsn } from './helpers.js';

/**
 * A line as pino writes it, which log collectors take as it is: `level`
 * (pino's number), `time` (ms since the epoch) and `msg` first, then the
 * event's fields; no pid or hostname.
 */
function assertPinoLine(entry: Record<string, unknown>): void {
  const [level, time, msg, event] = Object.keys(entry);
  assert.deepEqual([level, time, msg, event], ['level', 'time', 'msg', 'event'], 'key order');
  assert.ok(entry.level === 30 || entry.level === 40, `level ${entry.level}: info or warn`);
  assert.equal(typeof entry.time, 'number');
  assert.ok(Math.abs((entry.time as number) - Date.now()) < 60_000, 'time is ms since the epoch');
  assert.equal(typeof entry.msg, 'string');
  assert.notEqual(entry.msg, '');
  assert.ok(!('pid' in entry) && !('hostname' in entry));
}

describe('dsn start', () => {
  const net = new TestNet();
  const dir = tempDir('dsn-cli-start-');
  const children: Dsn[] = [];
  let lib: DSNodeServer;
  const spawnDsn = (args: string[]) => {
    const child = new Dsn(args);
    children.push(child);
    return child;
  };
  const common = () => [
    '--host',
    LOCAL,
    '--port',
    '0',
    '--key',
    net.key,
    '--bootstrap',
    `${LOCAL}:${lib.port}`,
  ];

  before(async () => {
    assertBuilt();
    lib = await net.start('lib');
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await net.stopAll();
    dir.cleanup();
  });

  it('joins through --bootstrap; its --set values reach a library node', async () => {
    const joined = next<[string]>(lib, 'peer', (id) => id === 'cli');
    const cli = spawnDsn([
      'start',
      '--id',
      'cli',
      ...common(),
      '--credentials',
      dir.path,
      '--set',
      'status=online',
      '--set',
      'greeting=hello world=1',
      '--json',
    ]);
    await joined;
    await until(
      [lib],
      () =>
        lib.readData('cli', 'status') === 'online' &&
        lib.readData('cli', 'greeting') === 'hello world=1',
      'the --set values reached lib',
    );
    const [line] = await cli.waitFor(/^\{.*"event":"up".*\}$/m);
    const up = JSON.parse(line);
    assertPinoLine(up);
    assert.match(up.msg, /^node cli is up on 127\.0\.0\.1:\d+$/);
    assert.equal(up.node, 'cli');
    assert.equal(up.host, LOCAL);
    assert.ok(up.port > 0);
    assert.equal(up.dashboard, null);
    // It listens where it says: lib knows it at that port.
    assert.equal(lib.snapshot().find((v) => v.nodeId === 'cli')?.port, up.port);
  });

  it('logs joins, updates (with what changed) and leaves as JSON lines on stderr', async () => {
    const cli = children[0] as Dsn;
    await cli.waitFor(/"event":"join","node":"lib"/, 'stderr');
    await lib.updateData('color', 'blue');
    await cli.waitFor(/"event":"update","node":"lib","changed":\{"color":"blue"\}/, 'stderr');
    const late = await net.start('late', { via: lib });
    await cli.waitFor(/"event":"join","node":"late"/, 'stderr');
    await late.updateData('k', 'v');
    await cli.waitFor(/"event":"update","node":"late"/, 'stderr');
    await late.deleteData('k');
    await cli.waitFor(/"event":"update","node":"late","changed":\{\},"removed":\["k"\]/, 'stderr');
    await late.stop();
    // The CLI runs the default timings: a silent peer is declared gone after about 8 s.
    await cli.waitFor(/"event":"leave","node":"late"/, 'stderr', 20_000);
    const log = cli.jsonLog();
    for (const entry of log) assertPinoLine(entry);
    const events = log.map((e) => `${e.event} ${e.node}`);
    for (const e of ['join lib', 'update lib', 'join late', 'update late', 'leave late']) {
      assert.ok(events.includes(e), `${e} in ${events.join(', ')}`);
    }
    assert.deepEqual(
      log.find((e) => e.event === 'update' && e.node === 'lib'),
      {
        level: 30,
        time: log.find((e) => e.event === 'update' && e.node === 'lib')?.time,
        msg: 'update lib color=blue',
        event: 'update',
        node: 'lib',
        changed: { color: 'blue' },
        removed: [],
      },
      'an update line: pino fields, then the event and what changed',
    );
    // The no-key alert is the only warning; a node with a key has none.
    assert.ok(!log.some((e) => e.level !== 30), 'no warnings with a key and a live bootstrap');
  });

  it('logs an alert as a pino warning (level 40)', async () => {
    const cli = spawnDsn([
      'start',
      '--id',
      'no-key',
      '--host',
      LOCAL,
      '--port',
      '0',
      '--credentials',
      dir.path,
      '--json',
    ]);
    await cli.waitFor(/"event":"alert"/, 'stderr');
    const [alert] = cli.jsonLog();
    assertPinoLine(alert as Record<string, unknown>);
    assert.equal(alert?.level, 40);
    assert.equal(alert?.event, 'alert');
    assert.match(
      alert?.msg as string,
      /^no network key \(--key or DSN_KEY\): traffic is not encrypted$/,
    );
    assert.ok(!('message' in (alert as object)), 'the message is the msg, not a field too');
    cli.proc.kill('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  it('--require-join: exits 1 naming the bootstrap and the cause when it refuses the node', async () => {
    const cli = spawnDsn([
      'start',
      '--id',
      'outsider',
      '--host',
      LOCAL,
      '--port',
      '0',
      '--key',
      'ffeeddccbbaa99887766554433221100', // not the network's key
      '--bootstrap',
      `${LOCAL}:${lib.port}`,
      '--credentials',
      dir.path,
      '--require-join',
    ]);
    const { code } = await cli.exited();
    assert.equal(code, 1);
    assert.match(
      cli.stderr,
      new RegExp(
        `${LOCAL}:${lib.port} refused the join: 401 not authorized — nothing this node sends decrypts there: the network keys differ`,
      ),
    );
    assert.ok(!lib.peers().includes('outsider'));
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const cli = children[0] as Dsn;
    cli.proc.kill('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  it('reads a config file with the Python keys; flags override it', async () => {
    const config = join(dir.path, 'node.json');
    writeFileSync(
      config,
      JSON.stringify({
        node_id: 'from-file',
        port: 0,
        aes_key: net.key,
        credential_dir: dir.path,
        bootstrap_nodes: [{ address: LOCAL, port: lib.port }],
        logging_dir: join(dir.path, 'logs'),
      }),
    );
    const joined = next<[string]>(lib, 'peer', (id) => id === 'overridden');
    const cli = spawnDsn(['start', '--config', config, '--id', 'overridden', '--host', LOCAL]);
    await joined;
    const [, port] = (await cli.waitFor(/^node overridden is up on 127\.0\.0\.1:(\d+)$/m)) as [
      string,
      string,
    ];
    assert.ok(Number(port) > 0);
    cli.proc.kill('SIGINT');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  it('logs readable lines on stderr without --json', async () => {
    const cli = spawnDsn(['start', '--id', 'texty', ...common(), '--credentials', dir.path]);
    await cli.waitFor(/^node texty is up on 127\.0\.0\.1:\d+$/m);
    await cli.waitFor(/^\S+ join\s+lib\s+at 127\.0\.0\.1:\d+$/m, 'stderr');
    await lib.updateData('mood', 'calm and "quoted"');
    await cli.waitFor(/^\S+ update lib\s+mood="calm and \\"quoted\\""$/m, 'stderr');
    // Escape sequences from the network are shown, not obeyed.
    await lib.updateData('evil', '\x1b[2J\x07');
    await cli.waitFor(/update lib\s+evil=\\x1b\[2J\\x07$/m, 'stderr');
    assert.ok(!cli.stderr.includes('\x1b'), 'no raw escape reached the terminal');
    cli.proc.kill('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  it('--dashboard serves the dashboard and prints its URL', async () => {
    const cli = spawnDsn([
      'start',
      '--id',
      'dash',
      ...common(),
      '--credentials',
      dir.path,
      '--dashboard',
      '0',
    ]);
    const [, url] = (await cli.waitFor(/dashboard at (http:\/\/127\.0\.0\.1:\d+\/)$/m)) as [
      string,
      string,
    ];
    const state = (await (await fetch(`${url}api/state`)).json()) as {
      self: string;
      nodes: { nodeId: string }[];
    };
    assert.equal(state.self, 'dash');
    assert.ok(state.nodes.some((v) => v.nodeId === 'lib'));
    cli.proc.kill('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
    await assert.rejects(fetch(`${url}api/state`), 'the dashboard stops with the node');
  });
});
