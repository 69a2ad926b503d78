/**
 * Canonical NDJSON: one event object per line. Only JSON.parse and a plain-object check happen here;
 * the ingest validates with validateEvent. Schema validation per line would halve the throughput
 * this path must sustain (hundreds of thousands of lines a second), and the ingest does it anyway.
 *
 * Decisions:
 * - Blank lines are skipped; a line over 1 MB is a reject, never buffered whole.
 * - Invalid UTF-8 bytes decode to U+FFFD instead of rejecting the line: one damaged byte in a text
 *   must not lose the message.
 * - With an explicit timezone, string timestamps without an offset (ts, dueTs) are converted here,
 *   since validateEvent reads them in the default zone. Without one they are passed through.
 */
import { parseTimestamp } from '../../model/time.ts';
import { assertHasContent, binaryReason, openInput, sniffEncoding } from '../shared/input.ts';
import { MAX_LINE_CHARS, readLineBlocks } from '../shared/lines.ts';
import { clip, checkOptions, DEFAULT_BATCH_SIZE, type ReadBatch, type ReadOptions } from '../types.ts';

export async function* readNdjson(path: string, opts: ReadOptions = {}): AsyncGenerator<ReadBatch> {
  checkOptions(opts);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const tz = opts.timezone;
  const opened = await openInput(path);
  const sniffed = sniffEncoding(opened.head, opened.size <= opened.head.length);
  // NDJSON is UTF-8 by definition; only the BOM is honoured, GB bytes become U+FFFD.
  const bomLength = sniffed.encoding === 'utf8' ? sniffed.bomLength : 0;
  const why = binaryReason(opened.head, { encoding: 'utf8', bomLength });
  if (why) throw new Error(`${path}: ${why}`);
  assertHasContent(opened, { encoding: 'utf8', bomLength });

  let batch: ReadBatch = { items: [], rejects: [], bytesRead: 0, totalBytes: opened.size };
  for await (const block of readLineBlocks(path, { encoding: 'utf8', skipBytes: bomLength })) {
    const { lines, firstLine } = block;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i];
      const line = firstLine + i;
      if (text === null) {
        batch.rejects.push({
          file: path,
          line,
          reason: `line exceeds the size limit of ${MAX_LINE_CHARS} characters`,
        });
      } else if (text.length > 0 && !isBlank(text)) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          batch.rejects.push({
            file: path,
            line,
            reason: `invalid JSON: ${(err as Error).message}`,
            raw: clip(text),
          });
          continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          batch.rejects.push({
            file: path,
            line,
            reason: `expected a JSON object (one event per line), got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
            raw: clip(text),
          });
          continue;
        }
        fixTimes(value as Record<string, unknown>, tz);
        batch.items.push({ line, raw: value });
      }
      if (batch.items.length + batch.rejects.length >= batchSize) {
        batch.bytesRead = block.bytesRead;
        yield batch;
        batch = { items: [], rejects: [], bytesRead: block.bytesRead, totalBytes: opened.size };
      }
    }
    batch.bytesRead = block.bytesRead;
  }
  batch.bytesRead = opened.size;
  yield batch;
}

function isBlank(s: string): boolean {
  const c = s.charCodeAt(0);
  // Only lines starting with whitespace can be blank; most lines start with "{".
  if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  return s.trim() === '';
}

/**
 * Times without an offset are local: with the import's timezone they are converted here; without
 * one the model reads them in its default zone. Strings with an offset read the same in any zone.
 */
function fixTimes(o: Record<string, unknown>, tz: string | undefined): void {
  if (!tz) return;
  if (typeof o.ts === 'string') o.ts = parseTimestamp(o.ts, tz) ?? o.ts;
  if (typeof o.dueTs === 'string') o.dueTs = parseTimestamp(o.dueTs, tz) ?? o.dueTs;
}
