import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/net.js';

/**
 * Another project uses the package as installed: through package.json
 * `exports`, compiled JavaScript and .d.ts (npm test builds dist/ first).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the package as another project sees it', () => {
  const dir = tempDir('dsn-consumer-');
  after(() => dir.cleanup());
  mkdirSync(join(dir.path, 'node_modules'));
  symlinkSync(root, join(dir.path, 'node_modules', 'distributed-state-network'), 'dir');
  writeFileSync(
    join(dir.path, 'package.json'),
    JSON.stringify({ name: 'consumer', type: 'module', private: true }),
  );

  it('imports DSNodeServer, DSNodeConfig and generateKey and runs a node', () => {
    writeFileSync(
      join(dir.path, 'main.mjs'),
      `import { DSNodeServer, DSNodeConfig, generateKey } from 'distributed-state-network';
const config = DSNodeConfig.fromDict({ node_id: 'consumer', port: 0, credential_dir: null, aes_key: generateKey() });
const server = await DSNodeServer.start(config);
await server.node.updateData('k', 'v');
console.log(JSON.stringify({ peers: server.peers(), k: server.readData('consumer', 'k'), key: DSNodeServer.generateKey().length }));
await server.stop();
`,
    );
    const r = spawnSync(process.execPath, ['main.mjs'], { cwd: dir.path, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { peers: ['consumer'], k: 'v', key: 32 });
  });

  it('type-checks against the shipped .d.ts', () => {
    writeFileSync(
      join(dir.path, 'main.ts'),
      `import { DSNodeServer, type DSNodeConfigInit } from 'distributed-state-network';
const config: DSNodeConfigInit = { nodeId: 'a', port: 0, bootstrapNodes: [{ address: '127.0.0.1', port: 8000 }] };
export async function run(): Promise<string | null> {
  const server = await DSNodeServer.start(config, { onUpdate: (id: string) => void id });
  server.on('receive', (id: string, data: Uint8Array) => void [id, data]);
  return server.readData('b', 'k');
}
`,
    );
    writeFileSync(
      join(dir.path, 'tsconfig.json'),
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
        files: ['main.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: dir.path, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
