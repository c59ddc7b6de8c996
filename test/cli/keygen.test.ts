import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { assertBuilt, runDsn } from './helpers.js';

describe('dsn keygen, --help, --version', () => {
  before(assertBuilt);

  it('keygen prints one new 32-hex-character key and a newline, nothing else', async () => {
    const [a, b] = await Promise.all([runDsn(['keygen']), runDsn(['keygen'])]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^[0-9a-f]{32}\n$/);
      assert.equal(r.stderr, '');
    }
    assert.notEqual(a.stdout, b.stdout);
  });

  it('--help lists every command and exits 0', async () => {
    const r = await runDsn(['--help']);
    assert.equal(r.code, 0);
    for (const command of ['keygen', 'start', 'watch', 'demo'])
      assert.match(r.stdout, new RegExp(`\\b${command}\\b`));
  });

  it('every command has --help', async () => {
    for (const [command, flag] of [
      ['keygen', ''],
      ['start', '--bootstrap'],
      ['watch', '--once'],
      ['demo', '--sensors'],
    ] as const) {
      const r = await runDsn([command, '--help']);
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, new RegExp(`Usage: dsn ${command}`));
      assert.ok(r.stdout.includes(flag), `${command} --help mentions ${flag}`);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await runDsn(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('no command prints the usage on stderr and exits 2', async () => {
    const r = await runDsn([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: dsn/);
  });
});
