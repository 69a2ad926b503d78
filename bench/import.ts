/**
 * `npm run bench:import`: import throughput only, this checkout against a baseline checkout in the
 * same run, on the same generated files (the machine may be shared: same-run figures compare).
 *
 *   BENCH_SIZES=100000,1000000 BENCH_DIALECTS=sqlite,postgres BENCH_BASELINE=../wt-base npm run bench:import
 *
 * Each import runs in a child process of its own (a fresh heap, and the baseline's modules
 * cannot mix with ours), with the V8 flags that checkout's `cspulse import` uses. BENCH_WORKER=1
 * reads the files in the import worker thread (off by default in the product). Prints a Markdown table to append to bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { exists, importDataset, freshPg, OUT, withPostgres } from './data.ts';

/** A PostgreSQL only when the run measures it. */
const maybePostgres = <T>(use: boolean, fn: (url: string | null) => Promise<T>): Promise<T> =>
  use ? withPostgres(55433, fn) : fn(null);

const here = resolve(import.meta.dirname, '..');

interface Timing {
  seconds: number;
  /** CPU time of all the process's threads: on a shared machine, less disturbed than the wall clock. */
  cpuSeconds: number;
  peakRssMb: number;
  accepted: number;
  conversations: number;
}

/** In the child: import `file` with the code of `root` into `target`. */
async function child(root: string, file: string, target: string, agents: number): Promise<void> {
  const { openStore } = await import(join(root, 'src/store/db.ts'));
  const { importFiles } = await import(join(root, 'src/cli/import.ts'));
  const { importRoster } = await import(join(root, 'src/ingest/identities.ts'));
  const { demoRoster } = await import(join(root, 'src/demo/generate.ts'));
  const store = await openStore(target);
  await importRoster(store, demoRoster({ agents, days: 30, seed: 7 }));
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await importFiles(store, [file], 'ndjson', {
    quiet: true,
    ...(process.env.BENCH_WORKER ? { workerMinBytes: 0 } : {}),
  });
  // Closing is part of the wait: it checkpoints what the import left in SQLite's WAL.
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  const check = await openStore(target);
  const conversations = Number(
    (
      await check.db
        .selectFrom('conversations')
        .select((eb: { fn: { countAll(): { as(n: string): unknown } } }) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  await check.close();
  if (r.rejected) throw new Error(`bench data rejected: ${JSON.stringify(r.rejects.slice(0, 3))}`);
  const out: Timing = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: peak / 2 ** 20,
    accepted: r.accepted,
    conversations,
  };
  process.stdout.write(`\nRESULT ${JSON.stringify(out)}\n`);
}

/** The V8 flags `cspulse import` runs with in that checkout (bin/cspulse.js), as the user gets them. */
function importFlags(root: string): string[] {
  const bin = readFileSync(join(root, 'bin/cspulse.js'), 'utf8');
  return bin.match(/--max-semi-space-size=\d+/g)?.slice(0, 1) ?? [];
}

function run(root: string, file: string, target: string, agents: number): Timing {
  const out = execFileSync(
    process.execPath,
    [
      ...importFlags(root),
      '--import',
      'tsx',
      import.meta.filename,
      '--child',
      root,
      file,
      target,
      String(agents),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from the import of ${file} with ${root}:\n${out}`);
  return JSON.parse(line.slice(7)) as Timing;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
  const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
  const roots: [string, string][] = [['this', here]];
  if (process.env.BENCH_BASELINE) roots.unshift(['baseline', resolve(process.env.BENCH_BASELINE)]);
  console.log(
    `## ${new Date().toISOString().slice(0, 10)} — ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  console.log('');
  console.log(
    '| code | database | messages | events | file MB | conversations | s | msg/s | CPU s | peak RSS MB | load before |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  await maybePostgres(dialects.includes('postgres'), async (admin) => {
    for (const size of sizes) {
      const d = await importDataset(size);
      if (!exists(d)) throw new Error(`no dataset ${d.file}`);
      for (const dialect of dialects) {
        for (const [name, root] of roots) {
          let target: string;
          if (dialect === 'sqlite') {
            target = join(OUT, `import-${name}-${size}.db`);
            for (const f of [target, `${target}-wal`, `${target}-shm`]) rmSync(f, { force: true });
          } else target = await freshPg(admin!, `bench_${name}_${size}`);
          // The machine is shared: the 1-minute load average says how much it was.
          const load = loadavg()[0]!;
          const t = run(root, d.file, target, d.agents);
          console.log(
            `| ${name} | ${dialect} | ${fmt(d.messages)} | ${fmt(d.events)} | ${fmt(statSync(d.file).size / 2 ** 20, 1)} | ${fmt(t.conversations)} | ${fmt(t.seconds, 2)} | ${fmt(d.messages / t.seconds)} | ${fmt(t.cpuSeconds, 1)} | ${fmt(t.peakRssMb)} | ${fmt(load, 1)} |`,
          );
        }
      }
    }
  });
}

if (process.argv[2] === '--child') {
  const [root, file, target, agents] = process.argv.slice(3) as [string, string, string, string];
  await child(root, file, target, Number(agents));
} else await main();
