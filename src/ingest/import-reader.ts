/**
 * Reading an import file as prepared batches (prepare.ts). A large file is read, parsed,
 * validated and grouped in a worker thread, so that on two cores the main thread spends its time
 * writing to the database while the worker prepares the next batch; a small one is read in line,
 * where starting a worker (loading its modules) would cost more than it saves.
 */
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { detectFormat, readEvents } from '../connectors/index.ts';
import { openInput } from '../connectors/shared/input.ts';
import type { ColumnReport } from '../connectors/csv/columns.ts';
import type { ImportFormat, ReadOptions } from '../connectors/types.ts';
import type { Reject } from '../model/events.ts';
import { type PreparedBatch, prepareBatch } from './prepare.ts';

export interface PreparedRead {
  prepared: PreparedBatch;
  /** What the reader itself refused (lines that are not JSON, rows without a time …). */
  rejects: Reject[];
  bytesRead: number;
  totalBytes: number;
  columns?: ColumnReport;
}

export interface WorkerData {
  file: string;
  format: Exclude<ImportFormat, 'auto'>;
  options: ReadOptions;
  defaultSource: string;
  ahead: number;
}

export type WorkerMessage =
  | ({ type: 'batch' } & PreparedRead)
  | { type: 'end' }
  | { type: 'error'; message: string };

export interface PreparedReadOptions extends ReadOptions {
  defaultSource?: string;
  /** Files of at least this many bytes are read in a worker thread (default 8 MB). */
  workerMinBytes?: number;
}

const WORKER_MIN_BYTES = 8 << 20;

export async function* readPrepared(
  file: string,
  format: ImportFormat,
  opts: PreparedReadOptions = {},
): AsyncGenerator<PreparedRead> {
  const { defaultSource = 'import', workerMinBytes = WORKER_MIN_BYTES, ...options } = opts;
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // The reader names what is wrong with the path.
  }
  if (size < workerMinBytes) {
    for await (const b of readEvents(file, format, options))
      yield {
        prepared: prepareBatch(b.items, file, defaultSource),
        rejects: b.rejects,
        bytesRead: b.bytesRead,
        totalBytes: b.totalBytes,
        columns: b.columns,
      };
    return;
  }
  let fmt = format === 'auto' ? null : format;
  if (fmt === null) {
    fmt = detectFormat(file, (await openInput(file)).head);
    // Unrecognised: the in-line reader gives the error that says why.
    if (fmt === null) {
      yield* readPrepared(file, format, { ...opts, workerMinBytes: Number.POSITIVE_INFINITY });
      return;
    }
  }
  yield* viaWorker({ file, format: fmt, options, defaultSource, ahead: 2 });
}

/** The worker runs the TypeScript sources too: an eval'd worker gets no --import, so it registers tsx. */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  (await import(workerData.tsx)).register();
  await import(workerData.module);
})().catch((e) => { throw e; });
`;

/** tsx's ESM entry (its CommonJS one cannot be imported from an ESM context). */
function tsxApi(): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

async function* viaWorker(data: WorkerData): AsyncGenerator<PreparedRead> {
  const worker = new Worker(BOOT, {
    eval: true,
    // A larger young generation: the parse makes short-lived objects by the million, and each
    // scavenge of the default 16 MB one cost time (measured: GC was 15% of the worker's time).
    resourceLimits: { maxYoungGenerationSizeMb: 96 },
    workerData: {
      ...data,
      tsx: tsxApi(),
      module: new URL('./import-worker.ts', import.meta.url).href,
    },
  });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const push = (m: WorkerMessage) => {
    queue.push(m);
    wake?.();
    wake = null;
  };
  worker.on('message', push);
  worker.on('error', (e) => push({ type: 'error', message: `${data.file}: ${e.message}` }));
  worker.on('exit', (code) => {
    if (code !== 0)
      push({ type: 'error', message: `${data.file}: the import reader stopped (exit ${code})` });
  });
  try {
    for (;;) {
      if (!queue.length) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.type === 'end') return;
      if (m.type === 'error') {
        failure = new Error(m.message);
        throw failure;
      }
      worker.postMessage('more');
      const { type: _, ...read } = m;
      yield read;
    }
  } finally {
    await worker.terminate();
  }
}
