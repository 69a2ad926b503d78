/**
 * The bulk import path (cli/import.ts → ingest/import-reader.ts → pipeline.storePrepared): the
 * worker thread that reads and prepares, the whole-list statements that store, and the compact
 * block form must keep every promise of the inbox, on SQLite and PostgreSQL: the same facts as
 * events accepted one batch at a time, nothing twice on a re-import, a partly known file adding
 * exactly its new events, rejects kept with file and line, an unreadable file named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/cli/import.ts';
import { generateDemo } from '../../src/demo/generate.ts';
import { decodeBlock, encodeBlock } from '../../src/ingest/blocks.ts';
import { ImportReader } from '../../src/ingest/import-reader.ts';
import { REPEAT } from '../../src/ingest/prepare.ts';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import type { CanonicalEvent, CanonicalEventInput } from '../../src/model/events.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';
import { facts } from './random-events.ts';

const dir = mkdtempSync(join(tmpdir(), 'cspulse-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events: CanonicalEventInput[] = [];
for (const batch of generateDemo({ agents: 3, days: 3, seed: 5, end: '2025-11-20' })) events.push(...batch);

function ndjson(name: string, list: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, list.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n'));
  return file;
}

/** Every fact and the inbox's event keys, in a stable order. */
async function snapshot(s: Store) {
  const db = s.db;
  return {
    ...(await facts(s)),
    tickets: await db.selectFrom('tickets').selectAll().orderBy('thread').execute(),
    threads: await db.selectFrom('threads').selectAll().orderBy('thread').execute(),
    keys: (await db.selectFrom('event_ids').select(['source', 'ext_id']).execute())
      .map((r) => `${r.source}|${r.ext_id}`)
      .sort(),
  };
}

/** Every stored event, by (source, id): each exactly once. */
async function storedEvents(s: Store): Promise<Map<string, CanonicalEvent>> {
  const out = new Map<string, CanonicalEvent>();
  for (const b of await s.db.selectFrom('event_blocks').select('events').execute())
    for (const e of decodeBlock(b.events)) {
      const key = `${e.source}|${e.id}`;
      expect(out.has(key), `${key} stored twice`).toBe(false);
      out.set(key, e);
    }
  return out;
}

describe.each(DIALECTS)('bulk import on %s', (dialect) => {
  const opened: Store[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close();
  });
  async function store(): Promise<Store> {
    const s = await freshStore(dialect);
    opened.push(s);
    return s;
  }

  it('gives through the worker the same facts as events accepted batch by batch, and nothing twice', async () => {
    const file = ndjson('all.ndjson', events);
    const viaWorker = await store();
    const r = await importFiles(viaWorker, [file], 'auto', { quiet: true, workerMinBytes: 0 });
    expect(r.rejected).toBe(0);
    const distinct = new Set(events.map((e) => `${e.source}|${e.id}`)).size;
    expect(r.accepted).toBe(distinct);
    expect(r.duplicates).toBe(events.length - distinct);

    const batched = await store();
    for (let i = 0; i < events.length; i += 997)
      await accept(
        batched,
        events.slice(i, i + 997).map((raw, j) => ({ line: i + j + 1, raw })),
        file,
      );
    await refreshFacts(batched);
    const expected = await snapshot(batched);
    expect(expected.conversations.length).toBeGreaterThan(100);
    expect(await snapshot(viaWorker)).toEqual(expected);
    expect((await storedEvents(viaWorker)).size).toBe(distinct);

    const again = await importFiles(viaWorker, [file], 'auto', { quiet: true, workerMinBytes: 0 });
    expect(again.accepted).toBe(0);
    expect(again.duplicates).toBe(events.length);
    expect(await snapshot(viaWorker)).toEqual(expected);
  });

  it('adds exactly the new events of a partly known file, into threads begun before', async () => {
    // The second file repeats every other event of the first and brings the rest: most blocks
    // then hold known and new events of the same thread.
    const first = events.filter((_, i) => i % 2 === 0);
    const s = await store();
    await importFiles(s, [ndjson('first.ndjson', first)], 'ndjson', { quiet: true, workerMinBytes: 0 });
    const r = await importFiles(s, [ndjson('second.ndjson', events)], 'ndjson', {
      quiet: true,
      workerMinBytes: 0,
    });
    const distinct = new Set(events.map((e) => `${e.source}|${e.id}`)).size;
    const distinctFirst = new Set(first.map((e) => `${e.source}|${e.id}`)).size;
    expect(r.accepted).toBe(distinct - distinctFirst);

    const once = await store();
    await importFiles(once, [ndjson('once.ndjson', events)], 'ndjson', { quiet: true });
    expect(await snapshot(s)).toEqual(await snapshot(once));
    const stored = await storedEvents(s);
    expect(stored.size).toBe(distinct);
    for (const e of events) expect(stored.get(`${e.source}|${e.id}`)?.ts).toBeTypeOf('number');
  });

  it('keeps what the reader and the validation refuse, with file, line and reason, in and out of the worker', async () => {
    const good = events.slice(0, 40);
    const lines: unknown[] = [...good];
    lines.splice(3, 0, '{"kind":"message", broken');
    lines.splice(10, 0, { kind: 'message', id: 'x1', source: 'demo', channel: 'web', ts: 'soon' });
    lines.splice(20, 0, '[1, 2]');
    const file = ndjson('bad.ndjson', lines);
    for (const workerMinBytes of [0, Number.POSITIVE_INFINITY]) {
      const s = await store();
      const r = await importFiles(s, [file], 'ndjson', { quiet: true, workerMinBytes });
      expect(r.accepted).toBe(new Set(good.map((e) => e.id)).size);
      const listed = r.rejects.map((x) => [x.file, x.line, x.reason.split(':')[0]]);
      expect(listed.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
        [file, 4, 'invalid JSON'],
        [file, 11, 'ts'],
        [file, 21, 'expected a JSON object (one event per line), got an array'],
      ]);
      const kept = await s.db.selectFrom('rejects').select(['line', 'reason']).orderBy('line').execute();
      expect(kept.map((k) => k.line)).toEqual([4, 11, 21]);
      expect(kept[1]!.reason).toMatch(/^ts: /);
    }
  });

  it('names an unreadable file and keeps going with the others', async () => {
    const binary = join(dir, 'photo.ndjson');
    writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0xff]));
    const good = ndjson('good.ndjson', events.slice(0, 30));
    const s = await store();
    const r = await importFiles(s, [binary, good], 'ndjson', { quiet: true, workerMinBytes: 0 });
    expect(r.failedFiles).toEqual([binary]);
    expect(r.rejects[0]!.reason).toMatch(/^.*photo\.ndjson: /);
    expect(r.accepted).toBe(new Set(events.slice(0, 30).map((e) => e.id)).size);
  });
});

describe('the worker reader', () => {
  it('gives up a file read halfway and reads the next one whole', async () => {
    const file = ndjson('early.ndjson', events);
    const reader = new ImportReader([file], { batchSize: 100, workerMinBytes: 0 });
    try {
      expect(reader.usesWorker).toBe(true);
      let batches = 0;
      for await (const b of reader.read(file, 'ndjson')) {
        expect(b.prepared.ids.length).toBeGreaterThan(0);
        if (++batches === 2) break;
      }
      expect(batches).toBe(2);
      let items = 0;
      for await (const b of reader.read(file, 'auto')) items += b.prepared.status.length;
      expect(items).toBe(events.length);
    } finally {
      await reader.close();
    }
  });

  it('refuses facts of a thread it does not hold, naming it', async () => {
    const file = ndjson('held.ndjson', events.slice(0, 10));
    const reader = new ImportReader([file], { workerMinBytes: 0 });
    try {
      for await (const _ of reader.read(file, 'ndjson'));
      await expect(reader.facts(['web|#nobody'])).rejects.toThrow(/facts asked before the context/);
    } finally {
      await reader.close();
    }
  });
});

describe('the in-line reader', () => {
  it('hands on whole batches of read pieces, with every reject, repeat and line in place', async () => {
    // 12,345 lines: pieces of 5,000 are read and validated as they come, batches of 7,000 handed on.
    const lines: unknown[] = [];
    while (lines.length < 12_345)
      for (const e of events) if (lines.length < 12_345) lines.push({ ...e, id: `${e.id}-${lines.length}` });
    lines[10] = '{not json';
    lines[6_999] = { kind: 'message' };
    lines[11_000] = lines[8_000]; // a repeat in another piece of the same batch
    const file = ndjson('pieces.ndjson', lines);
    const reader = new ImportReader([file], { batchSize: 7_000 });
    try {
      expect(reader.usesWorker).toBe(false);
      const sizes: number[] = [];
      const ids: string[] = [];
      const rejectLines: number[] = [];
      let repeats = 0;
      for await (const b of reader.read(file, 'ndjson')) {
        sizes.push(b.prepared.status.length + b.rejects.length);
        for (const id of b.prepared.ids) ids.push(id);
        for (const r of [...b.rejects, ...b.prepared.rejects]) rejectLines.push(r.line);
        repeats += b.prepared.status.filter((s) => s === REPEAT).length;
      }
      expect(sizes).toEqual([7_000, 5_345]);
      expect(rejectLines.sort((a, b) => a - b)).toEqual([11, 7_000]);
      expect(repeats).toBe(1);
      const expected = lines
        .filter((_, n) => n !== 10 && n !== 6_999 && n !== 11_000)
        .map((e) => (e as { id: string }).id);
      expect(ids).toEqual(expected);
    } finally {
      await reader.close();
    }
  });
});

describe('the block form', () => {
  const customer = fc.record(
    {
      id: fc.constantFrom('c1', 'c2'),
      name: fc.constantFrom('王', '李'),
      region: fc.constantFrom('北京', '上海'),
      tags: fc.array(fc.constantFrom('VIP', '老客'), { maxLength: 2 }),
    },
    { requiredKeys: ['id'] },
  );
  const event = fc.record(
    {
      kind: fc.constant('message' as const),
      id: fc.string({ minLength: 1, maxLength: 5 }),
      source: fc.constantFrom('a', 'b'),
      ts: fc.integer({ min: 0, max: 2e12 }),
      channel: fc.constantFrom('web', 'wecom_kf'),
      conversationId: fc.constantFrom('s1', 's2'),
      customer,
      role: fc.constantFrom('customer' as const, 'agent' as const),
      msgType: fc.constant('text'),
      text: fc.string(),
    },
    { requiredKeys: ['kind', 'id', 'ts', 'channel', 'role', 'msgType'] },
  );

  it('reads back exactly the events it wrote, shared fields or not (property)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), (list) => {
        const events = list as unknown as CanonicalEvent[];
        expect(decodeBlock(encodeBlock(events))).toEqual(events);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the shared fields of a thread once', () => {
    const c = { id: 'c1', name: '王', region: '北京', tags: ['VIP'] };
    const list = [1, 2, 3].map((n) => ({
      kind: 'message',
      id: `m${n}`,
      source: 'demo',
      ts: n,
      channel: 'web',
      conversationId: 's1',
      customer: { ...c },
      role: 'customer',
      msgType: 'text',
    })) as unknown as CanonicalEvent[];
    const text = encodeBlock(list);
    expect(text.split('北京').length - 1).toBe(1);
    expect(text.split('"conversationId"').length - 1).toBe(1);
    expect(decodeBlock(text)).toEqual(list);
    // Blocks stored before this form are plain arrays, and read as they are.
    expect(decodeBlock(JSON.stringify(list))).toEqual(list);
  });
});
