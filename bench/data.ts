/** The bench datasets: demo teams written as canonical NDJSON (same generator and seed every run). */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDemo } from '../src/demo/generate.ts';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.ts';

export const OUT = join(import.meta.dirname, 'out');
mkdirSync(OUT, { recursive: true });

export interface Dataset {
  file: string;
  messages: number;
  events: number;
  agents: number;
  days: number;
}

/** Write a demo dataset as canonical NDJSON, stopping once it holds `messages` messages. */
export async function dataset(
  agents: number,
  days: number,
  maxMessages = Number.POSITIVE_INFINITY,
): Promise<Dataset> {
  const file = join(
    OUT,
    `demo-${agents}x${days}${Number.isFinite(maxMessages) ? `-${maxMessages}` : ''}.ndjson`,
  );
  const meta = `${file}.json`;
  if (existsSync(file) && existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as Dataset;
  const out = createWriteStream(file);
  let messages = 0;
  let events = 0;
  let full = false;
  for (const batch of generateDemo({ agents, days, seed: 7, end: '2025-11-30' })) {
    let chunk = '';
    for (const e of batch) {
      if (e.kind === 'message') {
        if (messages >= maxMessages) {
          full = true;
          break;
        }
        messages++;
      }
      events++;
      chunk += `${JSON.stringify(e)}\n`;
    }
    // The last batch's events up to the limit are written too (run.ts used to drop them).
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    if (full) break;
  }
  await new Promise<void>((r) => out.end(() => r()));
  const d = { file, messages, events, agents, days };
  writeFileSync(meta, JSON.stringify(d));
  return d;
}

/** The import dataset of `size` messages (about 14,800 messages per demo agent a month). */
export function importDataset(size: number): Promise<Dataset> {
  return dataset(Math.ceil(size / 14_000), 30, size);
}

export function exists(d: { file: string }): boolean {
  return existsSync(d.file);
}

/** A PostgreSQL for a bench: BENCH_DATABASE_URL, else a throwaway embedded server on `port`. */
export async function withPostgres<T>(port: number, fn: (url: string) => Promise<T>): Promise<T> {
  if (process.env.BENCH_DATABASE_URL) return fn(process.env.BENCH_DATABASE_URL);
  const pg = await startEmbeddedPostgres(port, { prefix: 'cspulse-bench-pg' });
  try {
    return await fn(pg.url);
  } finally {
    await pg.stop();
  }
}

/** An empty database `name` on the server `admin` points at (dropped first if it exists); its URL. */
export async function freshPg(admin: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`drop database if exists ${name}`);
  await c.query(`create database ${name}`);
  await c.end();
  return admin.replace(/\/[^/]*$/, `/${name}`);
}
