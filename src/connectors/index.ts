/**
 * File connectors: turn an import file into raw canonical event objects, in batches, with rejects for
 * what cannot be an event. The ingest validates each item with validateEvent and stores it.
 *
 * Unreadable files (missing, a directory, empty, binary where text is expected, not a workbook) throw
 * an Error whose message starts with the path and names the problem; everything else a file can
 * contain ends up as items or rejects.
 */
import { extname } from 'node:path';
import { readTableEvents } from './csv/reader.ts';
import { readNdjson } from './ndjson/reader.ts';
import { binaryReason, openInput, sniffEncoding } from './shared/input.ts';
import { createDecoder } from './shared/lines.ts';
import { readPayloadFile, splitDocuments } from './platform/reader.ts';
import type { FileFormat, ImportFormat, ReadBatch, ReadOptions } from './types.ts';
import { isTwcsHeader, readTwcs } from './twcs/reader.ts';

export {
  type ColumnReport,
  listDictionary,
  matchColumns,
  matchHeader,
  normaliseHeader,
} from './csv/columns.ts';
export { FIELD_DICTIONARY } from './csv/field-dictionary.ts';
export { inspectColumns } from './csv/reader.ts';
export { parseAccounts, readRoster, type RosterRow } from './roster/reader.ts';
export { readTwcsFile, type TwcsStats } from './twcs/reader.ts';
export { agentAccount, parseSignature } from './twcs/signature.ts';
export type { FileFormat, ImportFormat, ReadBatch, ReadOptions } from './types.ts';
import { detectPlatform, WEBHOOK_CONNECTORS, webhookConnector } from './webhooks.ts';

const EXTENSIONS: Record<string, FileFormat> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.tab': 'csv',
  '.txt': 'csv',
  '.xlsx': 'xlsx',
  '.xlsm': 'xlsx',
  '.xml': 'payload',
};

/**
 * The format of a file from its first bytes, then its extension. Content wins: a twcs sample saved as
 * .txt or an NDJSON export named .csv is still read right. null when neither says.
 */
export function detectFormat(path: string, head: Buffer): FileFormat | null {
  const ext = extname(path).toLowerCase();
  const byExt = EXTENSIONS[ext] ?? null;
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    // A zip: a workbook when it says so inside or by name (an .docx or a .zip is not).
    const ascii = head.toString('latin1');
    return ascii.includes('xl/') || byExt === 'xlsx' ? 'xlsx' : null;
  }
  if (head.length === 0) return byExt;
  const sniffed = sniffEncoding(head, false);
  if (binaryReason(head, sniffed)) return null;
  const text = createDecoder(sniffed.encoding).write(head.subarray(sniffed.bomLength));
  const body = text.replace(/^\s+/, '');
  if (body.startsWith('<') || body.startsWith('[')) return 'payload';
  if (body.startsWith('{')) return jsonFormat(body);
  const firstLine = body.split('\n', 1)[0]!.replace(/\r$/, '');
  const cells = firstLine.split(',').map((c) => c.replace(/^"|"$/g, ''));
  if (isTwcsHeader(cells)) return 'twcs';
  if (/[,\t;|]/.test(firstLine)) return byExt === 'ndjson' ? 'ndjson' : 'csv';
  return byExt === 'xlsx' ? null : byExt;
}

/**
 * Canonical NDJSON, or a platform's payloads: the first line decides. A pretty-printed document
 * (a first line of just `{`) or a first line a platform recognises is a payload file; anything
 * else starting with `{` is NDJSON, whose reader names what is wrong with each line.
 */
function jsonFormat(body: string): FileFormat {
  const first = body.split('\n', 1)[0]!.trim();
  if (first === '{') return 'payload';
  let doc: unknown;
  try {
    doc = JSON.parse(first);
  } catch {
    // A document spread over lines, read whole by the payload reader when it fits in the head.
    const whole = splitDocuments(body);
    return whole.length && whole[0]!.doc !== undefined && detectPlatform(whole[0]!.doc)
      ? 'payload'
      : 'ndjson';
  }
  const platform = detectPlatform(doc);
  return platform && platform.platform !== 'generic' ? 'payload' : 'ndjson';
}

export async function* readEvents(
  path: string,
  format: ImportFormat,
  opts: ReadOptions = {},
): AsyncGenerator<ReadBatch> {
  if (webhookConnector(format)) {
    yield* readPayloadFile(path, format);
    return;
  }
  const formats: readonly string[] = ['ndjson', 'csv', 'xlsx', 'twcs', 'payload'];
  if (format !== 'auto' && !formats.includes(format))
    throw new Error(
      `unknown import format "${format}"; expected auto, ${formats.join(', ')} or a platform: ${Object.keys(WEBHOOK_CONNECTORS).join(', ')}`,
    );
  let fmt = format === 'auto' ? null : (format as FileFormat);
  if (fmt === null) {
    const opened = await openInput(path);
    fmt = detectFormat(path, opened.head);
    if (fmt === null) {
      const why = binaryReason(opened.head, sniffEncoding(opened.head, false));
      throw new Error(
        `${path}: unrecognised format${why ? ` (${why})` : ''}; expected NDJSON, CSV, XLSX, twcs or a platform's payloads`,
      );
    }
  }
  switch (fmt) {
    case 'ndjson':
      yield* readNdjson(path, opts);
      return;
    case 'csv':
    case 'xlsx':
      yield* readTableEvents(path, fmt, opts);
      return;
    case 'twcs':
      yield* readTwcs(path, opts);
      return;
    case 'payload':
      yield* readPayloadFile(path);
      return;
    default:
      throw new Error(`${path}: unknown import format ${JSON.stringify(fmt)}`);
  }
}
