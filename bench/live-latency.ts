/**
 * `npm run bench:live-latency`: from a webhook POST to the event showing in the report API, while
 * other webhooks arrive at a steady rate. A real `cspulse serve` process on a fresh store; this
 * process sends the load (raw keep-alive sockets at a fixed rate), and every 100 ms a probe: a customer's
 * message and the agent's reply on a day of their own (in 2024, apart from the load's days). A
 * poller asks `GET /api/report?by=day` over the probes' days again and again, as a dashboard
 * would; a probe's latency runs from the moment its POST was sent to the answer of the first
 * report that counts its conversation.
 *
 *   BENCH_RATES=1000,2500,5000  load in events/s, one run each (default 1000,2500,4000)
 *   BENCH_SECONDS=20            load per run
 *   BENCH_DB=sqlite|postgres
 *   BENCH_BIN=PATH              another checkout's bin/cspulse.js (default this one)
 */
import { cpus } from 'node:os';
import {
  CURRENT_BIN,
  type Dialect,
  freshSource,
  type LoadResult,
  postAll,
  serve,
  sign,
  signedBodies,
  stopPostgres,
} from './live.ts';

const RATES = (process.env.BENCH_RATES ?? '1000,2500,4000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const DIALECT = (process.env.BENCH_DB ?? 'sqlite') as Dialect;
const BIN = process.env.BENCH_BIN ?? CURRENT_BIN;
const PROBE_EVERY_MS = 100;
const POLL_PAUSE_MS = 10;
const DAY = 86_400_000;
const FIRST_DAY = Date.UTC(2024, 0, 1);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Probe i: a conversation on day i of 2024 (10:00 and 10:01 in China, the default time zone). */
function probeBody(i: number): string {
  const at = FIRST_DAY + i * DAY + 2 * 3_600_000;
  return JSON.stringify([
    {
      kind: 'message',
      id: `p${i}`,
      ts: at,
      channel: 'web',
      customer: { id: `probe${i}` },
      role: 'customer',
      text: '我的订单还没发货,麻烦查一下',
    },
    {
      kind: 'message',
      id: `p${i}r`,
      ts: at + 60_000,
      channel: 'web',
      customer: { id: `probe${i}` },
      role: 'agent',
      account: 'probe',
      text: '您好,已为您查询',
    },
  ]);
}

const quantile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : Number.NaN;

async function run(rate: number) {
  const { target, sourceId, drop } = await freshSource(DIALECT, BIN);
  const port = 39810;
  const server = await serve(BIN, target, port, process.env.BENCH_PROF);
  const base = `http://127.0.0.1:${port}`;
  const probes = Math.floor((SECONDS * 1000) / PROBE_EVERY_MS);
  const sentAt = new Map<string, number>();
  const seenAfter = new Map<string, number>();
  let probeErrors = 0;
  let reports = 0;
  const reportMs: number[] = [];
  try {
    const load = signedBodies(rate * SECONDS, 1);
    const loading: Promise<LoadResult> = postAll(port, sourceId, load, { connections: 64, rate });
    let probing = true;
    const t0 = performance.now();
    const poller = (async () => {
      const to = isoDay(FIRST_DAY + probes * DAY);
      while (probing || seenAfter.size < sentAt.size) {
        const t = performance.now();
        const r = await fetch(`${base}/api/report?from=2024-01-01&to=${to}&by=day&metrics=conversations`);
        const body = (await r.json()) as {
          rows?: { key: { day: string }; metrics: { conversations: number } }[];
        };
        const now = performance.now();
        reports++;
        reportMs.push(now - t);
        for (const row of body.rows ?? [])
          if (row.metrics.conversations > 0 && sentAt.has(row.key.day) && !seenAfter.has(row.key.day))
            seenAfter.set(row.key.day, now - sentAt.get(row.key.day)!);
        if (!probing && now - t0 > (SECONDS + 10) * 1000) break;
        await sleep(POLL_PAUSE_MS);
      }
    })();
    for (let i = 0; i < probes; i++) {
      const due = t0 + i * PROBE_EVERY_MS;
      if (due > performance.now()) await sleep(due - performance.now());
      const body = probeBody(i);
      const day = isoDay(FIRST_DAY + i * DAY);
      sentAt.set(day, performance.now());
      void fetch(`${base}/ingest/${sourceId}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-cspulse-signature': sign(body) },
      }).then(
        (r) => {
          if (r.status !== 200) probeErrors++;
          return r.arrayBuffer();
        },
        () => probeErrors++,
      );
    }
    probing = false;
    const loaded = await loading;
    await poller;
    const lat = [...seenAfter.values()].sort((a, b) => a - b);
    const never = sentAt.size - seenAfter.size;
    const within1s = lat.filter((l) => l <= 1000).length / sentAt.size;
    reportMs.sort((a, b) => a - b);
    console.log(
      `${String(rate).padStart(5)} events/s asked, ${Math.round(loaded.ok / loaded.seconds)} acknowledged ` +
        `(POST p99 ${loaded.p99} ms, 503s ${loaded.refused}) → ${DIALECT}: ` +
        `${sentAt.size} probes, POST→report p50 ${quantile(lat, 0.5).toFixed(0)} ms, ` +
        `p99 ${quantile(lat, 0.99).toFixed(0)} ms, max ${quantile(lat, 1).toFixed(0)} ms, ` +
        `within 1 s ${(within1s * 100).toFixed(1)}%, never seen ${never}, failed probes ${probeErrors}; ` +
        `${reports} reports, report p50 ${quantile(reportMs, 0.5).toFixed(0)} ms, p99 ${quantile(reportMs, 0.99).toFixed(0)} ms`,
    );
  } finally {
    await server.stop();
    await drop();
  }
}

console.log(
  `POST → report latency: ${SECONDS} s per rate, a probe every ${PROBE_EVERY_MS} ms; ` +
    `${cpus().length} cores, ${cpus()[0]?.model}, Node ${process.version}`,
);
try {
  for (const rate of RATES) await run(rate);
} finally {
  await stopPostgres();
}
