#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Builds dist/: declarations from tsc, JavaScript bundled by esbuild.
// Bundling matters for memory: a node process that loads ~40 separate ES
// modules carries ~7 MiB more RSS than one that loads a single file.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--emitDeclarationOnly'],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
});

// The library once more as one CommonJS file, for require(): Node before
// 20.19 cannot require an ES module, and from 20.19 on it warns when it does.
// import.meta.url (signing.ts loads the native binding relative to it) has
// no CommonJS counterpart: it becomes this file's URL.
await build({
  ...common,
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.cjs',
  format: 'cjs',
  define: { 'import.meta.url': '__dsn_import_meta_url' },
  banner: {
    js: "const __dsn_import_meta_url = require('node:url').pathToFileURL(__filename).href;",
  },
});

// Declarations for require(): in a "type": "module" package TypeScript reads
// every .d.ts as an ES module, so the CommonJS entry gets a .d.cts copy of
// each, importing the other copies (the command's own need none).
const RELATIVE_JS = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\.js\2/g;
for (const entry of readdirSync('dist', { recursive: true, withFileTypes: true })) {
  const dir = entry.parentPath ?? entry.path; // parentPath from Node 20.12 on
  if (!entry.isFile() || !entry.name.endsWith('.d.ts') || dir === join('dist', 'cli')) continue;
  const path = join(dir, entry.name);
  const text = readFileSync(path, 'utf8').replace(RELATIVE_JS, '$1$2$3.cjs$2');
  writeFileSync(path.replace(/\.d\.ts$/, '.d.cts'), text);
}
