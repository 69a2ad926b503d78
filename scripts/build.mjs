#!/usr/bin/env node
/**
 * Compiles src/ to plain JavaScript in dist/ (esbuild, one file per module, no bundling), so that
 * `cspulse` runs without a TypeScript loader: tsx's loader thread alone costs ~37 MB per process,
 * a fifth of the 300k-row workbook's memory budget (bench/RESULTS.md). Run by `npm install`
 * (prepare) and `npm start`; bin/cspulse.js falls back to the sources through tsx whenever dist/ is
 * older than them, so an edited checkout never runs stale code.
 *
 *   node scripts/build.mjs            build
 *   node scripts/build.mjs --if-stale build only when the sources changed since the last build
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILD_STAMP, DIST, SRC, sourceFingerprint, sourceFiles } from './source-fingerprint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv.includes('--if-stale')) {
  let built = '';
  try {
    built = readFileSync(BUILD_STAMP, 'utf8');
  } catch {}
  if (built === sourceFingerprint()) process.exit(0);
}

const started = performance.now();
const files = sourceFiles();
const fingerprint = sourceFingerprint(files);
rmSync(DIST, { recursive: true, force: true });
const modules = files.filter((f) => f.endsWith('.ts'));
const result = await build({
  entryPoints: modules,
  outdir: DIST,
  outbase: SRC,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'warning',
});
// The sources name each other with `.ts` (what tsx and tsc's allowImportingTsExtensions want);
// compiled, they are `.js`. Only relative specifiers: a package's name is never rewritten.
const specifier = /(["'`])(\.{1,2}\/[^"'`\s]*?)\.ts\1/g;
for (const out of result.outputFiles) {
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, out.text.replace(specifier, '$1$2.js$1'));
}
// Data the modules read beside themselves (the CSV field dictionaries).
for (const asset of files.filter((f) => !f.endsWith('.ts'))) {
  const to = join(DIST, relative(SRC, asset));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(asset, to);
}
writeFileSync(BUILD_STAMP, fingerprint);
const ms = Math.round(performance.now() - started);
console.log(`dist/: ${modules.length} modules compiled in ${ms} ms (${relative(root, DIST)})`);
