/**
 * Reading import files as prepared batches (prepare.ts). When the files are large, one worker
 * thread reads, parses, validates and groups them, so that on two cores the main thread spends
 * its time writing while the worker prepares the next batch; the worker keeps the events it read
 * and, at the refresh, computes the facts of the threads that began in the import (a chunk ahead
 * of the main thread's writes). Small files are read in line, where starting a worker (loading
 * its modules) would cost more than it saves.
 */
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { ColumnReport } from '../connectors/csv/columns.ts';
import { detectFormat, readEvents } from '../connectors/index.ts';
import { openInput } from '../connectors/shared/input.ts';
import {
  DEFAULT_BATCH_SIZE,
  type ImportFormat,
  type ReadBatch,
  type ReadOptions,
} from '../connectors/types.ts';
import type { Reject } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import type { IdentitySnapshot } from './identities.ts';
import type { FactsSource, RemoteFacts } from './pipeline.ts';
import { moduleWorker } from '../util/module-worker.ts';
import { BatchPreparer, type PreparedBatch } from './prepare.ts';

export interface PreparedRead {
  prepared: PreparedBatch;
  /** What the reader itself refused (lines that are not JSON, rows without a time …). */
  rejects: Reject[];
  bytesRead: number;
  totalBytes: number;
  columns?: ColumnReport;
}

export interface WorkerData {
  options: ReadOptions;
  defaultSource: string;
  ahead: number;
  /** Events the worker keeps for the facts at most (as ImportCache's limit). */
  keepLimit: number;
}

export type ToWorker =
  | { type: 'read'; read: number; file: string; format: Exclude<ImportFormat, 'auto'> }
  | { type: 'more' }
  | { type: 'cancel'; read: number }
  | { type: 'context'; settings: Settings; identities: IdentitySnapshot }
  | { type: 'facts'; id: number; threads: string[] };

export type WorkerMessage =
  | ({ type: 'batch'; read: number } & PreparedRead)
  | { type: 'end'; read: number }
  | { type: 'error'; read: number; message: string }
  | ({ type: 'facts'; id: number } & RemoteFacts)
  | { type: 'facts-error'; id: number; message: string };

export interface ImportReaderOptions extends ReadOptions {
  defaultSource?: string;
  /** Files of together at least this many bytes are read in a worker thread (default 8 MB). */
  workerMinBytes?: number;
  /** Events the worker keeps for the facts at most. */
  keepLimit?: number;
}

const WORKER_MIN_BYTES = 8 << 20;

/** Items read and validated at a time in line: small enough that raw objects die young. */
const PREPARE_PIECE = 5000;

export class ImportReader implements FactsSource {
  private worker: Worker | null = null;
  private queue: WorkerMessage[] = [];
  private wake: (() => void) | null = null;
  private reads = 0;
  private asked = 0;
  private answers = new Map<number, { resolve(r: RemoteFacts): void; reject(e: Error): void }>();
  private failure: Error | null = null;
  private readonly options: ReadOptions;
  private readonly defaultSource: string;
  /** The size of the files to read, together. */
  readonly bytes: number = 0;

  constructor(files: string[], opts: ImportReaderOptions = {}) {
    const { defaultSource = 'import', workerMinBytes = WORKER_MIN_BYTES, keepLimit, ...options } = opts;
    this.options = options;
    this.defaultSource = defaultSource;
    for (const f of files) {
      try {
        this.bytes += statSync(f).size;
      } catch {
        // The reader names what is wrong with the path.
      }
    }
    if (this.bytes >= workerMinBytes && this.bytes > 0) this.start(keepLimit ?? 2_000_000);
  }

  /** Whether a worker reads (and can compute the facts of what it read). */
  get usesWorker(): boolean {
    return this.worker !== null;
  }

  private start(keepLimit: number): void {
    const data: WorkerData = {
      options: this.options,
      defaultSource: this.defaultSource,
      ahead: 2,
      keepLimit,
    };
    this.worker = moduleWorker(new URL('./import-worker.ts', import.meta.url), {
      // A larger young generation: the parse makes short-lived objects by the million, and each
      // scavenge of the default 16 MB one cost time (GC was 15% of the worker's time).
      resourceLimits: { maxYoungGenerationSizeMb: 96 },
      workerData: data,
    });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'facts' || m.type === 'facts-error') {
        const waiting = this.answers.get(m.id);
        this.answers.delete(m.id);
        if (m.type === 'facts') waiting?.resolve({ facts: m.facts, agents: m.agents });
        else waiting?.reject(new Error(m.message));
        return;
      }
      this.push(m);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const w of this.answers.values()) w.reject(e);
      this.answers.clear();
      this.push({ type: 'error', read: this.reads, message: e.message });
    };
    this.worker.on('error', (e) => fail(new Error(`the import reader failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (this.worker) fail(new Error(`the import reader stopped (exit ${code})`));
    });
  }

  private push(m: WorkerMessage): void {
    this.queue.push(m);
    this.wake?.();
    this.wake = null;
  }

  private send(m: ToWorker): void {
    this.worker!.postMessage(m);
  }

  /** The batches of one file. Files are read one at a time. */
  async *read(file: string, format: ImportFormat): AsyncGenerator<PreparedRead> {
    let fmt = format === 'auto' ? null : format;
    if (this.worker && fmt === null) fmt = detectFormat(file, (await openInput(file)).head);
    if (!this.worker || fmt === null) {
      // In line; an unrecognised file gets its error, which says why, from the reader. Read in
      // small pieces, prepared as they come (BatchPreparer), handed on a whole batch at a time.
      const size = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
      // Equal pieces of at most PREPARE_PIECE items that make up a batch (exactly, when they divide it).
      const piece = { ...this.options, batchSize: Math.ceil(size / Math.ceil(size / PREPARE_PIECE)) };
      let p = new BatchPreparer(file, this.defaultSource);
      let rejects: Reject[] = [];
      let columns: ColumnReport | undefined;
      let last: ReadBatch | undefined;
      const done = (b: ReadBatch): PreparedRead => {
        const out: PreparedRead = {
          prepared: p.finish(),
          rejects,
          bytesRead: b.bytesRead,
          totalBytes: b.totalBytes,
          ...(columns ? { columns } : {}),
        };
        p = new BatchPreparer(file, this.defaultSource);
        rejects = [];
        columns = undefined;
        last = undefined;
        return out;
      };
      for await (const b of readEvents(file, format, piece)) {
        p.add(b.items);
        for (const r of b.rejects) rejects.push(r);
        columns ??= b.columns;
        last = b;
        if (p.size + rejects.length >= size) yield done(b);
      }
      if (last) yield done(last);
      return;
    }
    if (this.failure) throw new Error(`${file}: ${this.failure.message}`);
    const id = ++this.reads;
    this.send({ type: 'read', read: id, file, format: fmt });
    let finished = false;
    try {
      for (;;) {
        if (!this.queue.length) await new Promise<void>((r) => (this.wake = r));
        const m = this.queue.shift()!;
        if (!('read' in m) || m.read !== id) continue; // left from a file given up before
        if (m.type === 'end') {
          finished = true;
          return;
        }
        if (m.type === 'error') {
          finished = true;
          throw new Error(m.message.startsWith(file) ? m.message : `${file}: ${m.message}`);
        }
        this.send({ type: 'more' });
        const { type: _, read: __, ...batch } = m;
        yield batch;
      }
    } finally {
      if (!finished && this.worker) this.send({ type: 'cancel', read: id });
    }
  }

  setContext(settings: Settings, identities: IdentitySnapshot): void {
    this.send({ type: 'context', settings, identities });
  }

  facts(threads: string[]): Promise<RemoteFacts> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.asked;
    const answer = new Promise<RemoteFacts>((resolve, reject) => this.answers.set(id, { resolve, reject }));
    this.send({ type: 'facts', id, threads });
    return answer;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
