import type { Reject } from '../model/events.ts';
import { isValidTimeZone } from '../model/time.ts';
import type { ColumnReport } from './csv/columns.ts';
import type { ColumnOptions } from './csv/columns.ts';

/** A file format, or 'payload': a platform's webhook/API documents saved to a file (platform/reader.ts). */
export type FileFormat = 'ndjson' | 'csv' | 'xlsx' | 'twcs' | 'payload';
/** What `--format` takes: a file format, 'auto', or a platform's name (its payloads). */
export type ImportFormat = 'auto' | FileFormat | (string & {});

export interface ReadBatch {
  /** Raw canonical event objects, to be checked with validateEvent; `line` is 1-based. */
  items: { line: number; raw: unknown }[];
  rejects: Reject[];
  bytesRead: number;
  totalBytes: number;
  /** CSV/XLSX only, on the first batch: which columns were recognised and which ignored. */
  columns?: ColumnReport;
}

export interface ReadOptions {
  /** Zone of timestamps written without an offset (default Asia/Shanghai). */
  timezone?: string;
  /** Items per batch (default 5000). */
  batchSize?: number;
  /** CSV/XLSX: a saved mapping applied ahead of the dictionary, and user dictionaries. */
  columns?: ColumnOptions;
}

export const DEFAULT_BATCH_SIZE = 5000;

/** Reject bad options before any file is touched: an unknown zone would otherwise throw on every row. */
export function checkOptions(opts: ReadOptions): void {
  if (opts.timezone !== undefined && !isValidTimeZone(opts.timezone)) {
    throw new Error(
      `timezone: expected an IANA zone such as "Asia/Shanghai", got ${JSON.stringify(opts.timezone)}`,
    );
  }
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) {
    throw new Error(`batchSize: expected a positive integer, got ${JSON.stringify(opts.batchSize)}`);
  }
}
export const DEFAULT_TIMEZONE = 'Asia/Shanghai';

/** Longest raw text kept on a reject, so a reject list of a hostile file stays small. */
export const REJECT_RAW_CHARS = 500;

export function clip(s: string, n = REJECT_RAW_CHARS): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A value quoted for an error message: short, one line. */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
