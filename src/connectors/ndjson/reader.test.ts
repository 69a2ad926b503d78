import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { readNdjson } from './reader.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
function file(content: string | Buffer): string {
  const p = join(tmp.dir, `f${n++}.ndjson`);
  writeFileSync(p, content);
  return p;
}

describe('NDJSON reader', () => {
  it('reads the hand-written file: BOM, CRLF, blank lines, bad lines', async () => {
    const path = join(OWN_FIXTURES, 'events.ndjson');
    const c = await collect(readNdjson(path));
    expect(c.items.map((i) => [i.line, i.raw.id])).toEqual([
      [1, 'm1'],
      [4, 'm2'],
      [9, 'c1'],
    ]);
    // Without a timezone, strings pass through; validation reads every format, Twitter's included.
    expect(c.items[2]!.raw.ts).toBe('Tue Oct 31 22:10:47 +0000 2017');
    const valid = validateEvent(c.items[2]!.raw);
    expect(valid.ok && valid.event.ts).toBe(Date.UTC(2017, 9, 31, 22, 10, 47));
    expect(c.items[1]!.raw.ts).toBe('2025-11-05 14:31:00');
    expect(c.rejects.map((r) => [r.file, r.line])).toEqual([
      [path, 5],
      [path, 6],
      [path, 7],
      [path, 8],
    ]);
    expect(c.rejects[0]!.reason).toMatch(/^invalid JSON: /);
    expect(c.rejects[1]!.reason).toBe('expected a JSON object (one event per line), got an array');
    for (const it of c.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
    expect(c.batches.at(-1)!.bytesRead).toBe(c.batches.at(-1)!.totalBytes);
  });

  it('converts naive times when a timezone is given', async () => {
    const c = await collect(readNdjson(join(OWN_FIXTURES, 'events.ndjson'), { timezone: 'UTC' }));
    expect(c.items[1]!.raw.ts).toBe(Date.UTC(2025, 10, 5, 14, 31));
  });

  it('batches by batchSize', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ id: i }));
    const c = await collect(readNdjson(file(lines.join('\n')), { batchSize: 10 }));
    expect(c.batches.map((b) => b.items.length)).toEqual([10, 10, 5]);
    expect(c.items.at(-1)!.line).toBe(25);
  });

  it('rejects a line over 1 MB without buffering it and keeps counting lines', async () => {
    const big = `{"text":"${'x'.repeat(1_200_000)}"}`;
    const c = await collect(readNdjson(file(`{"id":1}\n${big}\n{"id":3}\n${big}`)));
    expect(c.items.map((i) => i.line)).toEqual([1, 3]);
    expect(c.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'line exceeds the size limit of 1048576 characters'],
      [4, 'line exceeds the size limit of 1048576 characters'],
    ]);
  });

  it('survives deeply nested JSON and invalid UTF-8', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const deepObj = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const bad = Buffer.concat([
      Buffer.from('{"id":"x","text":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}\n'),
    ]);
    const c = await collect(readNdjson(file(Buffer.concat([Buffer.from(`${deep}\n${deepObj}\n`), bad]))));
    expect(c.rejects[0]!.line).toBe(1);
    // The deep object either parses or is rejected, never crashes the reader.
    expect(c.items.length + c.rejects.length).toBe(3);
    expect(c.items.at(-1)!.raw.text).toBe('\uFFFD\uFFFD\uFFFD');
  });

  it('keeps characters whole where the decoder cuts the bytes into pieces', async () => {
    // Lines of varying length put 你好 (3 bytes each) and é (2) across the 32 KB pieces' edges.
    const lines = Array.from({ length: 40_000 }, (_, i) =>
      JSON.stringify({ id: i, text: `${'x'.repeat(i % 3)}你好${'é'.repeat(i % 5)}` }),
    );
    const c = await collect(readNdjson(file(lines.join('\n'))));
    expect(c.rejects).toEqual([]);
    expect(c.items.map((i) => JSON.stringify(i.raw))).toEqual(lines);
  });

  it('throws, naming the file, when it is unreadable', async () => {
    await expect(collect(readNdjson(join(tmp.dir, 'missing.ndjson')))).rejects.toThrow(
      /missing\.ndjson: file not found/,
    );
    await expect(collect(readNdjson(tmp.dir))).rejects.toThrow(/is a directory/);
    await expect(collect(readNdjson(file('')))).rejects.toThrow(/file is empty/);
    await expect(collect(readNdjson(file('\uFEFF \n\n')))).rejects.toThrow(/file is empty/);
    await expect(collect(readNdjson(file(Buffer.from([0, 1, 2, 3, 0, 0]))))).rejects.toThrow(/binary/);
  });
});
