#!/usr/bin/env node
// The initial-JavaScript budget: the entry chunk of index.html and every chunk it imports
// statically (transitively; dynamic imports load later), gzipped at level 9, must stay within
// 150 KiB. Run after `npm run build`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifestPath = join(dist, '.vite', 'manifest.json');

let manifest;
try {
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
} catch (error) {
  console.error(`budget: cannot read ${manifestPath} (${error.message}); run npm run build first`);
  process.exit(1);
}

const entryKey = Object.keys(manifest).find((key) => manifest[key].isEntry && key.endsWith('index.html'))
  ?? (manifest['index.html'] ? 'index.html' : undefined);
if (!entryKey) {
  console.error('budget: the manifest has no index.html entry');
  process.exit(1);
}

const seen = new Set();
const files = [];
(function visit(key) {
  if (seen.has(key)) return;
  seen.add(key);
  const chunk = manifest[key];
  if (!chunk) throw new Error(`budget: manifest has no chunk ${key}`);
  if (chunk.file.endsWith('.js')) files.push(chunk.file);
  for (const imported of chunk.imports ?? []) visit(imported);
})(entryKey);

let total = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(8)} KiB  ${file}`);
}
const verdict = total <= BUDGET ? 'within' : 'OVER';
console.log(
  `initial JS: ${(total / 1024).toFixed(1)} KiB gzipped in ${files.length} file(s), ${verdict} the budget of ${BUDGET / 1024} KiB`,
);
process.exit(total <= BUDGET ? 0 : 1);
