/**
 * The live writer's refresh on SQLite keeps the events of the threads it refreshed (LiveThreads)
 * and reads only the blocks stored since: it must give exactly the facts of a one-shot import,
 * whatever the arrival batches, the cache's limit, and blocks replaced behind its back by another
 * connection (a merge of blocks, which makes SQLite hand a deleted id out again) or facts written
 * by another refresh (which the rows it remembers writing must not hide), while the writer
 * appends blocks on a connection of its own.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveThreads } from '../../src/ingest/live-threads.ts';
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, markAllDirty, refreshFacts } from '../../src/ingest/pipeline.ts';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import type { Store } from '../../src/store/db.ts';
import { openStore } from '../../src/store/db.ts';
import { freshTarget } from '../support/stores.ts';
import { eventArb, facts } from './random-events.ts';

const stores: Store[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

async function send(s: Store, events: CanonicalEventInput[], from = 0) {
  return accept(
    s,
    events.map((raw, i) => ({ line: from + i + 1, raw })),
    'live',
    'webhook',
  );
}

/** Another connection merges a thread's blocks into one (as a compaction would): same events. */
async function mergeBlocks(s: Store, thread: string) {
  const blocks = await s.db
    .selectFrom('event_blocks')
    .select(['id', 'events', 'received_at'])
    .where('thread', '=', thread)
    .orderBy('id')
    .execute();
  if (blocks.length < 2) return;
  const events = blocks.flatMap((b) => {
    const v = JSON.parse(b.events);
    return Array.isArray(v) ? v : v.e.map((e: object) => ({ ...v.c, ...e }));
  });
  await s.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('event_blocks').where('thread', '=', thread).execute();
    await tx
      .insertInto('event_blocks')
      .values({ thread, events: JSON.stringify(events), received_at: blocks[0]!.received_at })
      .execute();
  });
}

describe('live refresh from kept threads (SQLite)', () => {
  /** As in the server: the writer's connection, the refresh's, and another on the same file. */
  const store = async () => {
    const target = await freshTarget('sqlite');
    folders.push(dirname(target));
    const s = await openStore(target);
    const r = await openStore(target);
    const other = await openStore(target);
    stores.push(s, r, other);
    return { s, r, other, live: (limit?: number) => new LiveThreads(r.sqlite!, limit) };
  };

  /** A store with one live refresh that keeps threads, and customer c1's web chat to write into. */
  const liveStore = async () => {
    const st = await store();
    const live = st.live();
    return {
      ...st,
      live,
      refresh: () => refreshFacts(st.r, undefined, undefined, undefined, live),
      base: { kind: 'message', source: 'x', channel: 'web', customer: { id: 'c1' } } as const,
      t0: Date.UTC(2025, 10, 3, 2),
    };
  };

  it('reads each block once, and every thread whole again after blocks were deleted', async () => {
    const { s, other, live, refresh, base, t0 } = await liveStore();
    const counts = () => s.db.selectFrom('conversations').select(['messages_in', 'messages_out']).execute();
    await send(s, [{ ...base, id: 'm1', ts: t0, role: 'customer', text: '在吗' }]);
    await refresh();
    expect(live.events).toBe(1);
    // Emptied in place (nothing ever rewrites a block so): the kept copy counts, so the block was
    // not read again.
    s.sqlite!.prepare(`update event_blocks set events = '[]'`).run();
    await send(s, [{ ...base, id: 'm2', ts: t0 + 60_000, role: 'agent', account: 'a1', text: '您好' }]);
    await refresh();
    expect(live.events).toBe(2);
    expect(await counts()).toEqual([{ messages_in: 1, messages_out: 1 }]);
    // Another connection merges the thread's blocks (m1 gone, as emptied, and m2); SQLite hands the
    // merged block a deleted block's id, and m3 the other.
    const [thread] = await s.db.selectFrom('threads').select('thread').execute();
    await mergeBlocks(other, thread!.thread);
    await send(s, [{ ...base, id: 'm3', ts: t0 + 120_000, role: 'agent', account: 'a1', text: '再见' }]);
    await refresh();
    expect(live.events).toBe(2);
    expect(await counts()).toEqual([{ messages_in: 0, messages_out: 2 }]);
  });

  it('rewrites only what changed, and everything once another refresh wrote meanwhile', async () => {
    const { s, other, refresh, base, t0 } = await liveStore();
    const say = (id: string, minute: number, role: 'customer' | 'agent') =>
      send(s, [
        {
          ...base,
          id,
          ts: t0 + minute * 60_000,
          role,
          text: id,
          ...(role === 'agent' ? { account: 'a1' } : {}),
        },
      ]);
    const responses = async () =>
      (await s.db.selectFrom('responses').select('seq').orderBy('seq').execute()).map((x) => x.seq);

    await say('m1', 0, 'customer');
    await say('m2', 1, 'agent');
    await refresh();
    expect(await responses()).toEqual([0]);
    const firstRow = () => s.sqlite!.prepare('select rowid from responses where seq = 0').pluck().get();
    const before = firstRow();
    await say('m3', 2, 'customer');
    await say('m4', 3, 'agent');
    await refresh();
    expect(await responses()).toEqual([0, 1]);
    // The first response was left where it was: only the new one was written.
    expect(firstRow()).toBe(before);
    // Another process refreshes the thread after m6: the live refresh's memory of its rows is old.
    await say('m5', 4, 'customer');
    await say('m6', 5, 'agent');
    await refreshFacts(other);
    await say('m7', 6, 'customer');
    await say('m8', 7, 'agent');
    await refresh();
    expect(await responses()).toEqual([0, 1, 2, 3]);

    const once = await store();
    await send(
      once.s,
      ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'].map((id, i) => ({
        ...base,
        id,
        ts: t0 + i * 60_000,
        role: i % 2 ? ('agent' as const) : ('customer' as const),
        text: id,
        ...(i % 2 ? { account: 'a1' } : {}),
      })),
    );
    await refreshFacts(once.s);
    expect(await facts(s)).toEqual(await facts(once.s));
  });

  it('keeps of a sessionless thread only its last conversation, and still gives every fact', async () => {
    const { s, live, refresh, base, t0 } = await liveStore();
    const all: CanonicalEventInput[] = [];
    // Five conversations a day apart, each a question and an answer, refreshed one message at a time.
    for (let day = 0; day < 5; day++)
      for (const [k, role] of (['customer', 'agent'] as const).entries()) {
        const e: CanonicalEventInput = {
          ...base,
          id: `d${day}-${role}`,
          ts: t0 + day * 86_400_000 + k * 60_000,
          role,
          text: role,
          ...(role === 'agent' ? { account: 'a1' } : {}),
        };
        all.push(e);
        await send(s, [e]);
        await refresh();
      }
    // The last conversation's two events, and one for each of the four settled conversations.
    expect(live.events).toBe(2 + 4);
    const nextConversation = async () =>
      (
        await s.db.selectFrom('conversations').select(['id', 'next_conv_ts']).orderBy('start_ts').execute()
      ).map((c) => c.next_conv_ts);
    expect(await nextConversation()).toEqual([...[1, 2, 3, 4].map((d) => t0 + d * 86_400_000), null]);
    const sameAsOnce = async () => {
      const once = await store();
      await send(once.s, all);
      await refreshFacts(once.s);
      expect(await facts(s)).toEqual(await facts(once.s));
    };
    const firstRow = () =>
      s
        .sqlite!.prepare('select rowid from conversations where id like ? order by start_ts limit 1')
        .pluck()
        .get('%|0');
    // Another customer's conversation, written after: rows written again would come after it.
    const other: CanonicalEventInput = {
      ...base,
      id: 'c2',
      customer: { id: 'c2' },
      ts: t0 + 10 * 86_400_000,
      role: 'customer',
      text: 'hi',
    };
    all.push(other);
    await send(s, [other]);
    await refresh();
    const first = firstRow();
    // A sixth conversation nobody answers, then an order: it is credited to the fifth, settled by now.
    const more: CanonicalEventInput[] = [
      { ...base, id: 'd5-customer', ts: t0 + 5 * 86_400_000, role: 'customer', text: '在吗' },
      {
        kind: 'order',
        id: 'o1',
        source: 'x',
        channel: 'web',
        customer: { id: 'c1' },
        ts: t0 + 5 * 86_400_000 + 3_600_000,
        amount: 99,
      },
    ];
    for (const e of more) {
      all.push(e);
      await send(s, [e]);
      await refresh();
    }
    const converted = await s.db
      .selectFrom('conversations')
      .select('converted')
      .where('customer_id', '=', 'c1')
      .orderBy('start_ts')
      .execute();
    expect(converted.map((c) => c.converted)).toEqual([0, 0, 0, 0, 1, 0]);
    // Only the rows that changed were written again: the first conversation's is where it was.
    expect(firstRow()).toBe(first);
    await sameAsOnce();
    // A late message inside the second conversation: the thread is read whole again.
    const late: CanonicalEventInput = {
      ...base,
      id: 'late',
      ts: t0 + 86_400_000 + 30_000,
      role: 'customer',
      text: '还在吗',
    };
    all.push(late);
    await send(s, [late]);
    await refresh();
    await sameAsOnce();
    // The last conversation's event, the five settled, the order (a customer's orders are kept
    // whole) and the other customer's message.
    expect(live.events).toBe(1 + 5 + 1 + 1);
  });

  it('drops what it kept when who is who changes (a roster imported elsewhere)', async () => {
    const { s, other, refresh, base, t0 } = await liveStore();
    const say = (id: string, at: number, role: 'customer' | 'agent') =>
      send(s, [{ ...base, id, ts: t0 + at, role, text: id, ...(role === 'agent' ? { account: 'a1' } : {}) }]);
    await say('m1', 0, 'customer');
    await say('m2', 60_000, 'agent');
    await say('m3', 86_400_000, 'customer');
    await refresh();
    await importRoster(other, [{ name: '张三', accounts: [{ platform: '', account: 'a1' }] }]);
    await markAllDirty(other);
    await say('m4', 86_400_000 + 60_000, 'agent');
    await refresh();
    const agents = await s.db.selectFrom('conversations').select('agent_id').orderBy('start_ts').execute();
    const zhang = await s.db
      .selectFrom('agents')
      .select('id')
      .where('name', '=', '张三')
      .executeTakeFirstOrThrow();
    expect(agents.map((a) => a.agent_id)).toEqual([zhang.id, zhang.id]);
  });

  it('gives the facts of a one-shot import when events arrive almost in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (events, sizes, swaps) => {
          const once = await store();
          await send(once.s, events);
          await refreshFacts(once.s);

          const { s, r, live: make } = await store();
          const live = make();
          // In time order, but for a few events that arrive later than their time.
          const ordered = [...events].sort((a, b) => Number(a.ts) - Number(b.ts));
          for (const k of swaps) {
            const i = k % ordered.length;
            const [late] = ordered.splice(i, 1);
            ordered.splice(Math.min(ordered.length, i + 3), 0, late!);
          }
          let at = 0;
          for (let b = 0; at < ordered.length; b++) {
            const size = sizes[b % sizes.length]!;
            await send(s, ordered.slice(at, at + size), at);
            at += size;
            await refreshFacts(r, undefined, undefined, undefined, live);
          }
          expect(await facts(s)).toEqual(await facts(once.s));
          for (const x of stores.splice(0)) await x.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the facts of a one-shot import, whatever the arrival batches and other refreshes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        async (events, sizes, limit, merges, elsewhere) => {
          const once = await store();
          await send(once.s, events);
          await refreshFacts(once.s);

          const { s, r, other, live: make } = await store();
          const live = make(limit);
          const shuffled = [...events].sort(() => Math.random() - 0.5);
          let at = 0;
          for (let b = 0; at < shuffled.length; b++) {
            const size = sizes[b % sizes.length]!;
            await send(s, shuffled.slice(at, at + size), at);
            at += size;
            if (merges[b % merges.length]) {
              const any = await other.db.selectFrom('threads').select('thread').limit(1).executeTakeFirst();
              if (any) await mergeBlocks(other, any.thread);
            }
            // Now and then another process refreshes (an import's): the rows the live refresh
            // remembers writing are no longer what the store holds.
            if (elsewhere[b % elsewhere.length]) await refreshFacts(other);
            else await refreshFacts(r, undefined, undefined, undefined, live);
          }
          expect(live.events).toBeLessThanOrEqual(limit);
          expect(await facts(s)).toEqual(await facts(once.s));
          for (const x of stores.splice(0)) await x.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
