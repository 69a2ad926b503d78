import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrations.ts';

describe('migration 003: events into event blocks', () => {
  it('keeps every event accepted before, and its identity as a duplicate key', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    await migrate(db, '002_rollup_state');
    const event = (id: string, thread: string) => ({
      source: 'demo',
      ext_id: id,
      kind: 'message',
      ts: 1762324200000,
      channel: 'web',
      thread,
      customer_id: 'c1',
      account: null,
      payload: JSON.stringify({ id, source: 'demo', kind: 'message', ts: 1762324200000, channel: 'web' }),
      received_at: 1,
    });
    await sql`insert into events ${sql.raw('(source, ext_id, kind, ts, channel, thread, customer_id, account, payload, received_at)')}
      values ${sql.join(
        [event('m1', 'web|@c1'), event('m2', 'web|@c1'), event('m3', 'web|@c2')].map(
          (e) => sql`(${sql.join(Object.values(e))})`,
        ),
      )}`.execute(db);
    await migrate(db);
    const ids = await sql<{ ext_id: string }>`select ext_id from event_ids order by ext_id`.execute(db);
    expect(ids.rows.map((r) => r.ext_id)).toEqual(['m1', 'm2', 'm3']);
    const blocks = await sql<{
      thread: string;
      events: string;
    }>`select thread, events from event_blocks`.execute(db);
    const byThread = new Map<string, string[]>();
    for (const b of blocks.rows)
      for (const e of JSON.parse(b.events) as { id: string }[])
        byThread.set(b.thread, [...(byThread.get(b.thread) ?? []), e.id]);
    expect(Object.fromEntries(byThread)).toEqual({ 'web|@c1': ['m1', 'm2'], 'web|@c2': ['m3'] });
    await expect(sql`select 1 from events`.execute(db)).rejects.toThrow(/no such table/);
    await db.destroy();
  });
});
