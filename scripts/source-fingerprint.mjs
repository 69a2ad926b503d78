/**
 * What dist/ was built from: every source module and data file of src/ (tests excluded) with its
 * size and modification time. bin/cspulse.js compares it with dist/.built before trusting dist/.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SRC = join(root, 'src');
export const DIST = join(root, 'dist');
export const BUILD_STAMP = join(DIST, '.built');

/** Files dist/ is made of: modules (not tests) and the JSON data beside them. */
export function sourceFiles() {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json') || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')))
        found.push(p);
    }
  };
  walk(SRC);
  return found.sort();
}

export function sourceFingerprint(files = sourceFiles()) {
  const h = createHash('sha256');
  for (const f of files) {
    const s = statSync(f);
    h.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex');
}
