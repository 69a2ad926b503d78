/**
 * The worker half of a bulk import (import-reader.ts): read the file, parse, validate and group
 * each batch on this thread, and hand the prepared batches to the main thread, which only writes.
 * At most `ahead` batches wait unwritten, so a fast reader cannot fill the memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImportFormat, ReadBatch, ReadOptions } from '../connectors/types.ts';
import { prepareBatch } from './prepare.ts';
import type { WorkerData, WorkerMessage } from './import-reader.ts';

const data = workerData as WorkerData;
const port = parentPort!;
let credits = data.ahead;
let wake: (() => void) | null = null;
port.on('message', (m: 'more') => {
  if (m !== 'more') return;
  credits++;
  wake?.();
  wake = null;
});

async function reader(
  path: string,
  format: Exclude<ImportFormat, 'auto'>,
  opts: ReadOptions,
): Promise<AsyncGenerator<ReadBatch>> {
  // NDJSON needs only its own reader: the others load exceljs (most of a second to start).
  if (format === 'ndjson') return (await import('../connectors/ndjson/reader.ts')).readNdjson(path, opts);
  return (await import('../connectors/index.ts')).readEvents(path, format, opts);
}

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

try {
  for await (const batch of await reader(data.file, data.format, data.options)) {
    if (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    const prepared = prepareBatch(batch.items, data.file, data.defaultSource);
    post(
      {
        type: 'batch',
        prepared,
        rejects: batch.rejects,
        bytesRead: batch.bytesRead,
        totalBytes: batch.totalBytes,
        columns: batch.columns,
      },
      [prepared.status.buffer as ArrayBuffer],
    );
  }
  post({ type: 'end' });
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
port.close();
