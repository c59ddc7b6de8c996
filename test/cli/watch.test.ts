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
