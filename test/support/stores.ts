/** Real stores for tests: a fresh SQLite file, or a fresh database on the test PostgreSQL server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../src/store/db.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

let counter = 0;

/** A connection string or path for an empty database of the given dialect. */
export async function freshTarget(dialect: TestDialect): Promise<string> {
  if (dialect === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'cspulse-')), 'test.db');
  const admin = inject('pgUrl');
  const name = `t_${process.pid}_${Date.now()}_${counter++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  return admin.replace(/\/[^/]*$/, `/${name}`);
}

/** A store on an empty database; closing a SQLite one also removes its folder. */
export async function freshStore(dialect: TestDialect): Promise<Store> {
  const target = await freshTarget(dialect);
  const store = await openStore(target);
  if (dialect !== 'sqlite') return store;
  const close = store.close;
  store.close = async () => {
    await close();
    rmSync(dirname(target), { recursive: true, force: true });
  };
  return store;
}
