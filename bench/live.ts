/**
 * What the live-path benches share: a real `cspulse serve` process on a fresh SQLite file or
 * PostgreSQL database, signed webhook bodies made before the clock starts, and a load generator
 * on raw keep-alive sockets (`postAll`; the generator shares the machine's two cores with the
 * server).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../src/store/db.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../test/support/embedded-postgres.ts';

export const CURRENT_BIN = join(import.meta.dirname, '../bin/cspulse.js');
export const SECRET = 'bench';

export type Dialect = 'sqlite' | 'postgres';

let pgServer: EmbeddedPostgres | undefined;

/** A throwaway PostgreSQL server (embedded-postgres, as the tests use), started once. */
async function postgresAdmin(): Promise<string> {
  if (process.env.BENCH_PG_URL) return process.env.BENCH_PG_URL;
  pgServer ??= await startEmbeddedPostgres(39700 + (process.pid % 90), { prefix: 'cspulse-bench-pg' });
  return pgServer.url;
}

export async function stopPostgres(): Promise<void> {
  await pgServer?.stop();
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

/**
 * Messages per conversation in the load (BENCH_CONVERSATION_MESSAGES, default 12); 0 = the load
 * before 2026-12-03 evening, where each of the 2,000 customers wrote every 200 s for the whole run:
 * one endless conversation each (hundreds of messages over hours), which no team sees.
 */
const PER_CONVERSATION = Number(process.env.BENCH_CONVERSATION_MESSAGES ?? 12);

/**
 * One event of the load: 2,000 chats open at once, a message every 100 ms among them (one every
 * 200 s in a chat, the agent every third). A chat ends after PER_CONVERSATION messages and the
 * next customer takes its place, from a pool of three times as many, so a customer comes back
 * two chats later (after more than the idle timeout): a new conversation in the same thread.
 */
export function loadEvent(n: number, customers = 2000) {
  const slot = n % customers;
  const round = PER_CONVERSATION ? Math.floor(n / (customers * PER_CONVERSATION)) : 0;
  return {
    kind: 'message',
    id: `w${n}`,
    ts: 1762135200000 + n * 100,
    channel: 'web',
    customer: { id: `c${((round % 3) * customers + slot).toString()}` },
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
 * Post the bodies, each once, over `connections` keep-alive connections, one request in flight on
 * each; `rate` (requests/s over all connections) holds a steady pace instead of as fast as answered.
 *
 * Raw sockets, not autocannon: each request is its bytes, built before the clock starts, and an
 * answer is read only as far as its status and length. The generator shares the two cores with the
 * server; autocannon's per-request work (a request object, an HTTP parser, a histogram) took 0.08 ms
 * of CPU an event, this takes about a third of it (bench/RESULTS.md, 2026-12-03).
 */
export async function postAll(
  port: number,
  sourceId: string,
  bodies: { body: string; signature: string }[],
  o: { connections: number; rate?: number },
): Promise<LoadResult> {
  const requests = bodies.map((b) => {
    const body = Buffer.from(b.body);
    const head =
      `POST /ingest/${sourceId} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
      `x-cspulse-signature: ${b.signature}\r\ncontent-length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head), body]);
  });
  const latencies = new Float64Array(requests.length);
  let next = 0;
  let answered = 0;
  let ok = 0;
  let refused = 0;
  let other = 0;
  let errors = 0;
  const t0 = performance.now();
  const waiting: (() => void)[] = [];
  // Paced: request n may leave at t0 + n / rate; connections with nothing allowed wait for the tick.
  const pace = o.rate
    ? setInterval(() => {
        for (const go of waiting.splice(0)) go();
      }, 5)
    : undefined;
  const allowed = () => !o.rate || next < ((performance.now() - t0) / 1000) * o.rate;

  await new Promise<void>((resolve) => {
    let open = o.connections;
    const finished = () => {
      if (--open === 0) resolve();
    };
    for (let c = 0; c < o.connections; c++) {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      let pending: Buffer | undefined;
      let sentAt = 0;
      const send = () => {
        if (next >= requests.length) {
          socket.end();
          return;
        }
        if (!allowed()) {
          waiting.push(send);
          return;
        }
        sentAt = performance.now();
        socket.write(requests[next++]!);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        pending = pending ? Buffer.concat([pending, chunk]) : chunk;
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = pending.toString('latin1', 0, end);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          pending = pending.subarray(end + 4 + length);
          const status = Number(head.slice(9, 12));
          if (status === 200) ok++;
          else if (status === 503) refused++;
          else other++;
          latencies[answered++] = performance.now() - sentAt;
          if (!pending.length) pending = undefined;
          send();
          if (!pending) return;
        }
      });
      socket.on('error', () => {
        errors++;
      });
      socket.on('close', finished);
    }
  });
  clearInterval(pace);
  const seconds = (performance.now() - t0) / 1000;
  const sorted = latencies.subarray(0, answered).sort();
  const at = (q: number) =>
    answered ? Math.round(sorted[Math.min(answered - 1, Math.floor(q * answered))]!) : 0;
  return {
    seconds,
    ok,
    refused,
    other,
    errors: errors + requests.length - answered,
    p50: at(0.5),
    p99: at(0.99),
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
