import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat, readEvents } from '../index.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { splitDocuments } from './reader.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);
const write = (name: string, text: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};

describe('payload files', () => {
  it('splits JSON documents, arrays, one per line, and XML documents, with their lines', () => {
    expect(splitDocuments('{\n  "a": 1\n}\n')).toEqual([{ line: 1, doc: { a: 1 } }]);
    expect(splitDocuments('\n[{"a":1},{"a":2}]')).toEqual([
      { line: 2, doc: { a: 1 } },
      { line: 2, doc: { a: 2 } },
    ]);
    const lines = splitDocuments('{"a":1}\n\n{"a":\n{"a":3}\n');
    expect(lines.map((d) => [d.line, d.doc, d.error !== undefined])).toEqual([
      [1, { a: 1 }, false],
      [3, undefined, true],
      [4, { a: 3 }, false],
    ]);
    const xml = splitDocuments(
      '<xml><MsgId>1234567890123456789</MsgId><Content><![CDATA[你好 <b>]]></Content></xml>\n<xml><MsgId>2</MsgId></xml>',
    );
    // Ids stay strings: 19 digits do not fit a double.
    expect(xml).toEqual([
      { line: 1, doc: { MsgId: '1234567890123456789', Content: '你好 <b>' } },
      { line: 2, doc: { MsgId: '2' } },
    ]);
    expect(splitDocuments('<xml><a></xml>')[0]!.error).toMatch(/invalid XML at line 1/);
  });

  it('recognises a platform from the content and reads it through its connector', async () => {
    const update = join(OWN_FIXTURES, 'telegram', 'nutgram_message.json');
    const got = await collect(readEvents(update, 'auto'));
    expect(got.items).toHaveLength(1);
    expect(got.items[0]!.raw).toMatchObject({ kind: 'message', channel: 'telegram', role: 'customer' });
    expect((await collect(readEvents(update, 'telegram'))).items).toHaveLength(1);
  });

  it('reads canonical events saved as a JSON array, and keeps NDJSON on its own reader', async () => {
    const e = { kind: 'message', id: 'm1', ts: 1762324200, channel: 'web', role: 'customer', text: 'hi' };
    const arr = write('events.json', JSON.stringify([e, { ...e, id: 'm2' }], null, 2));
    expect(detectFormat(arr, Buffer.from(JSON.stringify([e])))).toBe('payload');
    expect((await collect(readEvents(arr, 'auto'))).items.map((i) => i.raw.id)).toEqual(['m1', 'm2']);
    expect(detectFormat('x.ndjson', Buffer.from(`${JSON.stringify(e)}\n`))).toBe('ndjson');
    expect(detectFormat('x.json', Buffer.from('{"update_id":1,"message":{}}\n'))).toBe('payload');
  });

  it('names the file when no platform recognises it, and refuses unknown formats', async () => {
    const p = write('odd.json', '{\n "hello": "world"\n}');
    await expect(collect(readEvents(p, 'auto'))).rejects.toThrow(
      /odd\.json: not a payload of any known platform/,
    );
    await expect(collect(readEvents(p, 'nosuch'))).rejects.toThrow(/unknown import format "nosuch"/);
  });
});
