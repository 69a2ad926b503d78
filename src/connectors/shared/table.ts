/**
 * Tabular files (CSV/TSV in any of the encodings exports come in, and XLSX) as blocks of rows of
 * cells, with the row's line number in the file. The event and roster readers map these rows.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { PassThrough } from 'node:stream';
import { type CsvRecord, CsvRecordParser, sniffDelimiter } from './csv-records.ts';
import { assertHasContent, binaryReason, type OpenedInput, sniffEncoding } from './input.ts';
import { createDecoder, MAX_LINE_CHARS, readLineBlocks } from './lines.ts';
import { checkZip } from './zip-check.ts';

/** A cell as read: CSV gives strings; XLSX also numbers, booleans and Dates (wall-clock times as UTC). */
export type Cell = string | number | boolean | Date | null;

export type TableRow = { line: number; cells: Cell[] } | { line: number; error: string };

export interface TableBlock {
  rows: TableRow[];
  bytesRead: number;
  totalBytes: number;
}

export const MAX_RECORD_LINES = 2000;

/** CSV rows; throws (naming the file) when the file is not text. The delimiter is sniffed unless given. */
export async function* readCsvTable(
  opened: OpenedInput,
  opts: { delimiter?: string } = {},
): AsyncGenerator<TableBlock> {
  const sniffed = sniffEncoding(opened.head, opened.size <= opened.head.length);
  const why = binaryReason(opened.head, sniffed);
  if (why) throw new Error(`${opened.path}: ${why}`);
  assertHasContent(opened, sniffed);
  const dec = createDecoder(sniffed.encoding);
  const sample = dec.write(opened.head.subarray(sniffed.bomLength));
  const ext = extname(opened.path).toLowerCase();
  const delimiter =
    opts.delimiter ??
    sniffDelimiter(sample, ext === '.tsv' || ext === '.tab' || sniffed.encoding.startsWith('utf16'));
  const parser = new CsvRecordParser({
    delimiter,
    maxRecordChars: MAX_LINE_CHARS,
    maxRecordLines: MAX_RECORD_LINES,
  });
  const blocks = readLineBlocks(opened.path, {
    encoding: sniffed.encoding,
    skipBytes: sniffed.bomLength,
    keepCR: true,
  });
  for await (const block of blocks) {
    const out: CsvRecord[] = [];
    for (let i = 0; i < block.lines.length; i++) parser.push(block.lines[i]!, block.firstLine + i, out);
    if (out.length > 0) yield { rows: toRows(out), bytesRead: block.bytesRead, totalBytes: opened.size };
  }
  const out: CsvRecord[] = [];
  parser.end(out);
  if (out.length > 0) yield { rows: toRows(out), bytesRead: opened.size, totalBytes: opened.size };
}

function toRows(records: CsvRecord[]): TableRow[] {
  return records.map((r) => ('error' in r ? r : { line: r.line, cells: r.fields }));
}

/**
 * XLSX rows of the first worksheet that has any, streamed. Later worksheets are drained but not read:
 * exports put the data on the first sheet and summaries after it.
 */
export async function* readXlsxTable(opened: OpenedInput): AsyncGenerator<TableBlock> {
  const { path, size } = opened;
  if (!(opened.head[0] === 0x50 && opened.head[1] === 0x4b)) {
    throw new Error(`${path}: not an XLSX workbook (expected a zip file)`);
  }
  try {
    await checkZip(path, size);
  } catch (err) {
    throw new Error(`${path}: not a readable XLSX workbook (${(err as Error).message})`);
  }
  let bytesRead = 0;
  const counter = new PassThrough();
  const src = createReadStream(path);
  src.on('data', (c) => {
    bytesRead += c.length;
  });
  src.on('error', (e) => counter.destroy(e));
  src.pipe(counter);
  // Loaded when a workbook is read: half a second of start-up every other import and command spared.
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(counter, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
  });
  let done = false;
  let rows: TableRow[] = [];
  try {
    for await (const sheet of reader) {
      let any = false;
      for await (const row of sheet) {
        if (done) continue;
        const values = row.values as unknown[];
        const cells: Cell[] = [];
        for (let c = 1; c < values.length; c++) cells.push(xlsxCell(values[c]));
        any = true;
        rows.push({ line: row.number, cells });
        if (rows.length >= 1000) {
          yield { rows, bytesRead, totalBytes: size };
          rows = [];
        }
      }
      if (any) done = true;
    }
  } catch (err) {
    throw new Error(`${path}: not a readable XLSX workbook (${(err as Error)?.message ?? String(err)})`);
  } finally {
    src.destroy();
  }
  if (rows.length > 0) yield { rows, bytesRead: size, totalBytes: size };
}

function xlsxCell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText))
      return o.richText.map((p) => String((p as { text?: unknown })?.text ?? '')).join('');
    if ('result' in o) return xlsxCell(o.result);
    if ('text' in o) return xlsxCell(o.text);
    if ('error' in o) return null;
  }
  return String(v);
}

/** The string form of a cell, trimmed; '' for empty. Dates become ISO wall-clock without zone. */
export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c.trim();
  if (c instanceof Date)
    return c
      .toISOString()
      .replace('T', ' ')
      .replace(/\.000Z$|Z$/, '');
  return String(c);
}
