/** Real stores for tests: a fresh SQLite file, or a fresh database on the test PostgreSQL server. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function freshStore(dialect: TestDialect): Promise<Store> {
  return openStore(await freshTarget(dialect));
}
