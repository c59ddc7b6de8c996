#!/usr/bin/env node
// Runs the test suites with Node's built-in runner, TypeScript through tsx.
// Usage: node scripts/test.mjs [unit|integration|interop|...]   (default: all)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suites = process.argv.slice(2);
const roots = suites.length > 0 ? suites.map((s) => join('test', s)) : ['test'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
for (const r of roots) walk(r);
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
// The CLI tests run the real executable from dist/: build first.
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const reporter = process.env.CI ? ['--test-reporter=spec'] : [];
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporter, ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
