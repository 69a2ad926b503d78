/**
 * `npm run bench:import-floor`: what an import of BENCH_SIZE messages (default 1,000,000) costs at
 * the least with the schema as it is, by parts, each measured alone:
 *
 * - the reader alone: the NDJSON file decoded, split and parsed (connectors/ndjson/reader.ts);
 * - the writes alone: the rows an import stored (event keys, event blocks, threads, dirty marks,
 *   facts) written again into a fresh database through the same bulk loader (store/bulk.ts), in
 *   transactions of the import's size, with nothing to compute: everything is ready in memory.
 *   Once with the schema's indexes, once without its secondary indexes (built after the load) to
 *   show their share.
 *
 * SQLite has one writer, so the writes alone bound an import from below whatever the other core
 * does. The rows come from the database `npm run bench:import` left (imported here when missing).
 */
import { existsSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { importFiles } from '../src/cli/import.ts';
import { readNdjson } from '../src/connectors/ndjson/reader.ts';
import { demoRoster } from '../src/demo/generate.ts';
import { importRoster } from '../src/ingest/identities.ts';
import {
  bulkInsert,
  clearMarks,
  insertBlocks,
  insertEventKeys,
  markGen,
  markThreads,
  registerThreads,
} from '../src/store/bulk.ts';
import { openStore, type Store } from '../src/store/db.ts';
import type { Database } from '../src/store/schema.ts';
import { exists, importDataset, OUT } from './data.ts';

const FACT_TABLES = ['conversations', 'segments', 'responses', 'conversation_tags', 'tickets'] as const;
/** Events per transaction, as the import's batches (DEFAULT_BATCH_SIZE). */
const PER_TRANSACTION = 100_000;

type Row = Record<string, unknown>;

interface Stored {
  sources: string[];
  ids: string[];
  blockThreads: string[];
  blocks: string[];
  threads: { thread: string; customer_id: string | null }[];
  facts: Record<(typeof FACT_TABLES)[number], Row[]>;
}

async function readStored(path: string): Promise<Stored> {
  const store = await openStore(path);
  const s = store.sqlite!;
  const keys = s.prepare('select source, ext_id from event_ids').raw().all() as [string, string][];
  const blocks = s.prepare('select thread, events from event_blocks order by id').raw().all() as [
    string,
    string,
  ][];
  const out: Stored = {
    sources: keys.map((k) => k[0]),
    ids: keys.map((k) => k[1]),
    blockThreads: blocks.map((b) => b[0]),
    blocks: blocks.map((b) => b[1]),
    threads: s.prepare('select thread, customer_id from threads').all() as Stored['threads'],
    facts: Object.fromEntries(
      FACT_TABLES.map((t) => [t, s.prepare(`select * from ${t}`).all() as Row[]]),
    ) as Stored['facts'],
  };
  await store.close();
  return out;
}

async function timed(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** The writes of an import, alone; seconds by part. */
async function writeAlone(
  d: Stored,
  target: string,
  secondaryIndexes: boolean,
): Promise<Record<string, number>> {
  for (const f of [target, `${target}-wal`, `${target}-shm`]) rmSync(f, { force: true });
  const store: Store = await openStore(target);
  const db = store.db as Kysely<Database>;
  const indexes = store
    .sqlite!.prepare("select name, sql from sqlite_master where type = 'index' and sql is not null")
    .all() as { name: string; sql: string }[];
  if (!secondaryIndexes) for (const i of indexes) store.sqlite!.exec(`drop index "${i.name}"`);
  const t: Record<string, number> = { keys: 0, blocks: 0, 'threads, marks': 0, facts: 0 };
  const tx = async (part: string, fn: (tx: Kysely<Database>) => Promise<unknown>) => {
    t[part]! += await timed(() => db.transaction().execute(fn));
  };
  const events = d.ids.length;
  for (let i = 0, b = 0; i < events; i += PER_TRANSACTION) {
    const end = Math.min(events, i + PER_TRANSACTION);
    const bEnd = Math.round((d.blocks.length * end) / events);
    await tx('keys', (tx) => insertEventKeys(store, tx, d.sources.slice(i, end), d.ids.slice(i, end)));
    await tx('blocks', (tx) =>
      insertBlocks(store, tx, d.blockThreads.slice(b, bEnd), d.blocks.slice(b, bEnd), 0),
    );
    await tx('threads, marks', async (tx) => {
      await markThreads(store, tx, d.blockThreads.slice(b, bEnd));
      const tEnd = Math.round((d.threads.length * end) / events);
      const part = d.threads.slice(Math.round((d.threads.length * i) / events), tEnd);
      await registerThreads(
        store,
        tx,
        part.map((r) => r.thread),
        part.map((r) => r.customer_id),
      );
    });
    b = bEnd;
  }
  // The refresh: facts in, marks out.
  for (const table of FACT_TABLES) {
    const rows = d.facts[table];
    for (let i = 0; i < rows.length; i += PER_TRANSACTION)
      // biome-ignore lint/suspicious/noExplicitAny: rows read back from the same table.
      await tx('facts', (tx) => bulkInsert(store, tx, table, rows.slice(i, i + PER_TRANSACTION) as any));
  }
  const gen = markGen();
  await tx('threads, marks', async (tx) => {
    await markThreads(store, tx, d.blockThreads, gen);
    await clearMarks(
      store,
      tx,
      [...new Set(d.blockThreads)].map((thread) => ({ thread, gen })),
    );
  });
  if (!secondaryIndexes)
    t['index build'] = await timed(() => {
      for (const i of indexes) store.sqlite!.exec(i.sql);
    });
  t.close = await timed(() => store.close());
  return t;
}

async function main(): Promise<void> {
  const size = Number(process.env.BENCH_SIZE ?? 1_000_000);
  const d = await importDataset(size);
  if (!exists(d)) throw new Error(`no dataset ${d.file}`);
  const source = join(OUT, `import-this-${size}.db`);
  if (!existsSync(source)) {
    const store = await openStore(source);
    await importRoster(store, demoRoster({ agents: d.agents, days: 30, seed: 7 }));
    await importFiles(store, [d.file], 'ndjson', { quiet: true });
    await store.close();
  }
  const fmt = (n: number) => n.toFixed(2);
  console.log(
    `## import floor, ${new Date().toISOString().slice(0, 10)} — ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    `\n${d.messages.toLocaleString('en-US')} messages, ${d.events.toLocaleString('en-US')} events\n`,
  );
  let lines = 0;
  const read = await timed(async () => {
    for await (const batch of readNdjson(d.file)) lines += batch.items.length;
  });
  console.log(
    `- the reader alone (decode, split, JSON.parse): ${fmt(read)} s for ${lines.toLocaleString('en-US')} lines`,
  );
  const stored = await readStored(source);
  const rows = FACT_TABLES.map((t) => `${t} ${stored.facts[t].length.toLocaleString('en-US')}`).join(', ');
  console.log(
    `- rows: ${stored.blocks.length.toLocaleString('en-US')} blocks, ${stored.threads.length.toLocaleString('en-US')} threads, ${rows}\n`,
  );
  const target = join(OUT, `import-floor-${size}.db`);
  const runs = [
    ['the schema as it is', await writeAlone(stored, target, true)],
    ['without secondary indexes, built after', await writeAlone(stored, target, false)],
  ] as const;
  const parts = [...new Set(runs.flatMap(([, t]) => Object.keys(t)))];
  console.log(`| SQLite writes alone | ${parts.join(' | ')} | total s | msg/s at most |`);
  console.log(`|---|${parts.map(() => '---|').join('')}---|---|`);
  for (const [name, t] of runs) {
    const total = Object.values(t).reduce((a, b) => a + b, 0);
    console.log(
      `| ${name} | ${parts.map((p) => (p in t ? fmt(t[p]!) : '')).join(' | ')} | ${fmt(total)} | ${Math.round(d.messages / total).toLocaleString('en-US')} |`,
    );
  }
  rmSync(target, { force: true });
}

await main();
