import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DSNodeConfig, DSNodeServer, generateKey } from '../../src/index.js';
import { LOCAL, sorted, tempDir, until } from '../helpers/net.js';
import { PyPeer, pythonUnavailable, pyUntil } from '../helpers/pypeer.js';

/**
 * A TypeScript node started from the dictionary Language Pipes builds
 * (PROTOCOL.md §9: `whitelist_node_ids: []`, no network_ip) in a network with
 * the independent Python peer (test/interop/pypeer.py): it joins the Python
 * node, a Python node joins it, and each reads the other's `models`.
 */
const unavailable = pythonUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

const models = (id: string) => JSON.stringify([{ id: `${id}-model`, start: 0, end: 15 }]);

for (const [label, aesKey] of [
  ['an AES key', generateKey()],
  ['aes_key None', null],
] as const) {
  describe(`Language Pipes' configuration with a Python node, ${label}`, {
    skip: unavailable ?? false,
  }, () => {
    const dir = tempDir('dsn-lp-py-');
    const pys: PyPeer[] = [];
    let ts: DSNodeServer | undefined;
    after(async () => {
      await Promise.all(pys.map((p) => p.kill()));
      await ts?.stop();
      dir.cleanup();
    });
    const py = async (id: string, bootstrap: number[] = []) => {
      const p = new PyPeer({ id, key: aesKey, bootstrap });
      pys.push(p);
      await p.ready;
      return p;
    };

    it('a node from the Language Pipes dictionary joins a Python node', async () => {
      const p0 = await py('py-lp');
      const node = await DSNodeServer.start(
        DSNodeConfig.fromDict({
          credential_dir: join(dir.path, 'credentials'),
          logging_dir: join(dir.path, 'logs'),
          node_id: 'lp-ts',
          aes_key: aesKey,
          network_ip: null,
          port: 0,
          bootstrap_nodes: [{ address: LOCAL, port: p0.port }],
          whitelist_node_ids: [],
        }),
      );
      ts = node;
      assert.deepEqual(sorted(node.peers()), ['lp-ts', 'py-lp']);
      assert.deepEqual(sorted(await p0.peers()), ['lp-ts', 'py-lp']);
    });

    it("both read each other's models", async () => {
      const [p0] = pys;
      assert.ok(ts && p0);
      const node = ts;
      await node.updateData('models', models('lp-ts'));
      await pyUntil(
        p0,
        async () => (await p0.read('lp-ts', 'models')) === models('lp-ts'),
        'Python reads the TypeScript models',
      );
      const arrived = until(
        [node],
        () => node.readData('py-lp', 'models') === models('py-lp'),
        'TypeScript reads the Python models',
      );
      await p0.update('models', models('py-lp'));
      await arrived;
    });

    it('a Python node joins it too (an empty whitelist lets anyone with the key in)', async () => {
      assert.ok(ts);
      const node = ts;
      const joined = until([node], () => node.peers().includes('py-late'), 'py-late joins');
      const p1 = await py('py-late', [node.port]);
      await joined;
      await pyUntil(
        p1,
        async () => (await p1.read('lp-ts', 'models')) === models('lp-ts'),
        'the late Python node reads the TypeScript models',
      );
    });

    it('the log file has the peer lines', async () => {
      assert.ok(ts);
      await ts.stop();
      const log = await readFile(join(dir.path, 'logs', 'lp-ts.log'), 'utf8');
      assert.match(log, /^\S+Z peer py-lp$/m);
      assert.match(log, /^\S+Z peer py-late$/m);
    });
  });
}
