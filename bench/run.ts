/**
 * `npm run bench`: import throughput and report latency, on SQLite and PostgreSQL, and how they
 * grow when the data grows 10×. Prints a Markdown section to append to bench/RESULTS.md.
 *
 *   BENCH_SCALE=small npm run bench   # a quick run (100k messages; report on 30×30 only)
 *   BENCH_FULL=1 npm run bench        # also 300 agents × 90 days (about 17M events; long)
 *   BENCH_ONLY=reports npm run bench  # report timings again on the databases left in bench/out
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { importFiles } from '../src/cli/import.ts';
import { demoRoster, generateDemo } from '../src/demo/generate.ts';
import { type Dataset, dataset, importDataset, freshPg, OUT, withPostgres } from './data.ts';
import { loadDemo } from '../src/demo/load.ts';
import { importRoster } from '../src/ingest/identities.ts';
import { runReport } from '../src/metrics/report.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { loadSettings } from '../src/store/settings.ts';
import { readEvents } from '../src/connectors/index.ts';
import { ensureRollups } from '../src/metrics/rollups.ts';
import { validateEvent } from '../src/model/events.ts';

const small = process.env.BENCH_SCALE === 'small';
/** BENCH_ONLY=reports: only the report timings, on the databases a previous run left in bench/out. */
const reportsOnly = process.env.BENCH_ONLY === 'reports';

function freshSqlite(name: string): string {
  const file = join(OUT, `${name}.db`);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  return file;
}

async function timeImport(
  target: string,
  d: Dataset,
): Promise<{ seconds: number; perSecond: number; peakRssMb: number }> {
  const store = await openStore(target);
  await importRoster(store, demoRoster({ agents: d.agents, days: d.days, seed: 7 }));
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  const r = await importFiles(store, [d.file], 'ndjson', { quiet: true });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  await store.close();
  if (r.rejected) throw new Error(`bench data rejected: ${JSON.stringify(r.rejects.slice(0, 3))}`);
  return { seconds, perSecond: d.messages / seconds, peakRssMb: peak / 2 ** 20 };
}

/** Median latency of a report by agent over the whole dataset (default metrics, medians included). */
async function timeReport(store: Store, runs = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await runReport(store, { by: ['agent'] });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** A demo team straight from the generator into SQLite (no file: 300 × 90 would be ~10 GB). */
async function loadTeam(
  target: string,
  agents: number,
  days: number,
): Promise<{ seconds: number; events: number }> {
  const store = await openStore(target);
  const t0 = performance.now();
  const events = await loadDemo(store, { agents, days, seed: 7, end: '2025-11-30' });
  await store.close();
  return { seconds: (performance.now() - t0) / 1000, events };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const million = small ? 100_000 : 1_000_000;
  say(
    `## ${new Date().toISOString().slice(0, 10)} — ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  say('');
  if (!reportsOnly) {
    say('### Import of canonical NDJSON (inbox + sessionising + facts)');
    say(
      '| data | messages | events | file MB | SQLite s | SQLite msg/s | SQLite peak RSS MB | PostgreSQL s | PostgreSQL msg/s |',
    );
    say('|---|---|---|---|---|---|---|---|---|');
    const sizes = [million / 10, million];
    await withPostgres(55432, async (admin) => {
      for (const size of sizes) {
        const d = await importDataset(size);
        const sqlitePath = freshSqlite(`import-${size}`);
        const s = await timeImport(sqlitePath, d);
        const p = await timeImport(await freshPg(admin, `bench_${size}`), d);
        say(
          `| ${fmt(size)} messages | ${fmt(d.messages)} | ${fmt(d.events)} | ${fmt(statSync(d.file).size / 2 ** 20, 1)} | ${fmt(s.seconds, 2)} | ${fmt(s.perSecond)} | ${fmt(s.peakRssMb)} | ${fmt(p.seconds, 2)} | ${fmt(p.perSecond)} |`,
        );
      }
    });
  }
  say('');
  say('### Report by agent (default metrics, incl. first-response median and p90), SQLite');
  say('| team × days | conversations | load s | rollup build s | report ms (median of 7) |');
  say('|---|---|---|---|---|');
  const teams: [number, number][] = small
    ? [[30, 30]]
    : process.env.BENCH_FULL
      ? [
          [30, 30],
          [300, 30],
          [300, 90],
        ]
      : [
          [30, 30],
          [300, 30],
        ];
  for (const [agents, days] of teams) {
    const name = `report-${agents}x${days}`;
    const reuse = reportsOnly && existsSync(join(OUT, `${name}.db`));
    const target = reuse ? join(OUT, `${name}.db`) : freshSqlite(name);
    const load = reuse ? { seconds: Number.NaN, events: 0 } : await loadTeam(target, agents, days);
    const store = await openStore(target);
    const conversations = Number(
      (
        await store.db
          .selectFrom('conversations')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    if (reuse) await store.db.deleteFrom('rollup_state').execute(); // time the build with this code
    const t0 = performance.now();
    await ensureRollups(store, await loadSettings(store));
    const build = (performance.now() - t0) / 1000;
    const ms = await timeReport(store);
    await store.close();
    say(
      `| ${agents} × ${days} | ${fmt(conversations)} | ${fmt(load.seconds, 1)} | ${fmt(build, 1)} | ${fmt(ms, 1)} |`,
    );
  }

  say('');
  say('### Parts');
  let t0 = performance.now();
  let n = 0;
  for (const b of generateDemo({ agents: 30, days: 30, seed: 7, end: '2025-11-30' })) n += b.length;
  say(`- demo generator: ${fmt(n / ((performance.now() - t0) / 1000))} events/s (30 × 30, ${fmt(n)} events)`);
  const d = await dataset(30, 30, million / 10);
  t0 = performance.now();
  let read = 0;
  const raws: unknown[] = [];
  for await (const batch of readEvents(d.file, 'ndjson')) {
    read += batch.items.length;
    for (const it of batch.items) raws.push(it.raw);
  }
  say(`- NDJSON reader: ${fmt(read / ((performance.now() - t0) / 1000))} lines/s`);
  t0 = performance.now();
  for (const raw of raws) validateEvent(raw);
  say(
    `- event validation (fast path, zod for the rest): ${fmt(raws.length / ((performance.now() - t0) / 1000))} events/s`,
  );
  console.log('\n(append the section above to bench/RESULTS.md)');
}

await main();
