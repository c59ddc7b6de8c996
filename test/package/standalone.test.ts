import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VECTORS_PATH } from '../helpers/vectors.js';

/**
 * A clone of this repository alone must build and pass its tests: nothing
 * may reach for the folder of shared material that sat beside the checkout
 * where the project began. (The pattern is written so as not to match itself.)
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUTSIDE = /\.\.[\\/]sh[a]red\b|\/work\/sh[a]red\b|['"]sh[a]red['"]/;
const SKIP = new Set(['node_modules', 'dist', '.git', '__pycache__']);

function* textFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* textFiles(path);
    else if (entry.isFile() && !/\.(png|jpe?g|gz|tgz)$/.test(entry.name)) yield path;
  }
}

describe('the repository stands alone', () => {
  it('no file in test/, bench/, scripts/ (nor src/, examples/, docs/, .ci/, the README) reaches outside', () => {
    const places = ['test', 'bench', 'scripts', 'src', 'examples', 'docs', '.ci', 'README.md'];
    const found: string[] = [];
    let read = 0;
    for (const place of places) {
      const path = join(root, place);
      if (!existsSync(path)) continue;
      const files = place.endsWith('.md') ? [path] : [...textFiles(path)];
      for (const file of files) {
        read++;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (OUTSIDE.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    assert.ok(read > 100, `read ${read} files`);
    assert.deepEqual(found, []);
  });

  it('the Python reference vectors are read from inside the repository', () => {
    assert.ok(!relative(root, VECTORS_PATH).startsWith('..'), VECTORS_PATH);
    assert.ok(existsSync(VECTORS_PATH));
  });

  it('the pattern finds what it is meant to', () => {
    const folder = ['sh', 'ared'].join(''); // not spelt out: this file would match itself
    for (const s of [
      `../${folder}/PROTOCOL.md`,
      `..\\${folder}\\vectors`,
      `/work/${folder}/vectors/python-reference-0.9.0.json`,
      `join(here, '..', '..', '..', '${folder}', 'vectors')`,
    ]) {
      assert.match(s, OUTSIDE);
    }
    assert.doesNotMatch(`'one ${folder} subscription'`, OUTSIDE);
  });
});
