/**
 * The worker half of a bulk import (import-reader.ts). It reads the files one after the other,
 * parses, validates and groups each batch, and hands the prepared batches to the main thread,
 * which only writes; at most `ahead` batches wait unwritten, so a fast reader cannot fill the
 * memory. It keeps the events of the threads it read, and when the main thread refreshes the
 * facts it computes the facts of those threads here, a chunk ahead of the main thread's writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImportFormat, ReadBatch, ReadOptions } from '../connectors/types.ts';
import type { CanonicalEvent } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import { decodeBlock } from './blocks.ts';
import { Identities, type IdentitySnapshot } from './identities.ts';
import type { ToWorker, WorkerData, WorkerMessage } from './import-reader.ts';
import { isConversationThread, prepareBatch } from './prepare.ts';
import { contextFor, type FactsContext, factsOfThreads } from './thread-facts.ts';

const data = workerData as WorkerData;
const port = parentPort!;
let credits = data.ahead;
let wake: (() => void) | null = null;
let cancelled = -1;
let reading: Promise<void> = Promise.resolve();

/**
 * The blocks of each conversation thread read so far, up to `data.keepLimit` events. Kept
 * encoded, not as objects: a million live events made the garbage collector a third of this
 * thread's time; strings it does not trace.
 */
const held = new Map<string, string[]>();
let heldEvents = 0;

function keep(thread: string, block: string, count: number): boolean {
  if (!isConversationThread(thread)) return false;
  const list = held.get(thread);
  if (list) list.push(block);
  else {
    if (heldEvents >= data.keepLimit) return false;
    held.set(thread, [block]);
  }
  heldEvents += count;
  return true;
}

let ctx: FactsContext | null = null;

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function reader(
  path: string,
  format: Exclude<ImportFormat, 'auto'>,
  opts: ReadOptions,
): Promise<AsyncGenerator<ReadBatch>> {
  // NDJSON needs only its own reader: the others load exceljs (most of a second to start).
  if (format === 'ndjson') return (await import('../connectors/ndjson/reader.ts')).readNdjson(path, opts);
  return (await import('../connectors/index.ts')).readEvents(path, format, opts);
}

async function read(id: number, file: string, format: Exclude<ImportFormat, 'auto'>): Promise<void> {
  // Batches of a file given up were dropped unanswered: each file starts with the full allowance.
  credits = data.ahead;
  try {
    for await (const batch of await reader(file, format, data.options)) {
      while (credits === 0 && cancelled !== id) await new Promise<void>((r) => (wake = r));
      if (cancelled === id) return;
      credits--;
      const prepared = prepareBatch(batch.items, file, data.defaultSource, keep);
      post(
        {
          type: 'batch',
          read: id,
          prepared,
          rejects: batch.rejects,
          bytesRead: batch.bytesRead,
          totalBytes: batch.totalBytes,
          columns: batch.columns,
        },
        [prepared.status.buffer as ArrayBuffer],
      );
    }
    post({ type: 'end', read: id });
  } catch (e) {
    post({ type: 'error', read: id, message: (e as Error).message });
  }
}

function facts(id: number, threads: string[]): void {
  try {
    if (!ctx) throw new Error('facts asked before the context');
    const byThread = new Map<string, CanonicalEvent[]>();
    for (const t of threads) {
      const blocks = held.get(t);
      if (!blocks) throw new Error(`thread ${t} is not held by the import worker`);
      byThread.set(t, blocks.length === 1 ? decodeBlock(blocks[0]!) : blocks.flatMap(decodeBlock));
      held.delete(t);
    }
    const f = factsOfThreads(byThread, ctx);
    post({ type: 'facts', id, facts: f, agents: ctx.identities.takePending() });
  } catch (e) {
    post({ type: 'facts-error', id, message: (e as Error).message });
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'more':
      credits++;
      break;
    case 'cancel':
      cancelled = m.read;
      break;
    case 'read':
      // Files are read one after the other, in the order asked.
      reading = reading.then(() => read(m.read, m.file, m.format));
      return;
    case 'context':
      ctx = contextFor(m.settings as Settings, Identities.fromSnapshot(m.identities as IdentitySnapshot));
      return;
    case 'facts':
      facts(m.id, m.threads);
      return;
  }
  wake?.();
  wake = null;
});
