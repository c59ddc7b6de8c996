import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBuilt, runDsn } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dsn-cli-errors-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const KEY = '00112233445566778899aabbccddeeff';

/** [arguments, what the one line on stderr must say]; every case must exit 2. */
const USAGE_ERRORS: [string[], RegExp][] = [
  [
    ['start', '--id', 'a', '--port', '70000'],
    /^dsn start: .*--port.*'70000' is invalid\. Expected a port number from 0/,
  ],
  [['start', '--id', 'a', '--port', 'http'], /--port.*'http' is invalid/],
  [['start', '--id', 'a', '--port', '-1'], /--port/],
  [
    ['start', '--id', 'a', '--bootstrap', 'example.org'],
    /--bootstrap.*'example\.org' is invalid\. Expected host:port/,
  ],
  [['start', '--id', 'a', '--bootstrap', 'example.org:0'], /--bootstrap.*is invalid/],
  [
    ['start', '--id', 'a', '--key', 'abc123'],
    /^dsn start: --key must be 32 hex characters \(16 bytes\), got 6 characters/,
  ],
  [
    ['start', '--id', 'a', '--key', `${KEY.slice(0, 31)}g`],
    /^dsn start: --key must be 32 hex characters: 'g' at position 32 is not hex; 'dsn keygen' makes one$/,
  ],
  [['start', '--id', 'a', '--set', 'novalue'], /--set.*'novalue' is invalid\. Expected key=value/],
  [['start', '--id', 'a', '--set', '=v'], /--set.*is invalid/],
  [
    ['start', '--id', 'a', '--prot', '1'],
    /^dsn start: unknown option '--prot' \(Did you mean --port\?\)$/,
  ],
  [['start', '--id', 'a', '--dashboard-host', '0.0.0.0'], /--dashboard-host needs --dashboard/],
  [['start', '--port', '0'], /a node ID is required: pass --id/],
  [['start', '--id', ''], /--id.*Expected a non-empty value/],
  [
    ['start', '--config', join(dir, 'missing.json')],
    /^dsn start: cannot read config file .*missing\.json: no such file$/,
  ],
  [['start', '--config', dir], /cannot read config file .*: it is a directory/],
  [
    ['start', '--config', file('broken.json', '{"node_id": "a",')],
    /config file .*broken\.json is not valid JSON/,
  ],
  [
    ['start', '--config', file('list.json', '[]')],
    /config file .*list\.json must hold a JSON object, got a list/,
  ],
  [
    ['start', '--config', file('typo.json', '{"node_id": "a", "port": 0, "bootstrap_node": []}')],
    /typo\.json: bootstrap_node: is not a configuration field$/,
  ],
  [
    ['start', '--config', file('port.json', '{"node_id": "a", "port": "8000"}')],
    /port\.json: port: must be a whole number from 0 \(any free port\) to 65535, got "8000"$/,
  ],
  [
    [
      'start',
      '--config',
      file('boot.json', '{"node_id": "a", "bootstrap_nodes": [{"address": "h", "port": 0}]}'),
    ],
    /boot\.json: bootstrap_nodes\[0\]\.port: must be a whole number from 1 to 65535/,
  ],
  [
    ['start', '--config', file('key.json', '{"node_id": "a", "aes_key": "beef"}')],
    /key\.json: aes_key: must be 32 hex characters/,
  ],
  [
    ['start', '--config', file('noid.json', '{"port": 0}')],
    /a node ID is required: pass --id or DSN_ID, or set node_id in/,
  ],
  [['watch'], /^dsn watch: required option '-b, --bootstrap <host:port>' not specified$/],
  [['watch', '-b', '127.0.0.1'], /--bootstrap.*is invalid/],
  [['demo', '--sensors', '0'], /--sensors.*'0' is invalid\. Expected a whole number from 1 to 50/],
  [['demo', '--port', '65536'], /--port.*is invalid/],
  [['keygen', 'extra'], /too many arguments for 'keygen'/],
  [['launch'], /^dsn: unknown command 'launch'/],
];

describe('bad flags and bad config files', { concurrency: 8 }, () => {
  before(assertBuilt);
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [args, message] of USAGE_ERRORS) {
    it(`dsn ${args.join(' ').replace(dir, '<dir>')} → exit 2, one line`, async () => {
      const r = await runDsn(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `exactly one line:\n${r.stderr}`);
      assert.match(r.stderr.trimEnd(), message);
    });
  }

  it('a bad key in DSN_KEY is named as such and never echoed', async () => {
    const secretish = `${KEY.slice(0, 30)}`;
    const r = await runDsn(['start', '--id', 'a'], { DSN_KEY: secretish });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^dsn start: DSN_KEY must be 32 hex characters \(16 bytes\), got 30 characters/,
    );
    assert.ok(!r.stderr.includes(secretish));
  });

  it('--verbose adds the stack trace', async () => {
    const r = await runDsn(['start', '--config', join(dir, 'missing.json'), '--verbose']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read config file/);
    assert.match(r.stderr, /\n\s+at /);
  });

  it('a port already in use is a runtime failure: one line, exit 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runDsn([
        'start',
        '--id',
        'a',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--key',
        KEY,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^dsn start: .*\\b${port}\\b.* already in use.*\\n$`));
    } finally {
      taken.close();
    }
  });
});
