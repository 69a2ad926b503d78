/** `cspulse import`: files → inbox → facts, with a summary of what was accepted and rejected. */
import type { ImportFormat } from '../connectors/index.ts';
import type { ColumnOptions } from '../connectors/csv/columns.ts';
import { dictionaryDir, loadUserDictionaries } from '../ingest/dictionaries.ts';
import { ImportReader } from '../ingest/import-reader.ts';
import { loadMapping } from '../ingest/mappings.ts';
import { ImportCache, recordRejects, refreshFacts, storePrepared } from '../ingest/pipeline.ts';
import type { Reject } from '../model/events.ts';
import { Checkpointer } from '../store/checkpointer.ts';
import type { Store } from '../store/db.ts';
import { progressBar } from './progress.ts';

export interface ImportSummary {
  accepted: number;
  duplicates: number;
  rejected: number;
  rejects: Omit<Reject, 'raw'>[];
  failedFiles: string[];
}

/** Events per transaction: fewer, larger commits write each index page once instead of many times. */
const IMPORT_BATCH = 100_000;

/** Below this, the import's few checkpoints are not worth a thread's start (about 30 ms). */
const CHECKPOINTER_MIN_BYTES = 8 << 20;

/** At most this many rejects are listed in the summary; all of them are kept in the database. */
const LISTED_REJECTS = 1000;

export async function importFiles(
  store: Store,
  files: string[],
  format: ImportFormat,
  o: {
    quiet?: boolean;
    mapping?: string;
    dictionaries?: string;
    workerMinBytes?: number;
    /** Files of together this many bytes get their WAL checkpoints on a thread of their own (default 8 MB). */
    checkpointerMinBytes?: number;
  } = {},
): Promise<ImportSummary> {
  const summary: ImportSummary = { accepted: 0, duplicates: 0, rejected: 0, rejects: [], failedFiles: [] };
  // A wrong mapping name or dictionary file stops the import before any file is read.
  const columns: ColumnOptions = {
    ...(o.mapping ? { mapping: (await loadMapping(store, o.mapping)).columns } : {}),
    dictionaries: await loadUserDictionaries(store, dictionaryDir(o.dictionaries)),
  };
  const note = (rs: Reject[]) => {
    summary.rejected += rs.length;
    for (const r of rs)
      if (summary.rejects.length < LISTED_REJECTS)
        summary.rejects.push({ file: r.file, line: r.line, reason: r.reason });
  };
  const cache = new ImportCache();
  const reader = new ImportReader(files, {
    batchSize: IMPORT_BATCH,
    columns,
    // The worker thread only when asked: on two cores it measured slower than reading in line
    // (1M into SQLite 30.2 s and 50 CPU s against 24.9 s and 31 CPU s: the structured clone, and
    // the garbage of both heaps; bench/RESULTS.md 2026-12-03). It may pay on more cores; not measured.
    workerMinBytes: o.workerMinBytes ?? Number.POSITIVE_INFINITY,
  });
  const checkpointer =
    reader.bytes >= (o.checkpointerMinBytes ?? CHECKPOINTER_MIN_BYTES)
      ? await Checkpointer.start(store)
      : undefined;
  try {
    if (reader.usesWorker) cache.remote = reader;
    await importEach(store, files, format, reader, cache, note, summary, o.quiet);
    await refreshFacts(store, o.quiet ? undefined : progressBar('计算 / computing facts'), undefined, cache);
  } finally {
    await checkpointer?.stop();
    await reader.close();
  }
  return summary;
}

async function importEach(
  store: Store,
  files: string[],
  format: ImportFormat,
  reader: ImportReader,
  cache: ImportCache,
  note: (rs: Reject[]) => void,
  summary: ImportSummary,
  quiet?: boolean,
): Promise<void> {
  for (const file of files) {
    const bar = quiet ? undefined : progressBar(`导入 / importing ${file}`);
    try {
      for await (const batch of reader.read(file, format)) {
        const r = await storePrepared(store, batch.prepared, cache);
        summary.accepted += r.accepted;
        summary.duplicates += r.duplicates;
        note(r.rejects);
        if (batch.rejects.length) {
          await recordRejects(store, batch.rejects);
          note(batch.rejects);
        }
        bar?.(batch.bytesRead, batch.totalBytes);
      }
    } catch (e) {
      // One unreadable file does not stop the others; what was accepted before stays accepted.
      // What the cache and the worker hold may now differ from what was stored: facts are read
      // back from the database instead.
      cache.clear();
      cache.remote = undefined;
      const reject = { file, line: 0, reason: (e as Error).message };
      await recordRejects(store, [reject]);
      note([reject]);
      summary.failedFiles.push(file);
    }
  }
}
