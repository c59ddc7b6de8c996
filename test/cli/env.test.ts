import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { LOCAL, next, TestNet, tempDir, until } from '../helpers/net.js';
import { assertBuilt, Dsn, runDsn } from './helpers.js';

/** `dsn start` configured from DSN_* variables, as a container runs it. */
describe('dsn start from the environment', () => {
  const net = new TestNet();
  const dir = tempDir('dsn-cli-env-');
  const children: Dsn[] = [];
  let lib: DSNodeServer;
  const spawnDsn = (args: string[], env: Record<string, string>) => {
    const child = new Dsn(args, env);
    children.push(child);
    return child;
  };

  before(async () => {
    assertBuilt();
    lib = await net.start('lib');
  });
  after(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await net.stopAll();
    dir.cleanup();
  });

  it('a node started from DSN_* variables alone joins, with its state, dashboard and log', async () => {
    const credentials = join(dir.path, 'env-creds');
    const joined = next<[string]>(lib, 'peer', (id) => id === 'from-env');
    const cli = spawnDsn(['start'], {
      DSN_ID: 'from-env',
      DSN_PORT: '0',
      DSN_HOST: LOCAL,
      DSN_KEY: net.key,
      DSN_BOOTSTRAP: `${LOCAL}:1, ${LOCAL}:${lib.port}`, // the first one answers nobody
      DSN_CREDENTIAL_DIR: credentials,
      DSN_NETWORK_IP: LOCAL,
      DSN_WHITELIST: 'lib,other',
      DSN_SET: 'role=worker\nnote=a, b = c\n',
      DSN_DASHBOARD: '0',
      DSN_DASHBOARD_HOST: LOCAL,
      DSN_JSON: 'true',
    });
    await joined;
    await until(
      [lib],
      () =>
        lib.readData('from-env', 'role') === 'worker' &&
        lib.readData('from-env', 'note') === 'a, b = c',
      'both DSN_SET lines reached lib',
    );
    const [line] = await cli.waitFor(/^\{.*"event":"up".*\}$/m);
    const up = JSON.parse(line);
    assert.equal(up.node, 'from-env');
    assert.equal(up.host, LOCAL);
    assert.match(up.dashboard, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(lib.snapshot().find((v) => v.nodeId === 'from-env')?.port, up.port);
    assert.ok(
      existsSync(join(credentials, 'from-env', 'from-env.key')),
      'keys in DSN_CREDENTIAL_DIR',
    );
    await cli.waitFor(/"event":"join","node":"lib"/, 'stderr');
    assert.ok(
      cli.jsonLog().every((e) => typeof e.level === 'number'),
      'DSN_JSON: JSON lines',
    );
    cli.proc.kill('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  it('flags win over the environment, and the environment over the config file', async () => {
    const config = join(dir.path, 'node.json');
    writeFileSync(
      config,
      JSON.stringify({
        node_id: 'from-file',
        port: 0,
        aes_key: net.key,
        credential_dir: dir.path,
        bootstrap_nodes: [{ address: LOCAL, port: lib.port }],
      }),
    );
    const env = { DSN_CONFIG: config, DSN_ID: 'env-over-file', DSN_HOST: LOCAL };
    const fromEnv = spawnDsn(['start'], env);
    await fromEnv.waitFor(/^node env-over-file is up on 127\.0\.0\.1:\d+$/m);
    const fromFlag = spawnDsn(['start', '--id', 'flag-over-env'], env);
    await fromFlag.waitFor(/^node flag-over-env is up on 127\.0\.0\.1:\d+$/m);
    // Both read the rest from the file named by DSN_CONFIG: they joined lib with its key.
    await until(
      [lib],
      () => lib.peers().includes('env-over-file') && lib.peers().includes('flag-over-env'),
      'both joined lib',
    );
    for (const child of [fromEnv, fromFlag]) {
      child.proc.kill('SIGTERM');
      assert.deepEqual(await child.exited(), { code: 0, signal: null });
    }
  });

  it('--help lists the variable of every option', async () => {
    const r = await runDsn(['start', '--help']);
    assert.equal(r.code, 0);
    const options = r.stdout.split('Global Options:')[0] as string;
    for (const name of [
      'DSN_CONFIG',
      'DSN_ID',
      'DSN_PORT',
      'DSN_KEY',
      'DSN_BOOTSTRAP',
      'DSN_SET',
      'DSN_CREDENTIAL_DIR',
      'DSN_NETWORK_IP',
      'DSN_WHITELIST',
      'DSN_HOST',
      'DSN_DASHBOARD',
      'DSN_DASHBOARD_HOST',
      'DSN_JSON',
    ]) {
      assert.match(options, new RegExp(`\\(env:\\s+${name}\\)`), name);
    }
    // Every option but --help has one.
    const flags = options.match(/^\s+(?:-\w, )?--[\w-]+/gm) ?? [];
    const envs = options.match(/\(env:\s+DSN_\w+\)/g) ?? [];
    assert.equal(envs.length, flags.length - 1, options);
  });
});

const KEY = '00112233445566778899aabbccddeeff';

/** [environment, what the one line on stderr must say]; `dsn start` must exit 2. */
const BAD_ENV: [Record<string, string>, RegExp][] = [
  [
    { DSN_ID: 'a', DSN_PORT: 'http' },
    /^dsn start: option '-p, --port <port>' value 'http' from env 'DSN_PORT' is invalid\. Expected a port number/,
  ],
  [{ DSN_ID: 'a', DSN_PORT: '' }, /from env 'DSN_PORT' is invalid/],
  [
    { DSN_ID: 'a', DSN_BOOTSTRAP: `${LOCAL}:8000,example.org` },
    /value '.*' from env 'DSN_BOOTSTRAP' is invalid\. Expected host:port/,
  ],
  [{ DSN_ID: '' }, /from env 'DSN_ID' is invalid\. Expected a non-empty value/],
  [{ DSN_ID: 'x'.repeat(300) }, /^dsn start: DSN_ID: must be at most 256 bytes of UTF-8$/],
  [
    { DSN_ID: 'a', DSN_KEY: `0011g${KEY.slice(5)}` },
    /^dsn start: DSN_KEY must be 32 hex characters: 'g' at position 5 is not hex; 'dsn keygen' makes one$/,
  ],
  [
    { DSN_ID: 'a', DSN_KEY: KEY.slice(2) },
    /^dsn start: DSN_KEY must be 32 hex characters \(16 bytes\), got 30 characters/,
  ],
  [
    { DSN_ID: 'a', DSN_SET: 'role=worker\nnovalue' },
    /^dsn start: DSN_SET: line 2 is not key=value/,
  ],
  [{ DSN_ID: 'a', DSN_SET: '=v' }, /from env 'DSN_SET' is invalid\. Expected key=value/],
  [{ DSN_ID: 'a', DSN_JSON: 'maybe' }, /^dsn start: DSN_JSON must be 1, true, yes or on, or 0/],
  [{ DSN_ID: 'a', DSN_DASHBOARD: '65536' }, /from env 'DSN_DASHBOARD' is invalid/],
  [
    { DSN_ID: 'a', DSN_DASHBOARD_HOST: LOCAL },
    /^dsn start: DSN_DASHBOARD_HOST needs --dashboard PORT \(or DSN_DASHBOARD\)$/,
  ],
  [{ DSN_ID: 'a', DSN_WHITELIST: ' , ' }, /from env 'DSN_WHITELIST' is invalid/],
  [
    { DSN_CONFIG: '/nonexistent/dsn.json' },
    /^dsn start: cannot read config file \/nonexistent\/dsn\.json: no such file$/,
  ],
];

describe('bad values in DSN_* variables', { concurrency: 8 }, () => {
  before(assertBuilt);

  for (const [env, message] of BAD_ENV) {
    const shown = Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v.length > 40 ? `${v.slice(0, 8)}…` : v)}`)
      .join(' ');
    it(`${shown} → exit 2, one line naming the variable`, async () => {
      const r = await runDsn(['start'], env);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `exactly one line:\n${r.stderr}`);
      assert.match(r.stderr.trimEnd(), message);
    });
  }

  it('a variable that a flag overrides is not read, bad or not', async () => {
    // The run gets past the port (DSN_PORT is never parsed) and stops at the next mistake.
    const r = await runDsn(['start', '--port', '0', '--dashboard-host', LOCAL], {
      DSN_ID: 'a',
      DSN_PORT: 'http',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^dsn start: --dashboard-host needs --dashboard PORT/);
  });
});
