/**
 * Opening the store: SQLite (better-sqlite3) at ./data/cspulse.db by default, PostgreSQL when the
 * target is a postgres:// URL. Everything above this file is dialect-blind Kysely.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrate } from './migrations.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The raw SQLite connection, for the bulk loader (src/store/bulk.ts); undefined on PostgreSQL. */
  sqlite?: SQLite.Database;
  /** Where the data lives, with any password hidden: for messages. */
  location: string;
  close(): Promise<void>;
}

export const DEFAULT_SQLITE_PATH = 'data/cspulse.db';

/** Checkpoint every 64 MB of WAL, not every 4 MB: a bulk import syncs the file 16× less often. */
export const WAL_AUTOCHECKPOINT_PAGES = 16384;

/** --db flag, else DATABASE_URL, else the embedded default. */
export function resolveTarget(flag?: string): string {
  return flag || process.env.DATABASE_URL || DEFAULT_SQLITE_PATH;
}

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

// bigint (int8) and numeric come back from pg as strings; our values fit a double exactly.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export async function openStore(target = resolveTarget()): Promise<Store> {
  let store: Store;
  if (isPostgresUrl(target)) {
    const pool = new pg.Pool({ connectionString: target, max: 4 });
    // Fail fast with a clear message rather than on the first query.
    try {
      const client = await pool.connect();
      client.release();
    } catch (e) {
      await pool.end();
      throw new Error(`cannot connect to PostgreSQL at ${hidePassword(target)}: ${(e as Error).message}`);
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, dialect: 'postgres', location: hidePassword(target), close: () => db.destroy() };
  } else {
    const file = target.replace(/^sqlite:(\/\/)?/, '');
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    let sqlite: SQLite.Database;
    try {
      sqlite = new SQLite(file);
      sqlite.pragma('journal_mode = WAL');
    } catch (e) {
      throw new Error(`cannot open SQLite database ${file}: ${(e as Error).message}`);
    }
    // WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the last commits.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('temp_store = MEMORY');
    sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
    store = { db, dialect: 'sqlite', sqlite, location: file, close: () => db.destroy() };
  }
  await migrate(store.db as Kysely<unknown>);
  return store;
}

/**
 * Kysely prepares every query anew; preparing cost as much as running on the live ingest path
 * (a third of the server's time). The same SQL text gets the same statement, up to a bound, since
 * IN lists of every length make new texts. No query here streams, so a statement is never
 * iterated twice at once.
 */
function reusingStatements(sqlite: SQLite.Database, limit = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(text: string) {
      let st = cache.get(text);
      if (!st) {
        // Every transaction here writes, and more than one connection writes (the server's writer
        // and fact refresh run in threads of their own). A deferred BEGIN that reads first fails
        // with SQLITE_BUSY when another connection commits before its first write; IMMEDIATE
        // takes the write lock at once, waiting its turn (busy_timeout) instead.
        st = sqlite.prepare(text === 'begin' ? 'begin immediate' : text);
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(text, st);
      }
      return st;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

function hidePassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/**
 * Rows per multi-row INSERT: SQLite allows 32,766 bound parameters and PostgreSQL 65,535; stay
 * under both.
 */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.floor(30_000 / columns));
}
