/**
 * Dirty marks when the refresh runs beside the accepts (the server's refresh thread): a refresh
 * clears a mark only as it read it, so an event accepted after the read keeps its thread marked
 * for the next refresh. And SQLite transactions take the write lock at once, so a refresh that
 * reads before it writes does not fail when another connection commits meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clearMarks, markGen, markThreads } from '../../src/store/bulk.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { DIALECTS, freshTarget } from '../support/stores.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const marked = async (s: Store) =>
  (await s.db.selectFrom('dirty_threads').select('thread').orderBy('thread').execute()).map((r) => r.thread);

describe.each(DIALECTS)('dirty marks (%s)', (dialect) => {
  it('a refresh clears only the marks as it read them', async () => {
    const target = await freshTarget(dialect);
    const writer = await openStore(target);
    const refresh = await openStore(target);
    stores.push(writer, refresh);

    await markThreads(writer, writer.db, ['t1', 't2', 't3']);
    const read = await refresh.db.selectFrom('dirty_threads').select(['thread', 'gen']).execute();
    expect(read).toHaveLength(3);
    // Accepted while the refresh computed: t2 is marked again, t4 for the first time.
    await markThreads(writer, writer.db, ['t2', 't4']);
    await clearMarks(refresh, refresh.db, read);
    expect(await marked(writer)).toEqual(['t2', 't4']);
  });

  it('generations rise and never repeat', () => {
    const gens = Array.from({ length: 10_000 }, () => markGen());
    for (let i = 1; i < gens.length; i++) expect(gens[i]).toBeGreaterThan(gens[i - 1]!);
    expect(Number.isSafeInteger(gens.at(-1))).toBe(true);
  });
});

describe('SQLite transactions beside another writer', () => {
  it('take the write lock at BEGIN, so one that reads first cannot find its snapshot stale', async () => {
    const target = await freshTarget('sqlite');
    const a = await openStore(target);
    const b = await openStore(target);
    stores.push(a, b);
    await markThreads(a, a.db, ['t0']);
    b.sqlite!.pragma('busy_timeout = 0');
    await a.db.transaction().execute(async (tx) => {
      await tx.selectFrom('dirty_threads').selectAll().execute();
      // With a deferred BEGIN, b would commit here and a's write below would fail (SQLITE_BUSY on
      // a stale snapshot). With BEGIN IMMEDIATE, b must wait (here: with no patience, it gives up).
      expect(() => b.sqlite!.prepare(`insert into dirty_threads (thread) values ('from-b')`).run()).toThrow(
        /locked|busy/i,
      );
      await tx.insertInto('dirty_threads').values({ thread: 'from-a' }).execute();
    });
    expect(await marked(a)).toEqual(['from-a', 't0']);
  });
});
