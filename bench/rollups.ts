/**
 * `npm run bench:rollups`: what the first report after a small change costs — a late conversation
 * arriving through the live path — with the rollups rebuilt for the changed day and its month
 * (now) against rebuilt whole (before), in the same run on the same database. The report is the
 * default report by agent over the month, as `cspulse report` runs it. Prints a Markdown section
 * for bench/RESULTS.md.
 *
 *   BENCH_AGENTS=30 BENCH_DAYS=30 BENCH_ROUNDS=5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadDemo } from '../src/demo/load.ts';
import { accept, refreshFacts } from '../src/ingest/pipeline.ts';
import { runReport } from '../src/metrics/report.ts';
import { parseTimestamp } from '../src/model/time.ts';
import { openStore } from '../src/store/db.ts';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 30);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'cspulse-bench-rollups-'));
const store = await openStore(join(dir, 'bench.db'));
const t0 = performance.now();
await loadDemo(store, { agents: AGENTS, days: DAYS, seed: 7, end: '2025-11-30' });
const loadS = (performance.now() - t0) / 1000;
const { conversations } = (await store.db
  .selectFrom('conversations')
  .select((eb) => eb.fn.countAll<number>().as('conversations'))
  .executeTakeFirstOrThrow()) as { conversations: number };
const report = () => runReport(store, { by: ['agent'], from: '2025-11-01', to: '2025-11-30' });
await report();

/** One late conversation on 2025-11-20, through the same accept and refresh as a webhook. */
let n = 0;
async function lateConversation(): Promise<void> {
  const id = `bench-late-${++n}`;
  const start = parseTimestamp('2025-11-20 15:00:00', 'Asia/Shanghai')! + n * 60_000;
  const base = { source: 'bench', channel: 'web', conversationId: id };
  const events = [
    {
      ...base,
      kind: 'message',
      id: `${id}m`,
      ts: start,
      role: 'customer',
      customer: { id: `c-${id}` },
      text: '在吗',
    },
    {
      ...base,
      kind: 'message',
      id: `${id}r`,
      ts: start + 40_000,
      role: 'agent',
      account: 'a001',
      text: '在的',
    },
  ];
  await accept(
    store,
    events.map((raw, i) => ({ line: i + 1, raw })),
    'bench',
  );
  await refreshFacts(store);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const days: number[] = [];
const whole: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  await lateConversation();
  let t = performance.now();
  await report();
  days.push(performance.now() - t);
  // The same change again, with the rollups forced whole, as every report after a change did before.
  await lateConversation();
  await store.db.deleteFrom('rollup_state').execute();
  t = performance.now();
  await report();
  whole.push(performance.now() - t);
}
const t1 = performance.now();
await report();
const current = performance.now() - t1;
await store.close();
rmSync(dir, { recursive: true, force: true });

const ms = (v: number) => Math.round(v).toLocaleString('en-US');
console.log(
  [
    `## ${new Date().toISOString().slice(0, 10)} — the first report after a late conversation, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version} (\`npm run bench:rollups\`)`,
    '',
    `Demo ${AGENTS} agents × ${DAYS} days (${conversations.toLocaleString('en-US')} conversations, loaded in ${loadS.toFixed(1)} s), SQLite. Report by agent over November 2025; each round one late conversation on 2025-11-20 is accepted and its facts refreshed, then the report is timed. Median of ${ROUNDS} rounds each.`,
    '',
    '| rollups after the change | report ms (median) | all rounds |',
    '| --- | --- | --- |',
    `| rebuilt for the changed day and its month (now) | ${ms(median(days))} | ${days.map(ms).join(', ')} |`,
    `| rebuilt whole (before) | ${ms(median(whole))} | ${whole.map(ms).join(', ')} |`,
    `| no change (rollups current) | ${ms(current)} | |`,
    '',
    `Load average during the run: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} (1, 5, 15 min).`,
  ].join('\n'),
);
