import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DSNodeConfig, DSNodeServer, generateKey } from '../../src/index.js';
import { LOCAL, next, tempDir, until } from '../helpers/net.js';

/**
 * Two nodes started from the dictionary Language Pipes builds (PROTOCOL.md
 * §9), as it builds it: an empty whitelist, no network_ip, a credential and a
 * logging folder, an AES key or None.
 */
function lpDict(dir: string, nodeId: string, aesKey: string | null, bootstrapPort?: number) {
  return {
    credential_dir: join(dir, 'credentials'),
    logging_dir: join(dir, 'logs'),
    node_id: nodeId,
    aes_key: aesKey,
    network_ip: null,
    port: 0,
    bootstrap_nodes: bootstrapPort ? [{ address: LOCAL, port: bootstrapPort }] : [],
    whitelist_node_ids: [],
  };
}

const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

for (const [label, aesKey] of [
  ['an AES key', generateKey()],
  ['aes_key None', null],
] as const) {
  describe(`Language Pipes' configuration, ${label}`, () => {
    const dir = tempDir('dsn-lp-');
    const servers: DSNodeServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      dir.cleanup();
    });
    const models = (id: string) => JSON.stringify([{ id: `${id}-model`, start: 0, end: 31 }]);

    it('the second node joins the first and the update event fires for its first, empty state', async () => {
      const a = await DSNodeServer.start(DSNodeConfig.fromDict(lpDict(dir.path, 'lp-a', aesKey)));
      servers.push(a);
      assert.equal(a.config.whitelistNodeIds, null);
      // At a: lp-b's join UPDATE carries `{}`, equal to the placeholder held for it.
      const aSawB = next<[string]>(
        a,
        'update',
        (id) => id === 'lp-b' && a.readState('lp-b')?.size === 0,
      );
      const bUpdates: string[] = [];
      const b = await DSNodeServer.start(
        DSNodeConfig.fromDict(lpDict(dir.path, 'lp-b', aesKey, a.port)),
        { onUpdate: (id) => bUpdates.push(id) },
      );
      servers.push(b);
      await aSawB;
      // At b: a's `{}` in the answer to the join, applied before start resolves.
      assert.deepEqual(bUpdates, ['lp-a']);
      assert.deepEqual(a.peers().sort(), ['lp-a', 'lp-b']);
      assert.deepEqual(b.peers().sort(), ['lp-a', 'lp-b']);
    });

    it("each reads the other's models key", async () => {
      const [a, b] = servers;
      assert.ok(a && b);
      const both = until(
        [a, b],
        () =>
          a.readData('lp-b', 'models') === models('lp-b') &&
          b.readData('lp-a', 'models') === models('lp-a'),
        "both nodes read each other's models",
      );
      await Promise.all([
        a.updateData('models', models('lp-a')),
        b.updateData('models', models('lp-b')),
      ]);
      await both;
    });

    it('the log files have the peer lines, flushed on stop', async () => {
      await Promise.all(servers.map((s) => s.stop()));
      const logOf = (id: string) => readFile(join(dir.path, 'logs', `${id}.log`), 'utf8');
      const [la, lb] = await Promise.all([logOf('lp-a'), logOf('lp-b')]);
      assert.match(la, new RegExp(`^${ISO} peer lp-b$`, 'm'));
      assert.match(lb, new RegExp(`^${ISO} peer lp-a$`, 'm'));
      // Alerts, joins and disconnects only: updates are not logged.
      for (const line of `${la}${lb}`.trimEnd().split('\n')) {
        assert.match(line, new RegExp(`^${ISO} (alert|peer|disconnect) `));
      }
    });
  });
}

describe('the log file', () => {
  const dir = tempDir('dsn-lp-log-');
  after(() => dir.cleanup());
  const base = { port: 0, host: LOCAL, credentialDir: null };

  it('gets alerts and joins, one line each even for a message with a newline', async () => {
    const logs = join(dir.path, 'logs');
    const s = await DSNodeServer.start({
      ...base,
      nodeId: 'lonely',
      loggingDir: logs,
      bootstrapNodes: [{ address: LOCAL, port: 1 }],
    });
    // A listener that throws is reported as an alert (with its message's newline).
    s.on('peer', () => {
      throw new Error('two\nlines');
    });
    const reported = next(s, 'alert', (m: string) => m.includes('threw'));
    const v = await DSNodeServer.start({
      ...base,
      nodeId: 'visitor',
      bootstrapNodes: [{ address: LOCAL, port: s.port }],
    });
    await reported;
    await Promise.all([s.stop(), v.stop()]);
    const text = await readFile(join(logs, 'lonely.log'), 'utf8');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3, text);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^${ISO} alert no bootstrap node answered \\(127\\.0\\.0\\.1:1 unreachable: connection refused\\); retrying in the background$`,
      ),
    );
    assert.match(lines[1] ?? '', new RegExp(`^${ISO} peer visitor$`));
    assert.match(
      lines[2] ?? '',
      new RegExp(`^${ISO} alert a listener of 'peer' threw: two\\\\nlines$`),
    );
  });

  it('that cannot be written raises one alert, and the node carries on', async () => {
    const notAFolder = join(dir.path, 'a-file');
    await writeFile(notAFolder, '');
    const alerts: string[] = [];
    let sawFailure = () => {};
    const failure = new Promise<void>((resolve) => {
      sawFailure = resolve;
    });
    const s = await DSNodeServer.start(
      {
        ...base,
        nodeId: 'no-log',
        loggingDir: notAFolder,
        bootstrapNodes: [{ address: LOCAL, port: 1 }],
      },
      {
        onAlert: (m) => {
          alerts.push(m);
          if (/^cannot write the log file /.test(m)) sawFailure();
        },
      },
    );
    await failure;
    // More events to log (a join, and its alert-free aftermath) raise no second alert.
    const joined = next(s, 'peer', (id) => id === 'visitor');
    const v = await DSNodeServer.start({
      ...base,
      nodeId: 'visitor',
      bootstrapNodes: [{ address: LOCAL, port: s.port }],
    });
    await joined;
    await s.updateData('still', 'works');
    assert.equal(v.readData('no-log', 'still'), 'works');
    await Promise.all([s.stop(), v.stop()]);
    const failures = alerts.filter((m) => /cannot write the log file/.test(m));
    assert.equal(failures.length, 1, alerts.join('\n'));
  });
});

describe('the join alert', () => {
  const key = generateKey();
  const base = { port: 0, host: LOCAL, credentialDir: null, aesKey: key };
  const servers: DSNodeServer[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  it('names each bootstrap endpoint tried and what it did', async () => {
    const picky = await DSNodeServer.start({ ...base, nodeId: 'picky', whitelistNodeIds: ['x'] });
    servers.push(picky);
    const alerts: string[] = [];
    const s = await DSNodeServer.start(
      {
        ...base,
        nodeId: 'refused',
        bootstrapNodes: [
          { address: LOCAL, port: picky.port },
          { address: LOCAL, port: 1 },
        ],
      },
      { onAlert: (m) => alerts.push(m) },
    );
    servers.push(s);
    assert.deepEqual(alerts, [
      `no bootstrap node admitted this node (127.0.0.1:${picky.port} refused the join: refused is not on its whitelist; 127.0.0.1:1 unreachable: connection refused); retrying in the background`,
    ]);
  });
});
