import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/net.js';

/**
 * The package as npm would publish it: `npm pack`, unpacked into the
 * node_modules of a project of its own, which uses it from CommonJS and
 * from an ES module. Only what package.json "files" ships is there.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** Starts a node on a free port, writes and reads a key, stops; prints what it saw. */
const RUN = `const config = DSNodeConfig.fromDict({ node_id: 'consumer', port: 0, credential_dir: null, aes_key: generateKey() });
  const server = await DSNodeServer.start(config);
  await server.updateData('k', 'v');
  const seen = { port: server.port > 0, peers: server.peers(), k: server.readData('consumer', 'k') };
  await server.stop();
  console.log(JSON.stringify({ ...seen, stopped: server.isShutDown() }));`;
const SEEN = { port: true, peers: ['consumer'], k: 'v', stopped: true };

describe('the packed package in a consumer project', () => {
  const dir = tempDir('dsn-pack-');
  const consumer = join(dir.path, 'consumer');
  const installed = join(consumer, 'node_modules', 'distributed-state-network');
  let files: string[] = [];
  after(() => dir.cleanup());

  before(() => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the feet of the
    // tests running beside this one; npm test has built it already.
    const packed = spawnSync(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.path],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info);
    files = info.files.map((f) => f.path);
    mkdirSync(installed, { recursive: true });
    const tar = spawnSync('tar', [
      '-xzf',
      join(dir.path, info.filename),
      '-C',
      installed,
      '--strip-components=1',
    ]);
    assert.equal(tar.status, 0, String(tar.stderr));
    // Its dependencies as npm install would fetch them, from this checkout
    // (tests do not download).
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      symlinkSync(join(root, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
    }
    // No "type": a CommonJS project, as most that require() are.
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true }),
    );
  });

  it('ships the builds, the declarations, the licence, the README and the protocol', () => {
    for (const f of [
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/cli/main.js',
      'LICENSE',
      'README.md',
      'docs/PROTOCOL.md',
      'package.json',
    ]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.ok(!files.some((f) => /^(src|test|bench|scripts)\//.test(f)), files.join('\n'));
  });

  it('the README links relatively only to files in the package (npm shows it without the rest)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    assert.ok(targets.length > 3, 'found the links');
    const relative = targets.filter((t) => !/^(https?:|mailto:|#)/.test(t));
    const missing = relative.filter((t) => !files.includes(t.replace(/#.*$/, '')));
    assert.deepEqual(missing, [], 'relative links to files npm does not ship');
    for (const t of targets.filter((t) => t.includes('github'))) {
      assert.match(
        t,
        /^https:\/\/(github\.com|raw\.githubusercontent\.com)\/language-pipes\/distributed-state-network-ts\//,
      );
    }
  });

  it('require() from a .cjs file loads the CommonJS build and runs a node', () => {
    writeFileSync(
      join(consumer, 'main.cjs'),
      `const { DSNodeServer, DSNodeConfig, generateKey } = require('distributed-state-network');
if (!require.resolve('distributed-state-network').endsWith('index.cjs')) throw new Error('not the CommonJS build');
(async () => {
  ${RUN}
})();
`,
    );
    const r = spawnSync(process.execPath, ['main.cjs'], { cwd: consumer, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Node 20.19+ could require() the ES build too, but warns: the CommonJS build does not.
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), SEEN);
  });

  it('import from a .mjs file loads the ES build and runs a node', () => {
    writeFileSync(
      join(consumer, 'main.mjs'),
      `import { DSNodeServer, DSNodeConfig, generateKey } from 'distributed-state-network';
if (!import.meta.resolve('distributed-state-network').endsWith('index.js')) throw new Error('not the ES build');
${RUN}
`,
    );
    const r = spawnSync(process.execPath, ['main.mjs'], { cwd: consumer, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), SEEN);
  });

  it('the CommonJS declarations type-check a .cts file', () => {
    writeFileSync(
      join(consumer, 'main.cts'),
      `import { DSNodeServer, type DSNodeConfigInit, DsnError } from 'distributed-state-network';
const config: DSNodeConfigInit = { nodeId: 'a', port: 0 };
export async function run(): Promise<string | null> {
  const server = await DSNodeServer.start(config, { onAlert: (m: string) => void m });
  server.on('update', (id: string) => void id);
  return server.readData('b', 'k');
}
export const isDsn = (e: unknown): e is DsnError => e instanceof DsnError;
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['main.cts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', '.', '--listFiles'], {
      cwd: consumer,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /distributed-state-network\/dist\/index\.d\.cts$/m, 'read the .d.cts');
    assert.doesNotMatch(r.stdout, /distributed-state-network\/dist\/.*\.d\.ts$/m, 'and no .d.ts');
  });
});
