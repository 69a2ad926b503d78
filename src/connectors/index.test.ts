import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat, type ImportFormat, readEvents, readRoster } from './index.ts';
import { collect, OWN_FIXTURES, sharedTwcsDir, tempDir } from './shared/testing.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
function file(content: string | Buffer | Uint8Array, ext = '.csv'): string {
  const p = join(tmp.dir, `h${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

describe('detectFormat', () => {
  const b = (s: string) => Buffer.from(s);
  it('by content first', () => {
    expect(detectFormat('x.csv', b('{"kind":"message"}\n'))).toBe('ndjson');
    expect(detectFormat('x.txt', b('\uFEFF  {"a":1}'))).toBe('ndjson');
    expect(
      detectFormat(
        'x.csv',
        b('tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n'),
      ),
    ).toBe('twcs');
    expect(
      detectFormat(
        'x.csv',
        b(',tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\r\n'),
      ),
    ).toBe('twcs');
    expect(detectFormat('x.ndjson', b('时间,客服,内容\n'))).toBe('ndjson');
    expect(detectFormat('x.dat', b('时间,客服,内容\n'))).toBe('csv');
    expect(
      detectFormat(
        'x.bin',
        Buffer.from([0x50, 0x4b, 0x03, 0x04, ...b('[Content_Types].xml xl/workbook.xml')]),
      ),
    ).toBe('xlsx');
    expect(detectFormat('x.zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).toBeNull();
    expect(detectFormat('x.csv', Buffer.from([0, 1, 2, 3, 0, 0, 0, 9]))).toBeNull();
  });
  it('then by extension', () => {
    expect(detectFormat('x.jsonl', b('plain'))).toBe('ndjson');
    expect(detectFormat('x.csv', b('single column'))).toBe('csv');
    expect(detectFormat('x.whatever', b('single column'))).toBeNull();
  });
});

describe('readEvents', () => {
  it('dispatches on the detected format', async () => {
    const csv = await collect(readEvents(join(OWN_FIXTURES, 'messages_zh.csv'), 'auto'));
    expect(csv.items.length).toBeGreaterThan(0);
    expect(csv.items[0]!.raw.source).toBe('csv');
    const nd = await collect(readEvents(join(OWN_FIXTURES, 'events.ndjson'), 'auto'));
    expect(nd.items).toHaveLength(3);
    const tw = await collect(readEvents(join(OWN_FIXTURES, 'twcs_small.csv'), 'auto'));
    expect(tw.items[0]!.raw.source).toBe('twcs');
  });

  it('reads an exceljs workbook as xlsx', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('s');
    ws.addRow(['时间', '角色', '内容']);
    ws.addRow(['2025-11-05 10:00:00', '客户', 'hi']);
    const p = join(tmp.dir, 'auto.xlsx');
    await wb.xlsx.writeFile(p);
    const c = await collect(readEvents(p, 'auto'));
    expect(c.items.map((i) => i.raw.text)).toEqual(['hi']);
  });

  it('reads the real twcs samples', async () => {
    const dir = sharedTwcsDir();
    if (!dir) {
      console.log('shared/fixtures/twcs not found: skipping');
      return;
    }
    const c = await collect(readEvents(join(dir, 'monalisapatra26_twcs_first5000.csv'), 'auto'));
    expect(c.items).toHaveLength(5000);
    expect(c.batches.length).toBe(1);
  });

  it('rejects bad options before reading', async () => {
    const p = join(OWN_FIXTURES, 'events.ndjson');
    await expect(collect(readEvents(p, 'ndjson', { timezone: 'Mars/Base' }))).rejects.toThrow(
      /^timezone: expected an IANA zone/,
    );
    await expect(collect(readEvents(p, 'csv', { batchSize: 0 }))).rejects.toThrow(
      /^batchSize: expected a positive integer/,
    );
  });

  describe('unreadable files throw an Error naming the file', () => {
    const formats: ImportFormat[] = ['auto', 'ndjson', 'csv', 'xlsx', 'twcs'];
    it.each(formats)('%s', async (format) => {
      const missing = join(tmp.dir, 'nope.csv');
      await expect(collect(readEvents(missing, format))).rejects.toThrow(`${missing}: file not found`);
      const dir = join(tmp.dir, `dir-${format}`);
      mkdirSync(dir);
      await expect(collect(readEvents(dir, format))).rejects.toThrow(
        `${dir}: is a directory, expected a file`,
      );
      const empty = file('');
      await expect(collect(readEvents(empty, format))).rejects.toThrow(`${empty}: file is empty`);
      const binary = file(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0, 1, 2, 3, 0]), '.bin');
      await expect(collect(readEvents(binary, format))).rejects.toThrow(binary);
    });
    it('roster', async () => {
      const missing = join(tmp.dir, 'nope-roster.csv');
      await expect(readRoster(missing)).rejects.toThrow(`${missing}: file not found`);
    });
  });
});

describe('hostile input', () => {
  // The only acceptable throw is the documented one: an Error whose message starts with the path.
  async function survives(p: string, format: ImportFormat): Promise<{ items: number; rejects: number }> {
    try {
      const c = await collect(readEvents(p, format, { batchSize: 7 }));
      // A CSV message row with a rating adds a second event to the same batch.
      for (const b of c.batches) expect(b.items.length + b.rejects.length).toBeLessThanOrEqual(8);
      for (const r of c.rejects) {
        expect(r.file).toBe(p);
        expect(r.line).toBeGreaterThanOrEqual(1);
        expect(r.reason.length).toBeGreaterThan(0);
      }
      return { items: c.items.length, rejects: c.rejects.length };
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message.startsWith(`${p}: `)).toBe(true);
      return { items: -1, rejects: -1 };
    }
  }

  const formats: ImportFormat[] = ['auto', 'ndjson', 'csv', 'twcs', 'xlsx'];

  it('random bytes never crash a reader', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.constantFrom(...formats),
        async (bytes, format) => {
          await survives(file(bytes, '.dat'), format);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random text never crashes a reader', async () => {
    const text = fc.string({
      unit: fc.constantFrom(
        'a',
        '1',
        ',',
        ';',
        '\t',
        '"',
        '\n',
        '\r',
        '{',
        '}',
        '[',
        ':',
        ' ',
        '时',
        '\u0000',
        '\uFEFF',
      ),
      maxLength: 300,
    });
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom(...formats), async (s, format) => {
        await survives(file(s, '.csv'), format);
      }),
      { numRuns: 150 },
    );
  });

  it('damaged workbooks throw the documented error or read, never hang', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('s');
    ws.addRow(['时间', '角色', '内容']);
    for (let i = 0; i < 20; i++) ws.addRow(['2025-11-05 10:00:00', '客户', `hi ${i}`]);
    const good = Buffer.from(await wb.xlsx.writeBuffer());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        async (flips) => {
          const b = Buffer.from(good);
          for (const [at, v] of flips) b[at] = v;
          const p = file(b, '.xlsx');
          const outcome = await Promise.race([
            survives(p, 'xlsx').then(() => 'done'),
            new Promise((res) => setTimeout(() => res('hung'), 10_000)),
          ]);
          expect(outcome).toBe('done');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a local zip header that disagrees with the directory is refused, not a hang (found by the property above)', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('s').addRow(['时间', '角色', '内容']);
    const b = Buffer.from(await wb.xlsx.writeBuffer());
    const at = b.indexOf('xl/worksheets/sheet1.xml') - 30;
    expect(b.readUInt32LE(at)).toBe(0x04034b50);
    b.writeUInt32LE(b.readUInt32LE(at + 18) - 1, at + 18); // the local compressed size
    const p = file(b, '.xlsx');
    await expect(collect(readEvents(p, 'xlsx'))).rejects.toThrow(/local header disagrees with the directory/);
  });

  it('each bad CSV row yields a reject and good rows still import', async () => {
    const good = fc.record({
      ts: fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }).map(String),
      role: fc.constantFrom('客户', '客服', 'customer', 'agent', 'bot'),
      text: fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/"/g, '""')}"`),
    });
    const bad = fc.record({
      ts: fc.constantFrom('', 'not a time', '2025-13-45 99:99'),
      role: fc.constantFrom('客户', '???', ''),
      text: fc.constant('x'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            good.map((r) => ({ ...r, ok: true })),
            bad.map((r) => ({ ...r, ok: false })),
          ),
          { maxLength: 25 },
        ),
        async (rows) => {
          const p = file(['时间,发送方,内容', ...rows.map((r) => `${r.ts},${r.role},${r.text}`)].join('\n'));
          const c = await collect(readEvents(p, 'csv'));
          expect(c.rejects.map((r) => r.line)).toEqual(rows.flatMap((r, i) => (r.ok ? [] : [i + 2])));
          expect(c.items.map((i) => i.line)).toEqual(rows.flatMap((r, i) => (r.ok ? [i + 2] : [])));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('each bad NDJSON line yields a reject', async () => {
    const line = fc.oneof(
      fc.record({ id: fc.string(), ts: fc.integer() }).map((o) => ({ text: JSON.stringify(o), ok: true })),
      fc
        .string({ maxLength: 30 })
        .filter((s) => !s.includes('\n') && s.trim() !== '' && !isObjectJson(s))
        .map((s) => ({ text: s, ok: false })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 30 }), async (lines) => {
        const p = file(lines.map((l) => l.text).join('\n'), '.ndjson');
        const c = await collect(readEvents(p, 'ndjson'));
        expect(c.rejects.map((r) => r.line)).toEqual(lines.flatMap((l, i) => (l.ok ? [] : [i + 1])));
        expect(c.items).toHaveLength(lines.filter((l) => l.ok).length);
      }),
      { numRuns: 60 },
    );
  });
});

function isObjectJson(s: string): boolean {
  try {
    const v = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
