import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DSNodeServer, generateKey } from '../../src/index.js';
import { LOCAL, TestNet } from '../helpers/net.js';
import { assertBuilt, Dsn, runDsn } from './helpers.js';

describe('dsn watch', () => {
  const net = new TestNet();
  const children: Dsn[] = [];
  let n1: DSNodeServer;
  let n2: DSNodeServer;
  const args = (...extra: string[]) => [
    'watch',
    '--bootstrap',
    `${LOCAL}:${n1.port}`,
    '--key',
    net.key,
    '--host',
    LOCAL,
    ...extra,
  ];

  before(async () => {
    assertBuilt();
    n1 = await net.start('n1');
    n2 = await net.start('n2', { via: n1 });
    await n1.updateData('temperature', '21.5');
    await n2.updateData('status', 'online');
    await n2.updateData('note', 'two words');
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await net.stopAll();
  });

  it('--once prints a table of every node, then exits 0', async () => {
    const r = await runDsn(args('--once'));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^NODE\s+ADDRESS\s+ALIVE\s+UPDATED\s+STATE$/);
    assert.equal(lines.length, 3, r.stdout);
    assert.match(
      lines[1] as string,
      new RegExp(`^n1\\s+127\\.0\\.0\\.1:${n1.port}\\s+yes\\s+\\S+s\\s+temperature=21\\.5$`),
    );
    assert.match(
      lines[2] as string,
      /^n2\s+127\.0\.0\.1:\d+\s+yes\s+\S+s\s+status=online note="two words"$/,
    );
    assert.ok(!r.stdout.includes('watch-'), 'the observer itself is not listed');
  });

  it('--once --json prints one JSON snapshot', async () => {
    const r = await runDsn(args('--once', '--json', '--id', 'observer-1'));
    assert.equal(r.code, 0, r.stderr);
    const snap = JSON.parse(r.stdout) as {
      observer: string;
      nodes: { nodeId: string; state: [string, string][] }[];
    };
    assert.equal(snap.observer, 'observer-1');
    assert.deepEqual(
      snap.nodes.map((v) => [v.nodeId, v.state]),
      [
        ['n1', [['temperature', '21.5']]],
        [
          'n2',
          [
            ['status', 'online'],
            ['note', 'two words'],
          ],
        ],
      ],
    );
  });

  it('piped, prints the table again on every change', async () => {
    const watch = new Dsn(args());
    children.push(watch);
    await watch.waitFor(/^n1\s.*temperature=21\.5$/m);
    await n2.updateData('status', 'degraded');
    await watch.waitFor(/^n2\s.*status=degraded/m);
    // Tables are separated by blank lines and each one starts with a time and a count.
    assert.match(watch.stdout, /^\d\d:\d\d:\d\d {2}2 nodes\nNODE/m);
    assert.match(watch.stdout, /\n\n\d\d:\d\d:\d\d {2}2 nodes\n/);
    const joiner = await net.start('n3', { via: n1 });
    await joiner.updateData('hello', 'world');
    await watch.waitFor(/^\d\d:\d\d:\d\d {2}3 nodes\n(?:.*\n)*n3\s.*hello=world$/m);
    watch.proc.kill('SIGINT');
    assert.deepEqual(await watch.exited(), { code: 0, signal: null });
  });

  it('shows a node that stopped cleanly as left, one that stopped answering as suspected then failed', async () => {
    const watch = new Dsn(args());
    const json = new Dsn(args('--json'));
    children.push(watch, json);
    await Promise.all([watch, json].map((w) => w.waitFor(/n1/)));
    const quitter = await net.start('quitter', { via: n1 });
    const crasher = await net.start('crasher', { via: n1 });
    await quitter.updateData('plan', 'leave');
    await crasher.updateData('plan', 'crash');
    await watch.waitFor(/^quitter\s+\S+\s+yes\s.*plan=leave$/m);
    await watch.waitFor(/^crasher\s+\S+\s+yes\s.*plan=crash$/m);

    // A goodbye: left at once, listed with its last state, not counted as a node.
    await quitter.stop();
    await watch.waitFor(/^quitter\s+\S+\s+left\s+\S+\s+plan=leave$/m);
    await watch.waitFor(/^\d\d:\d\d:\d\d {2}\d+ nodes, 1 left\n/m);

    // No goodbye: the watcher's own probes fail, it suspects, then declares it failed.
    await crasher.node.transport.close();
    await watch.waitFor(/^crasher\s+\S+\s+failed\s+\S+\s+plan=crash$/m, 'stdout', 20_000);
    await watch.waitFor(/^\d\d:\d\d:\d\d {2}\d+ nodes, 1 left, 1 failed\n/m);
    const suspected = watch.stdout.search(/^crasher\s+\S+\s+suspected\s/m);
    const failed = watch.stdout.search(/^crasher\s+\S+\s+failed\s/m);
    assert.ok(suspected >= 0 && suspected < failed, 'suspected before failed');
    assert.ok(
      !/^quitter\s+\S+\s+(suspected|failed)/m.test(watch.stdout),
      'a goodbye is no failure',
    );

    // --json says the same: the departed with why and when.
    await json.waitFor(/"reason":"failed"/, 'stdout', 20_000);
    const last = json.stdout.trimEnd().split('\n').at(-1) as string;
    const snap = JSON.parse(last) as {
      nodes: { nodeId: string }[];
      departed: {
        reason: string;
        at: number;
        view: { nodeId: string; state: [string, string][] };
      }[];
    };
    assert.deepEqual(
      snap.departed.map((d) => [d.view.nodeId, d.reason, d.view.state]),
      [
        ['crasher', 'failed', [['plan', 'crash']]],
        ['quitter', 'left', [['plan', 'leave']]],
      ],
    );
    assert.ok(!snap.nodes.some((v) => v.nodeId === 'quitter' || v.nodeId === 'crasher'));

    for (const w of [watch, json]) {
      w.proc.kill('SIGINT');
      assert.deepEqual(await w.exited(), { code: 0, signal: null });
    }
  });

  it('--once with the wrong key fails with one line and exit code 1', async () => {
    const r = await runDsn([
      'watch',
      '-b',
      `${LOCAL}:${n1.port}`,
      '--key',
      generateKey(),
      '--host',
      LOCAL,
      '--once',
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^dsn watch: could not join through 127\.0\.0\.1:\d+: no node answered \(check the address and the key\)\n$/,
    );
  });
});
