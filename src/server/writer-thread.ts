/**
 * The writer in its own thread. Node runs JavaScript on one core per thread; with the writer in
 * the HTTP thread, the database work (accepts and fact refreshes) and the HTTP work (parsing,
 * signatures, connectors) queued behind each other on one core. Here the HTTP thread checks and
 * opens requests and the writer thread stores them, each on its own core.
 *
 * The writer thread opens its own connection (SQLite in WAL mode takes one writer and many
 * readers; reports keep reading on the HTTP thread's). Group commit carries across: requests that
 * arrive while the writer thread is busy go to it together, as one batch, one transaction. A
 * request is answered 200 only after the writer thread has committed it, as before.
 */
import type { Worker } from 'node:worker_threads';
import type { AcceptResult } from '../ingest/pipeline.ts';
import type { Reject } from '../model/events.ts';
import { SharedReadGate, sharedGateBuffer } from './gate.ts';
import { moduleWorker } from '../util/module-worker.ts';
import type { LiveWriter, Note, RefreshPolicy, RefreshStats } from './writer.ts';

export interface WriterThreadData {
  /** The store to open: a SQLite path or a postgres:// URL (with its password). */
  target: string;
  policy: RefreshPolicy;
  gate: SharedArrayBuffer;
}

type AcceptOp = {
  kind: 'accept';
  items: { line: number; raw: unknown }[];
  origin: string;
  sourceId: string;
  extraRejects: Reject[];
};
type Op = AcceptOp | { kind: 'note'; note: Note };

export type ToWriter = { t: 'ops'; batch: number; ops: Op[] } | { t: 'drain'; id: number } | { t: 'close' };

export type FromWriter =
  | { t: 'ready' }
  | { t: 'fatal'; error: string }
  | {
      t: 'done';
      batch: number;
      results: ({ ok: true; result?: AcceptResult } | { ok: false; error: string })[];
    }
  | { t: 'refreshed'; stats: RefreshStats }
  | { t: 'drained'; id: number }
  | { t: 'closed' };

interface Waiting {
  op: Op;
  resolve(r: AcceptResult | undefined): void;
  reject(e: Error): void;
}

/**
 * Batches in the writer thread's hands at once: two, so that it finds the next batch waiting when
 * it finishes one, while everything arriving meanwhile gathers into the batch after.
 */
const IN_FLIGHT = 2;

export class ThreadWriter implements LiveWriter {
  private queue: Waiting[] = [];
  private sent = new Map<number, Waiting[]>();
  private batches = 0;
  private drainIds = 0;
  private sendScheduled = false;
  private drains = new Map<number, () => void>();
  private broken: Error | undefined;
  private stats: RefreshStats;
  private readonly reads: SharedReadGate;
  private closed: Promise<void> | undefined;
  pending = 0;

  private constructor(
    private readonly worker: Worker,
    gate: SharedArrayBuffer,
    policy: RefreshPolicy,
  ) {
    this.reads = new SharedReadGate(gate);
    this.stats = {
      refreshes: 0,
      lastMs: 0,
      lastAt: null,
      totalMs: 0,
      delayMs: policy.refreshDelayMs ?? 100,
      lastError: null,
    };
    worker.on('message', (m: FromWriter) => this.onMessage(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`the writer thread stopped (exit code ${code})`)));
  }

  /** Start the writer thread on `target`; resolves once its store is open. */
  static async start(target: string, policy: RefreshPolicy = {}): Promise<ThreadWriter> {
    const gate = sharedGateBuffer();
    const data: WriterThreadData = { target, policy, gate };
    const worker = moduleWorker(new URL('./writer-worker.ts', import.meta.url), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWriter) => {
        if (m.t === 'ready') done(null);
        else if (m.t === 'fatal') done(new Error(m.error));
      };
      const onError = (e: Error) => done(e);
      const onExit = (code: number) => done(new Error(`the writer thread stopped (exit code ${code})`));
      const done = (e: Error | null) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (e) reject(e);
        else resolve();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
    return new ThreadWriter(worker, gate, policy);
  }

  private submit(op: Op): Promise<AcceptResult | undefined> {
    if (this.broken) return Promise.reject(this.broken);
    this.pending++;
    return new Promise<AcceptResult | undefined>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      // The requests read in the same turn of the event loop go as one message: a message costs
      // the same for one request as for fifty.
      if (!this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(() => {
          this.sendScheduled = false;
          this.send();
        });
      }
    }).finally(() => {
      this.pending--;
    });
  }

  private send(): void {
    if (this.sent.size >= IN_FLIGHT || !this.queue.length) return;
    const list = this.queue.splice(0);
    const batch = ++this.batches;
    this.sent.set(batch, list);
    this.worker.postMessage({ t: 'ops', batch, ops: list.map((w) => w.op) } satisfies ToWriter);
  }

  accept(
    items: { line: number; raw: unknown }[],
    origin: string,
    sourceId: string,
    extraRejects: Reject[] = [],
  ): Promise<AcceptResult> {
    return this.submit({ kind: 'accept', items, origin, sourceId, extraRejects }) as Promise<AcceptResult>;
  }

  async note(note: Note): Promise<void> {
    await this.submit({ kind: 'note', note });
  }

  read<T>(fn: () => Promise<T>): Promise<T> {
    return this.reads.read(fn);
  }

  /** Why the writer thread is gone, if it is: nothing more can be stored. */
  get failure(): string | undefined {
    return this.broken?.message;
  }

  refreshStats(): RefreshStats {
    return { ...this.stats, lastError: this.broken?.message ?? this.stats.lastError };
  }

  private onMessage(m: FromWriter): void {
    if (m.t === 'done') {
      const list = this.sent.get(m.batch) ?? [];
      this.sent.delete(m.batch);
      m.results.forEach((r, i) => {
        const w = list[i]!;
        if (r.ok) w.resolve(r.result);
        else w.reject(new Error(r.error));
      });
      this.send();
    } else if (m.t === 'refreshed') this.stats = m.stats;
    else if (m.t === 'drained') {
      this.drains.get(m.id)?.();
      this.drains.delete(m.id);
    }
  }

  /** The thread is gone: nothing in its hands was acknowledged, and nothing more can be stored. */
  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const list of this.sent.values()) for (const w of list) w.reject(e);
    this.sent.clear();
    for (const w of this.queue.splice(0)) w.reject(e);
    for (const d of this.drains.values()) d();
    this.drains.clear();
  }

  async drain(): Promise<void> {
    // Writes still queued here go first; the writer thread drains after them.
    while ((this.queue.length || this.sent.size) && !this.broken) await new Promise((r) => setTimeout(r, 5));
    if (this.broken) return;
    const id = ++this.drainIds;
    await new Promise<void>((resolve) => {
      this.drains.set(id, resolve);
      this.worker.postMessage({ t: 'drain', id } satisfies ToWriter);
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.drain();
      if (this.broken) return;
      await new Promise<void>((resolve) => {
        this.worker.once('exit', () => resolve());
        this.worker.postMessage({ t: 'close' } satisfies ToWriter);
      });
    })();
    return this.closed;
  }
}
