import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DSNodeConfig, type DSNodeConfigInit } from '../../src/index.js';

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
    assert.equal(c.loggingDir, 'logs');
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

  it('refuses the strictness cases with an error naming the dictionary key', () => {
    const base = { node_id: 'n', port: 1 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ aes_key: 'beef' }, /^aes_key: must be 32 hex characters \(16 bytes\), got 4 characters$/],
      [{ aes_key: '' }, /^aes_key: .*got an empty string; leave it out \(or None\/null\)/],
      [{ aes_key: 1234 }, /^aes_key: must be 32 hex characters/],
      [
        { port: '5000' },
        /^port: must be a whole number from 0 \(any free port\) to 65535, got "5000"$/,
      ],
      [{ port: 5000.5 }, /^port: must be a whole number/],
      [{ port: true }, /^port: must be a whole number/],
      [{ port: null }, /^port: is required, got None$/],
      [{ node_id: null }, /^node_id: is required, got None$/],
      [{ node_id: '' }, /^node_id: must be a non-empty string, got ""$/],
      [{ node_id: 7 }, /^node_id: must be a non-empty string, got 7$/],
      [{ credential_dir: '' }, /^credential_dir: must be a non-empty string/],
      [{ credential_dir: 3 }, /^credential_dir: must be a non-empty string, got 3$/],
      [{ logging_dir: '' }, /^logging_dir: must be a non-empty string/],
      [{ logging_dir: ['logs'] }, /^logging_dir: must be a non-empty string, got a list$/],
      [{ network_ip: '' }, /^network_ip: must be a non-empty string/],
      [{ network_ip: 'x'.repeat(257) }, /^network_ip: must be at most 256 bytes/],
      [{ bootstrap_nodes: {} }, /^bootstrap_nodes: must be a list, got an object$/],
      [
        { bootstrap_nodes: [{ address: '10.0.0.1', port: '5000' }] },
        /^bootstrap_nodes\[0\]\.port: must be a whole number from 1 to 65535, got "5000"$/,
      ],
      [
        { bootstrap_nodes: [{ port: 5000 }] },
        /^bootstrap_nodes\[0\]\.address: must be a non-empty/,
      ],
      [{ whitelist_node_ids: 'lp-b' }, /^whitelist_node_ids: must be a list, got "lp-b"$/],
      [{ whitelist_node_ids: ['lp-b', null] }, /^whitelist_node_ids\[1\]: must be a non-empty/],
      [{ nodeId: 'n' }, /^nodeId: is not a configuration field$/],
      [{ host: '0.0.0.0' }, /^host: is not a configuration field$/],
      [{ toString: 'x' }, /^toString: is not a configuration field$/],
    ];
    for (const [extra, message] of cases) {
      assert.throws(
        () => DSNodeConfig.fromDict({ ...base, ...extra }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        JSON.stringify(extra),
      );
    }
    // The error's field is the key as written, for programs that point at it.
    assert.throws(
      () => DSNodeConfig.fromDict({ ...base, bootstrap_nodes: [{ address: 'h', port: 0 }] }),
      (err: unknown) => err instanceof ConfigError && err.field === 'bootstrap_nodes[0].port',
    );
  });

  it("reads Language Pipes' exact dictionary", () => {
    const lp = (aes_key: string | null) => ({
      credential_dir: '/home/lp/.config/language_pipes/credentials',
      logging_dir: '/home/lp/.config/language_pipes/logs',
      node_id: 'lp-a',
      aes_key,
      network_ip: null,
      port: 5000,
      bootstrap_nodes: [{ address: '192.168.1.20', port: 5000 }],
      whitelist_node_ids: [],
    });
    for (const aesKey of [key, null]) {
      const c = DSNodeConfig.fromDict(lp(aesKey));
      assert.equal(c.nodeId, 'lp-a');
      assert.equal(c.port, 5000);
      assert.equal(c.aesKey, aesKey);
      assert.equal(c.networkIp, null);
      assert.equal(c.credentialDir, '/home/lp/.config/language_pipes/credentials');
      assert.equal(c.loggingDir, '/home/lp/.config/language_pipes/logs');
      assert.deepEqual(c.bootstrapNodes, [{ address: '192.168.1.20', port: 5000 }]);
      assert.equal(c.whitelistNodeIds, null, 'an empty whitelist is no whitelist');
    }
  });

  it('gives every key its meaning when None, missing or empty', () => {
    const base = { node_id: 'n', port: 0 };
    const missing = DSNodeConfig.fromDict(base);
    const none = DSNodeConfig.fromDict({
      ...base,
      credential_dir: null,
      logging_dir: null,
      aes_key: null,
      network_ip: null,
      bootstrap_nodes: null,
      whitelist_node_ids: null,
    });
    const empty = DSNodeConfig.fromDict({ ...base, bootstrap_nodes: [], whitelist_node_ids: [] });
    // Missing: the default.
    assert.equal(missing.credentialDir, 'credentials');
    assert.equal(missing.loggingDir, null);
    assert.equal(missing.aesKey, null);
    assert.equal(missing.networkIp, null);
    assert.deepEqual(missing.bootstrapNodes, []);
    assert.equal(missing.whitelistNodeIds, null);
    // None: not set (for credential_dir: keys in memory only).
    assert.equal(none.credentialDir, null);
    assert.equal(none.loggingDir, null);
    assert.equal(none.aesKey, null);
    assert.equal(none.networkIp, null);
    assert.deepEqual(none.bootstrapNodes, []);
    assert.equal(none.whitelistNodeIds, null);
    // Empty lists: no bootstrap nodes, and no whitelist (not "refuse everyone").
    assert.deepEqual(empty.bootstrapNodes, []);
    assert.equal(empty.whitelistNodeIds, null);
    // Set: kept as given.
    const set = DSNodeConfig.fromDict({
      ...base,
      aes_key: key.toUpperCase(),
      network_ip: '192.0.2.7',
      logging_dir: 'logs',
      whitelist_node_ids: ['lp-b', 'lp-c'],
    });
    assert.equal(set.aesKey, key.toUpperCase());
    assert.equal(set.networkIp, '192.0.2.7');
    assert.equal(set.loggingDir, 'logs');
    assert.deepEqual(set.whitelistNodeIds, ['lp-b', 'lp-c']);
  });

  it('the camelCase object follows the same rules', () => {
    const c = DSNodeConfig.from({ nodeId: 'n', port: 0, whitelistNodeIds: [], loggingDir: 'logs' });
    assert.equal(c.whitelistNodeIds, null, 'an empty whitelist is no whitelist');
    assert.equal(c.loggingDir, 'logs');
    const d = DSNodeConfig.from({ nodeId: 'n', port: 0, loggingDir: null, bootstrapNodes: null });
    assert.equal(d.loggingDir, null);
    assert.deepEqual(d.bootstrapNodes, []);
    assert.deepEqual(
      DSNodeConfig.from({ nodeId: 'n', port: 0, whitelistNodeIds: ['x'] }).whitelistNodeIds,
      ['x'],
    );
    const refusedHere: [DSNodeConfigInit, RegExp][] = [
      [{ nodeId: 'n', port: 0, aesKey: '' }, /^aesKey: .*got an empty string/],
      [{ nodeId: 'n', port: 0, loggingDir: '' }, /^loggingDir: must be a non-empty string/],
      [{ nodeId: 'n', port: 0, logging_dir: 'x' } as never, /^logging_dir: is not a configuration/],
    ];
    for (const [init, message] of refusedHere) {
      assert.throws(
        () => DSNodeConfig.from(init),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    }
  });

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
