/**
 * The WAL checkpointer of large SQLite imports (src/store/checkpointer.ts): while it runs, the
 * importing connection does not checkpoint and the database file still receives what was
 * committed; afterwards the connection checkpoints by itself again; an import run with it stores
 * exactly what an import without it stores.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/cli/import.ts';
import { generateDemo } from '../../src/demo/generate.ts';
import { Checkpointer } from '../../src/store/checkpointer.ts';
import { openStore, WAL_AUTOCHECKPOINT_PAGES } from '../../src/store/db.ts';
import { freshStore } from '../support/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'cspulse-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the checkpointer', () => {
  it('copies committed pages into the database file while the connection does not checkpoint', async () => {
    const store = await freshStore('sqlite');
    try {
      const sqlite = store.sqlite!;
      const file = sqlite.name;
      const c = await Checkpointer.start(store, 20);
      expect(c).toBeDefined();
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const before = statSync(file).size;
      sqlite.exec('create table filler (v text)');
      const insert = sqlite.prepare('insert into filler (v) values (?)');
      sqlite.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run('x'.repeat(1000));
      })();
      // Only the checkpointer writes into the database file before the connection closes.
      const deadline = Date.now() + 5000;
      while (statSync(file).size < before + 2_000_000 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(statSync(file).size).toBeGreaterThanOrEqual(before + 2_000_000);
      await c!.stop();
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
    } finally {
      await store.close();
    }
  });

  it('is not started for a database in memory', async () => {
    const store = await openStore(':memory:');
    try {
      expect(await Checkpointer.start(store)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('leaves an import exactly as without it', async () => {
    const events: unknown[] = [];
    for (const batch of generateDemo({ agents: 3, days: 2, seed: 11, end: '2025-11-20' }))
      events.push(...batch);
    const file = join(dir, 'demo.ndjson');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const contents = [];
    for (const checkpointerMinBytes of [0, Number.POSITIVE_INFINITY]) {
      const store = await freshStore('sqlite');
      try {
        const r = await importFiles(store, [file], 'ndjson', { quiet: true, checkpointerMinBytes });
        expect(store.sqlite!.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
        const rows = (table: string) => store.sqlite!.prepare(`select * from ${table} order by 1, 2`).all();
        contents.push({
          r,
          conversations: rows('conversations'),
          responses: rows('responses'),
          keys: rows('event_ids'),
          blocks: rows('event_blocks').length,
        });
      } finally {
        await store.close();
      }
    }
    expect(contents[0]!.r.accepted).toBe(events.length);
    expect(contents[0]).toEqual(contents[1]);
  });
});
