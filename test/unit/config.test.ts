import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DSNodeConfig } from '../../src/index.js';

const key = '000102030405060708090a0b0c0d0e0f';

describe('DSNodeConfig', () => {
  it('fromDict takes the Python dictionary with the Python defaults', () => {
    const c = DSNodeConfig.fromDict({
      node_id: 'n',
      port: 8000,
      aes_key: key,
      bootstrap_nodes: [{ address: '10.1.2.3', port: 8000 }],
      logging_dir: 'logs',
    });
    assert.equal(c.nodeId, 'n');
    assert.equal(c.port, 8000);
    assert.equal(c.aesKey, key);
    assert.deepEqual(c.bootstrapNodes, [{ address: '10.1.2.3', port: 8000 }]);
    assert.equal(c.credentialDir, 'credentials');
    assert.equal(c.networkIp, null);
    assert.equal(c.whitelistNodeIds, null);
    const d = DSNodeConfig.fromDict({
      node_id: 'n',
      port: 1,
      network_ip: '192.0.2.1',
      whitelist_node_ids: ['a'],
      credential_dir: '/tmp/x',
    });
    assert.equal(d.networkIp, '192.0.2.1');
    assert.deepEqual(d.whitelistNodeIds, ['a']);
    assert.equal(d.credentialDir, '/tmp/x');
    assert.deepEqual(d.bootstrapNodes, []);
  });

  const refused: [string, () => unknown, RegExp][] = [
    ['missing node_id', () => DSNodeConfig.fromDict({ port: 1 }), /^node_id: is required/],
    ['missing port', () => DSNodeConfig.fromDict({ node_id: 'n' }), /^port: is required/],
    [
      'unknown key',
      () => DSNodeConfig.fromDict({ node_id: 'n', port: 1, bootstrap_node: [] }),
      /^bootstrap_node: is not a configuration field/,
    ],
    [
      'short key',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, aesKey: 'abc' }),
      /^aesKey: must be 32 hex characters \(16 bytes\), got 3 characters/,
    ],
    [
      'non-hex key',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, aesKey: 'zz'.repeat(16) }),
      /^aesKey: must be 32 hex/,
    ],
    [
      'port too big',
      () => DSNodeConfig.from({ nodeId: 'n', port: 70000 }),
      /^port: must be a whole number from 0 \(any free port\) to 65535, got 70000/,
    ],
    [
      'port as text',
      () => DSNodeConfig.from({ nodeId: 'n', port: '80' as unknown as number }),
      /^port: .*got "80"/,
    ],
    [
      'empty id',
      () => DSNodeConfig.from({ nodeId: '', port: 1 }),
      /^nodeId: must be a non-empty string/,
    ],
    [
      'huge id',
      () => DSNodeConfig.from({ nodeId: 'x'.repeat(300), port: 1 }),
      /^nodeId: must be at most 256 bytes/,
    ],
    [
      'bootstrap not a list',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, bootstrapNodes: {} as never }),
      /^bootstrapNodes: must be a list/,
    ],
    [
      'bootstrap port 0',
      () =>
        DSNodeConfig.from({ nodeId: 'n', port: 1, bootstrapNodes: [{ address: 'h', port: 0 }] }),
      /^bootstrapNodes\[0\]\.port: must be a whole number from 1 to 65535/,
    ],
    [
      'bootstrap no address',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, bootstrapNodes: [{ port: 5 } as never] }),
      /^bootstrapNodes\[0\]\.address/,
    ],
    [
      'whitelist entry',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, whitelistNodeIds: ['a', 3 as never] }),
      /^whitelistNodeIds\[1\]/,
    ],
    [
      'unknown camelCase field',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, node_id: 'x' } as never),
      /^node_id: is not a configuration field/,
    ],
    [
      'unknown timing',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, timing: { tick: 5 } as never }),
      /^timing\.tick: is not a known setting/,
    ],
    [
      'negative limit',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, limits: { maxPeers: -1 } }),
      /^limits\.maxPeers: must be a positive number/,
    ],
    [
      'dashboard port',
      () => DSNodeConfig.from({ nodeId: 'n', port: 1, dashboard: { port: -1 } }),
      /^dashboard\.port/,
    ],
    ['not an object', () => DSNodeConfig.from(null as never), /^config: must be an object/],
  ];
  for (const [name, fn, message] of refused) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(fn, (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  it('fills defaults for the camelCase object', () => {
    const c = DSNodeConfig.from({ nodeId: 'n', port: 0 });
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.aesKey, null);
    assert.equal(c.timing.tickMs, 3000);
    assert.equal(c.dashboard, null);
    assert.deepEqual(
      DSNodeConfig.from({ nodeId: 'n', port: 0, dashboard: { port: 0 } }).dashboard,
      { port: 0, host: '127.0.0.1' },
    );
    assert.equal(
      DSNodeConfig.from({ nodeId: 'n', port: 0, credentialDir: null }).credentialDir,
      null,
    );
  });
});
