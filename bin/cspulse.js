#!/usr/bin/env node
// The compiled dist/ when it was built from the sources as they are now (`npm install` and
// `npm start` build it); else the TypeScript sources through tsx, so an edited checkout never runs
// stale code. dist/ saves tsx's loader thread (~37 MB) and its start-up in every process.
import { readFileSync } from 'node:fs';
import { BUILD_STAMP, sourceFingerprint } from '../scripts/source-fingerprint.mjs';

function distIsCurrent() {
  if (process.env.CSPULSE_FROM_SOURCE) return false;
  try {
    return readFileSync(BUILD_STAMP, 'utf8') === sourceFingerprint();
  } catch {
    return false;
  }
}

if (distIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
