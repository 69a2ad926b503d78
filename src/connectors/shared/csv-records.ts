/**
 * CSV records from physical lines. Our own small parser rather than csv-parse, because hostile and
 * half-broken exports need recovery that a general parser does not give: a record delimiter is "\n" or
 * "\r\n" only (a bare "\r" inside an unquoted field, as in twcs tweet 3399, is data); a stray quote
 * in the middle of a field is data; an oversized row or a quote that never closes costs one reject,
 * and parsing resumes on the next line instead of swallowing or dropping the rest of the file.
 */

export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

export interface CsvParserOptions {
  delimiter: string;
  /** Longest record, in characters. */
  maxRecordChars: number;
  /** Most physical lines one quoted field may span before it is taken for an unclosed quote. */
  maxRecordLines: number;
}

export class CsvRecordParser {
  private readonly delim: string;
  private readonly maxChars: number;
  private readonly maxLines: number;
  // State of a record left open inside a quoted field at the end of a line.
  private open = false;
  private fields: string[] = [];
  private cur = '';
  private startLine = 0;
  private chars = 0;
  private pending: { line: number; text: string }[] = [];

  constructor(opts: CsvParserOptions) {
    if (opts.delimiter.length !== 1) throw new Error('CSV delimiter must be one character');
    this.delim = opts.delimiter;
    this.maxChars = opts.maxRecordChars;
    this.maxLines = opts.maxRecordLines;
  }

  /** Feed one physical line (without its "\n"; a trailing "\r" may remain). null = oversized line. */
  push(text: string | null, line: number, out: CsvRecord[]): void {
    const rest = this.pushOne(text, line, out);
    if (rest) this.replay(rest, out);
  }

  /** Flush at end of input. */
  end(out: CsvRecord[]): void {
    while (this.open)
      this.replay(
        this.recoverUnclosed(out, `a quoted field opened on line ${this.startLine} never closes`),
        out,
      );
  }

  // Iterative, not recursive: a hostile file can make recovery cascade over thousands of lines.
  private replay(lines: { line: number; text: string }[], out: CsvRecord[]): void {
    let queue = lines;
    let qi = 0;
    while (qi < queue.length) {
      const p = queue[qi++]!;
      const rest = this.pushOne(p.text, p.line, out);
      if (rest) {
        queue = rest.concat(queue.slice(qi));
        qi = 0;
      }
    }
  }

  /** Returns lines to parse again when a broken record was given up. */
  private pushOne(
    text: string | null,
    line: number,
    out: CsvRecord[],
  ): { line: number; text: string }[] | null {
    if (text === null) {
      if (this.open) {
        out.push({
          line: this.startLine,
          error: `row starting on line ${this.startLine} exceeds the size limit`,
        });
        this.reset();
      } else {
        out.push({ line, error: `line ${line} exceeds the size limit of ${this.maxChars} characters` });
      }
      return null;
    }
    if (!this.open) {
      if (text.length === 0 || (text.length === 1 && text === '\r')) return null;
      // Fast path: no quote, the line is the record.
      if (text.indexOf('"') === -1) {
        const fields = text.split(this.delim);
        const last = fields[fields.length - 1]!;
        if (last.charCodeAt(last.length - 1) === 13) fields[fields.length - 1] = last.slice(0, -1);
        out.push({ line, fields });
        return null;
      }
      this.startLine = line;
      this.fields = [];
      this.cur = '';
      this.chars = 0;
      this.pending = [];
      this.scan(text, 0, false, out);
      return null;
    }
    this.chars += text.length + 1;
    this.pending.push({ line, text });
    if (this.chars > this.maxChars || this.pending.length > this.maxLines) {
      return this.recoverUnclosed(out, `a quoted field opened on line ${this.startLine} does not close`);
    }
    this.cur += '\n';
    this.scan(text, 0, true, out);
    return null;
  }

  private reset(): void {
    this.open = false;
    this.fields = [];
    this.cur = '';
    this.pending = [];
    this.chars = 0;
  }

  /**
   * The record that began at startLine is taken as broken (its opening quote was stray): reject that
   * one line and parse the following lines afresh, so one bad quote costs one row.
   */
  private recoverUnclosed(out: CsvRecord[], why: string): { line: number; text: string }[] {
    const rest = this.pending.slice(1);
    const first = this.startLine;
    this.reset();
    out.push({ line: first, error: `malformed row: ${why}` });
    return rest;
  }

  /** Scan text from i; `inQuotes` is whether we start inside a quoted field (continuation line). */
  private scan(text: string, i: number, inQuotes: boolean, out: CsvRecord[]): void {
    const n = text.length;
    const delim = this.delim;
    let atFieldStart = !inQuotes && this.cur.length === 0;
    if (!inQuotes && this.pending.length === 0) {
      this.pending.push({ line: this.startLine, text });
      this.chars = text.length;
    }
    while (i < n) {
      if (inQuotes) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          this.cur += text.slice(i);
          i = n;
          break;
        }
        this.cur += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          this.cur += '"';
          i = q + 2;
        } else {
          inQuotes = false;
          i = q + 1;
        }
        continue;
      }
      if (atFieldStart && text.charCodeAt(i) === 34) {
        inQuotes = true;
        atFieldStart = false;
        i++;
        continue;
      }
      const d = text.indexOf(delim, i);
      const end = d === -1 ? n : d;
      this.cur += text.slice(i, end);
      if (d === -1) {
        i = n;
        break;
      }
      this.fields.push(this.cur);
      this.cur = '';
      atFieldStart = true;
      i = d + 1;
    }
    if (inQuotes) {
      this.open = true;
      return;
    }
    let last = this.cur;
    if (last.charCodeAt(last.length - 1) === 13) last = last.slice(0, -1);
    this.fields.push(last);
    out.push({ line: this.startLine, fields: this.fields });
    this.reset();
  }
}

/**
 * Guess the delimiter from the first lines: the candidate that appears most consistently. Exports
 * from Excel in some locales use ";" and "Unicode text" exports use tabs.
 */
export function sniffDelimiter(sample: string, preferTab = false): string {
  const lines = sample
    .split('\n', 21)
    .slice(0, 20)
    .filter((l) => l.trim().length > 0);
  const candidates = preferTab ? ['\t', ',', ';', '|'] : [',', '\t', ';', '|'];
  let best = candidates[0]!;
  let bestScore = 0;
  for (const c of candidates) {
    const counts = lines.map((l) => countOutsideQuotes(l, c)).filter((k) => k > 0);
    if (counts.length === 0) continue;
    // Lines agreeing on the same count matter more than one line with many.
    const freq = new Map<number, number>();
    for (const k of counts) freq.set(k, (freq.get(k) ?? 0) + 1);
    let score = 0;
    for (const [k, f] of freq) score = Math.max(score, f * 1000 + k);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

function countOutsideQuotes(line: string, c: string): number {
  let n = 0;
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') q = !q;
    else if (ch === c && !q) n++;
  }
  return n;
}
