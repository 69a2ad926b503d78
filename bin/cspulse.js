#!/usr/bin/env node
// The compiled dist/ when it was built from the sources as they are now (`npm install` and
// `npm start` build it); else the TypeScript sources through tsx, so an edited checkout never runs
// stale code. dist/ saves tsx's loader thread (~37 MB) and its start-up in every process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILD_STAMP, sourceFingerprint } from '../scripts/source-fingerprint.mjs';

// The bulk commands (and `start`, which loads the demo month into an empty database) allocate
// millions of short-lived objects (parsed events, fact rows). A young generation of 128 MB instead
// of 16 cuts the garbage collector's share: a 1M-message import took 34 s instead of 40
// (bench/RESULTS.md, 2026-12-03). V8 sizes it only as the process starts, so these commands run
// in a child started with the flag; the others keep the default (an export's memory budget is
// 200 MB).
const BULK_COMMANDS = new Set(['import', 'demo', 'start']);
const YOUNG_FLAG = '--max-semi-space-size=128';
if (BULK_COMMANDS.has(process.argv[2]) && !process.execArgv.includes(YOUNG_FLAG)) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, YOUNG_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // A signal to this process goes on to the child, and this one ends as the child did.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  });
} else if (distIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}

function distIsCurrent() {
  if (process.env.CSPULSE_FROM_SOURCE) return false;
  try {
    return readFileSync(BUILD_STAMP, 'utf8') === sourceFingerprint();
  } catch {
    return false;
  }
}

