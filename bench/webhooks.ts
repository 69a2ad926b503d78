/**
 * `npm run bench:webhooks`: sustained webhook ingestion. A real `cspulse serve` process on a fresh
 * SQLite file; this process is the load generator on loopback (64 connections, one event per
 * request, each signed as a platform would). Prints events/s and latency percentiles.
 *
 *   BENCH_EVENTS=20000 npm run bench:webhooks
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSource } from '../src/ingest/sources.ts';
import { openStore } from '../src/store/db.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONNECTIONS = 64;
const dir = mkdtempSync(join(tmpdir(), 'cspulse-bench-wh-'));
const db = join(dir, 'live.db');
const store = await openStore(db);
const src = await addSource(store, { platform: 'generic', name: 'bench', secret: 'bench' });
await store.close();

const port = 39800;
const child = spawn(
  process.execPath,
  [
    // BENCH_PROF=DIR: a CPU profile of the server, written when it stops.
    ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []),
    join(import.meta.dirname, '../bin/cspulse.js'),
    'serve',
    '--port',
    String(port),
    '--db',
    db,
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise<void>((resolve) => {
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('webhooks:')) resolve();
  });
});

const bodies = Array.from({ length: EVENTS }, (_, n) => {
  const body = JSON.stringify({
    kind: 'message',
    id: `w${n}`,
    ts: 1762135200000 + n * 100,
    channel: 'web',
    customer: { id: `c${n % 2000}` },
    role: n % 3 ? 'customer' : 'agent',
    ...(n % 3 ? {} : { account: `a${n % 30}` }),
    text: `消息 ${n}`,
  });
  return { body, signature: `sha256=${createHmac('sha256', 'bench').update(body).digest('hex')}` };
});

const latencies: number[] = [];
let next = 0;
let refused = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (next < bodies.length) {
      const b = bodies[next++]!;
      for (;;) {
        const s = performance.now();
        const r = await fetch(`http://127.0.0.1:${port}/ingest/${src.id}`, {
          method: 'POST',
          body: b.body,
          headers: { 'content-type': 'application/json', 'x-cspulse-signature': b.signature },
        });
        await r.arrayBuffer();
        if (r.status === 200) {
          latencies.push(performance.now() - s);
          break;
        }
        refused++;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
console.log(
  `webhooks → SQLite: ${EVENTS} events in ${seconds.toFixed(1)} s = ${Math.round(EVENTS / seconds)} events/s; ` +
    `latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; refused (503) ${refused}; ${cpus().length} cores, ${cpus()[0]?.model}`,
);
