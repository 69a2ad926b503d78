/**
 * The inbox's promises: idempotent (the same events twice change nothing), independent of arrival
 * order and batching (shuffled input gives identical facts), incremental (a late event recomputes
 * only what it touches), and invariants of the metrics on random data (fast-check).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { accept, ImportCache, refreshFacts } from '../../src/ingest/pipeline.ts';
import { runReport } from '../../src/metrics/report.ts';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import type { Store } from '../../src/store/db.ts';
import { freshStore } from '../support/stores.ts';
import { eventArb, facts } from './random-events.ts';
import { scenario } from './scenario.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
async function store(): Promise<Store> {
  const s = await freshStore('sqlite');
  stores.push(s);
  return s;
}

/** Load in batches; with `cache`, the way a file import does (events kept in memory for the facts). */
async function load(
  s: Store,
  events: CanonicalEventInput[],
  batches = 1,
  refreshEach = false,
  cache?: ImportCache,
) {
  const size = Math.ceil(events.length / batches);
  for (let i = 0; i < events.length; i += size) {
    await accept(
      s,
      events.slice(i, i + size).map((raw, j) => ({ line: i + j + 1, raw })),
      'test',
      'import',
      cache,
    );
    if (refreshEach) await refreshFacts(s, undefined, undefined, cache);
  }
  await refreshFacts(s, undefined, undefined, cache);
}

describe('ingest', () => {
  it('is idempotent: the same events twice are all duplicates and change no fact', async () => {
    const s = await store();
    await load(s, scenario());
    const before = await facts(s);
    const r = await accept(
      s,
      scenario().map((raw, i) => ({ line: i + 1, raw })),
      'again',
    );
    expect(r).toMatchObject({ accepted: 0, duplicates: scenario().length });
    expect(await refreshFacts(s)).toBe(0); // nothing marked dirty
    expect(await facts(s)).toEqual(before);
  });

  it('counts duplicates inside one batch', async () => {
    const s = await store();
    const events = scenario();
    const r = await accept(
      s,
      [...events, events[0]!].map((raw, i) => ({ line: i + 1, raw })),
      'dup',
    );
    expect(r).toMatchObject({ accepted: events.length, duplicates: 1 });
  });

  it('keeps bad records as rejects naming the line and the field', async () => {
    const s = await store();
    const r = await accept(
      s,
      [
        { line: 1, raw: { kind: 'message', id: 'x', channel: 'web', ts: 'yesterday', role: 'customer' } },
        { line: 2, raw: { kind: 'message', id: 'y', channel: 'web', ts: 1762308000, role: 'boss' } },
        { line: 3, raw: { kind: 'launch', id: 'z' } },
        { line: 4, raw: 42 },
      ],
      'bad.ndjson',
    );
    expect(r.accepted).toBe(0);
    expect(r.rejects.map((x) => [x.line, x.reason.split(':')[0]])).toEqual([
      [1, 'ts'],
      [2, 'role'],
      [3, 'kind'],
      [4, 'event'],
    ]);
    const stored = await s.db.selectFrom('rejects').selectAll().orderBy('line').execute();
    expect(stored.map((x) => x.file)).toEqual(['bad.ndjson', 'bad.ndjson', 'bad.ndjson', 'bad.ndjson']);
  });

  it('gives identical facts whatever the arrival order and batching (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventArb,
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 40 })),
        async (events, batches, refreshEach, cacheLimit) => {
          const a = await store();
          const b = await store();
          await load(a, events);
          const shuffled = [...events].sort(() => Math.random() - 0.5);
          if (cacheLimit === null) await load(b, shuffled, batches, refreshEach);
          else {
            // As files are imported: an earlier import, then this one through the in-memory cache
            // (sometimes capped), where threads begun earlier must be read from the database.
            const cut = Math.floor(shuffled.length / 3);
            await load(b, shuffled.slice(0, cut));
            await load(b, shuffled.slice(cut), batches, refreshEach, new ImportCache(cacheLimit));
          }
          expect(await facts(b)).toEqual(await facts(a));
          await a.close();
          await b.close();
          stores.length = 0;
        },
      ),
      { numRuns: 25 },
    );
  });

  it('keeps metric invariants on random data (property)', async () => {
    await fc.assert(
      fc.asyncProperty(eventArb, async (events) => {
        const s = await store();
        await load(s, events);
        const r = await runReport(s, {
          by: ['agent'],
          metrics: [
            'received',
            'valid',
            'conversations',
            'missed',
            'frt_median_s',
            'frt_p90_s',
            'frt_avg_s',
            'resolution_rate',
            'csat_avg',
            'effective_rate',
            'transfer_rate',
            'concurrency_max',
          ],
        });
        const sum = (id: string) => r.rows.reduce((acc, x) => acc + (x.metrics[id] ?? 0), 0);
        for (const id of ['received', 'valid', 'conversations', 'missed'])
          expect(sum(id)).toBeCloseTo(r.total.metrics[id] ?? 0, 6);
        for (const x of [...r.rows, r.total]) {
          const m = x.metrics;
          expect(m.valid!).toBeLessThanOrEqual(m.received! + 1e-9);
          for (const rate of ['resolution_rate', 'effective_rate', 'transfer_rate']) {
            if (m[rate] !== null) expect(m[rate]! >= 0 && m[rate]! <= 1).toBe(true);
          }
          if (m.frt_median_s !== null) expect(m.frt_p90_s!).toBeGreaterThanOrEqual(m.frt_median_s!);
          if (m.csat_avg !== null) expect(m.csat_avg! >= 1 && m.csat_avg! <= 5).toBe(true);
          for (const v of Object.values(m)) if (v !== null) expect(Number.isFinite(v)).toBe(true);
        }
        await s.close();
        stores.length = 0;
      }),
      { numRuns: 25 },
    );
  });

  it('recomputes only the threads a late event touches', async () => {
    const s = await store();
    await load(s, scenario());
    const late: CanonicalEventInput = {
      kind: 'message',
      id: 'late',
      source: 'test',
      channel: 'web',
      conversationId: 'A',
      customer: { id: 'c1' },
      ts: Date.parse('2025-11-05T02:00:20Z'),
      role: 'agent',
      account: 'zhang',
      text: '稍等',
    };
    await accept(s, [{ line: 1, raw: late }], 'late');
    const dirty = await s.db.selectFrom('dirty_threads').select('thread').execute();
    expect(dirty.map((d) => d.thread)).toEqual(['web|#A']);
    expect(await refreshFacts(s)).toBe(1);
    const a = await s.db
      .selectFrom('conversations')
      .select(['frt_ms', 'messages_out'])
      .where('native_id', '=', 'A')
      .executeTakeFirstOrThrow();
    expect(a).toEqual({ frt_ms: 10_000, messages_out: 3 }); // 10:00:20 is now the first reply, 10 s after assignment
  });
});
