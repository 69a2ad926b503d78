import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CsvRecord, CsvRecordParser, sniffDelimiter } from './csv-records.ts';

function parseLines(
  text: string,
  opts: Partial<{ maxRecordChars: number; maxRecordLines: number; delimiter: string }> = {},
) {
  const p = new CsvRecordParser({ delimiter: ',', maxRecordChars: 1_000_000, maxRecordLines: 2000, ...opts });
  const out: CsvRecord[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((l, i) => {
    p.push(l, i + 1, out);
  });
  p.end(out);
  return out;
}

describe('CsvRecordParser', () => {
  it('parses quotes, escaped quotes, embedded newlines and CRLF', () => {
    expect(parseLines('a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\r\nline",z\r\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'multi\r\nline', 'z'] },
    ]);
  });

  it('keeps a bare CR inside an unquoted field', () => {
    expect(parseLines('1,@AskPayPal \r\rI just love,3\n4,5,6\n')).toEqual([
      { line: 1, fields: ['1', '@AskPayPal \r\rI just love', '3'] },
      { line: 2, fields: ['4', '5', '6'] },
    ]);
  });

  it('treats stray quotes inside unquoted fields as data', () => {
    expect(parseLines('1,ab"c"d,2\n3,"x"y,4\n')).toEqual([
      { line: 1, fields: ['1', 'ab"c"d', '2'] },
      { line: 2, fields: ['3', 'xy', '4'] },
    ]);
  });

  it('skips empty lines but keeps line numbers', () => {
    expect(parseLines('a\n\n\r\nb\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 4, fields: ['b'] },
    ]);
  });

  it('recovers from an unclosed quote: one reject, the next lines are rows again', () => {
    expect(parseLines('1,"open\n2,b\n3,c\n')).toEqual([
      { line: 1, error: 'malformed row: a quoted field opened on line 1 never closes' },
      { line: 2, fields: ['2', 'b'] },
      { line: 3, fields: ['3', 'c'] },
    ]);
    const many = parseLines(`1,"open\n${Array.from({ length: 10 }, (_, i) => `${i + 2},x`).join('\n')}\n`, {
      maxRecordLines: 3,
    });
    expect(many[0]).toEqual({
      line: 1,
      error: 'malformed row: a quoted field opened on line 1 does not close',
    });
    expect(many.slice(1).map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('reports oversized lines', () => {
    const p = new CsvRecordParser({ delimiter: ',', maxRecordChars: 10, maxRecordLines: 5 });
    const out: CsvRecord[] = [];
    p.push(null, 1, out);
    p.push('"a', 2, out);
    p.push(null, 3, out);
    p.push('b,c', 4, out);
    p.end(out);
    expect(out).toEqual([
      { line: 1, error: 'line 1 exceeds the size limit of 10 characters' },
      { line: 2, error: 'row starting on line 2 exceeds the size limit' },
      { line: 4, fields: ['b', 'c'] },
    ]);
  });

  it('agrees with csv-parse on well-formed CSV', () => {
    const field = fc.oneof(
      fc.string({ maxLength: 12 }).filter((s) => !/[",\r\n]/.test(s)),
      fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/"/g, '""')}"`),
    );
    const row = fc.array(field, { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), fc.boolean(), (rows, crlf) => {
        // A row that is one empty field is an empty line, which both parsers skip; keep rows non-empty.
        const kept = rows.filter((r) => !(r.length === 1 && (r[0] === '' || r[0] === '""')));
        const nl = crlf ? '\r\n' : '\n';
        const text = kept.map((r) => r.join(',')).join(nl) + nl;
        const ours = parseLines(text).map((r) => ('fields' in r ? r.fields : r.error));
        const theirs = parse(text, {
          relax_column_count: true,
          skip_empty_lines: true,
          record_delimiter: ['\r\n', '\n'],
        });
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null)), { maxLength: 30 }),
        (lines) => {
          const p = new CsvRecordParser({ delimiter: ',', maxRecordChars: 100, maxRecordLines: 4 });
          const out: CsvRecord[] = [];
          lines.forEach((l, i) => {
            p.push(l === null ? null : l.replace(/\n/g, ''), i + 1, out);
          });
          p.end(out);
          for (const r of out) expect(r.line).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('sniffDelimiter', () => {
  it('picks the consistent delimiter', () => {
    expect(sniffDelimiter('a,b,c\n1,2,3\n')).toBe(',');
    expect(sniffDelimiter('a\tb\tc\n1\t2,5\t3\n')).toBe('\t');
    expect(sniffDelimiter('a;b;c\n1;"2,5";3\n')).toBe(';');
    expect(sniffDelimiter('title only\nname|x\n')).toBe('|');
    expect(sniffDelimiter('')).toBe(',');
  });
});
