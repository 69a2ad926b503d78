/**
 * The writer and the fact refresh in threads of their own. Node runs JavaScript on one core per
 * thread; with the writer in the HTTP thread, the database work (accepts and fact refreshes) and
 * the HTTP work (parsing, signatures, connectors) queued behind each other on one core. Here the
 * HTTP thread checks and opens requests, the writer thread stores them, and the refresh thread
 * recomputes the facts of what was stored, beside the accepts rather than between them: during a
 * refresh the accepts wait only while its transaction writes.
 *
 * Each thread opens its own connection (SQLite in WAL mode takes one writer at a time and many
 * readers; reports keep reading on the HTTP thread's). Group commit carries across: requests that
 * arrive while the writer thread is busy go to it together, as one batch, one transaction. A
 * request is answered 200 only after the writer thread has committed it, as before.
 */
import type { Worker } from 'node:worker_threads';
import type { AcceptResult } from '../ingest/pipeline.ts';
import type { Reject } from '../model/events.ts';
import { SharedReadGate, sharedGateBuffer } from './gate.ts';
import { moduleWorker } from '../util/module-worker.ts';
import { idleStats, type RefreshPolicy, type RefreshStats } from './refresher.ts';
import type { LiveWriter, Note } from './writer.ts';

export interface WriterThreadData {
  /** The store to open: a SQLite path or a postgres:// URL (with its password). */
  target: string;
}

export interface RefreshThreadData extends WriterThreadData {
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

type Control = { t: 'drain'; id: number } | { t: 'close' };
export type ToWriter = { t: 'ops'; batch: number; ops: Op[] } | Control;
/** `poke`: events were accepted. */
export type ToRefresher = { t: 'poke' } | Control;

export type FromWorker =
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

/** The server's two threads: their module, and their name in errors. */
const THREADS = {
  writer: { file: './writer-worker.ts', name: 'writer thread' },
  refresher: { file: './refresh-worker.ts', name: 'refresh thread' },
} as const;
type ThreadKind = keyof typeof THREADS;
const stopped = (kind: ThreadKind, code: number) =>
  new Error(`the ${THREADS[kind].name} stopped (exit code ${code})`);

/** Start a thread; resolves once it has opened its store, rejects with its reason if it cannot. */
async function startThread(
  kind: ThreadKind,
  workerData: WriterThreadData | RefreshThreadData,
): Promise<Worker> {
  const worker = moduleWorker(new URL(THREADS[kind].file, import.meta.url), { workerData });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.t === 'ready') done(null);
      else if (m.t === 'fatal') done(new Error(m.error));
    };
    const onError = (e: Error) => done(e);
    const onExit = (code: number) => done(stopped(kind, code));
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
  return worker;
}

export class ThreadWriter implements LiveWriter {
  private queue: Waiting[] = [];
  private sent = new Map<number, Waiting[]>();
  private batches = 0;
  private drainIds = 0;
  private sendScheduled = false;
  private drains = new Map<number, () => void>();
  private broken: Error | undefined;
  private closing = false;
  /**
   * A poke is with the refresh thread and no refresh has reported since: it has a refresh due, so
   * another poke would only cost a message (a tenth of this thread's messages). Accepts meanwhile
   * set `missed`, and the refresh's report pokes again for them.
   */
  private poked = false;
  private missed = false;
  private stats: RefreshStats;
  private readonly reads: SharedReadGate;
  private closed: Promise<void> | undefined;
  pending = 0;

  private constructor(
    private readonly writer: Worker,
    private readonly refresher: Worker,
    gate: SharedArrayBuffer,
    policy: RefreshPolicy,
  ) {
    this.reads = new SharedReadGate(gate);
    this.stats = idleStats(policy);
    for (const [worker, kind] of [
      [writer, 'writer'],
      [refresher, 'refresher'],
    ] as const) {
      worker.on('message', (m: FromWorker) => this.onMessage(m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => this.fail(stopped(kind, code)));
    }
  }

  /** Start the writer and refresh threads on `target`; resolves once both have opened the store. */
  static async start(target: string, policy: RefreshPolicy = {}): Promise<ThreadWriter> {
    const gate = sharedGateBuffer();
    // One after the other: the first opens (and migrates) the store alone.
    const writer = await startThread('writer', { target });
    let refresher: Worker;
    try {
      refresher = await startThread('refresher', { target, policy, gate });
    } catch (e) {
      await writer.terminate();
      throw e;
    }
    return new ThreadWriter(writer, refresher, gate, policy);
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
    this.writer.postMessage({ t: 'ops', batch, ops: list.map((w) => w.op) } satisfies ToWriter);
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

  /** Why the writer or refresh thread is gone, if one is: nothing more can be stored. */
  get failure(): string | undefined {
    return this.broken?.message;
  }

  refreshStats(): RefreshStats {
    return { ...this.stats, lastError: this.broken?.message ?? this.stats.lastError };
  }

  private onMessage(m: FromWorker): void {
    if (m.t === 'done') {
      const list = this.sent.get(m.batch) ?? [];
      this.sent.delete(m.batch);
      let accepted = false;
      m.results.forEach((r, i) => {
        const w = list[i]!;
        if (r.ok) {
          if (r.result?.accepted) accepted = true;
          w.resolve(r.result);
        } else w.reject(new Error(r.error));
      });
      if (accepted) this.poke();
      this.send();
    } else if (m.t === 'refreshed') {
      this.stats = m.stats;
      this.poked = false;
      if (this.missed) this.poke();
    } else if (m.t === 'drained') {
      this.drains.get(m.id)?.();
      this.drains.delete(m.id);
    }
  }

  /** Tell the refresh thread that events were accepted, unless it has a refresh due already. */
  private poke(): void {
    if (this.poked) {
      // Possibly after the due refresh read the dirty marks: it pokes again when it reports.
      this.missed = true;
      return;
    }
    this.poked = true;
    this.missed = false;
    this.refresher.postMessage({ t: 'poke' } satisfies ToRefresher);
  }

  /** A thread is gone: nothing in its hands was acknowledged, and nothing more can be stored. */
  private fail(e: Error): void {
    if (this.broken || this.closing) return;
    this.broken = e;
    for (const list of this.sent.values()) for (const w of list) w.reject(e);
    this.sent.clear();
    for (const w of this.queue.splice(0)) w.reject(e);
    for (const d of this.drains.values()) d();
    this.drains.clear();
  }

  private ask(worker: Worker): Promise<void> {
    const id = ++this.drainIds;
    return new Promise<void>((resolve) => {
      this.drains.set(id, resolve);
      worker.postMessage({ t: 'drain', id } satisfies Control);
    });
  }

  async drain(): Promise<void> {
    // Writes still queued here go first; the writer thread drains after them, then the refresh.
    while ((this.queue.length || this.sent.size) && !this.broken) await new Promise((r) => setTimeout(r, 5));
    if (this.broken) return;
    await this.ask(this.writer);
    if (!this.broken) await this.ask(this.refresher);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.drain();
      if (this.broken) return;
      this.closing = true;
      await Promise.all(
        [this.writer, this.refresher].map(
          (worker) =>
            new Promise<void>((resolve) => {
              worker.once('exit', () => resolve());
              worker.postMessage({ t: 'close' } satisfies Control);
            }),
        ),
      );
    })();
    return this.closed;
  }
}
