/**
 * The inside of the server's writer and refresh threads (writer-worker.ts, refresh-worker.ts):
 * open the store on the thread's own connection, say ready (or why not), then answer the HTTP
 * thread's messages; `drain` and `close` mean the same in both.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type Store } from '../store/db.ts';
import type { FromWorker, WriterThreadData } from './writer-thread.ts';

export interface ThreadSide<M> {
  /** A message other than drain and close. */
  message(m: M): void;
  /** Finish what is in hand. */
  drain(): Promise<void>;
}

export async function serveThread<D extends WriterThreadData, M extends { t: string }>(
  setup: (store: Store, data: D, post: (m: FromWorker) => void) => ThreadSide<M>,
): Promise<void> {
  const port = parentPort!;
  const data = workerData as D;
  const post = (m: FromWorker) => port.postMessage(m);
  let store: Store;
  try {
    store = await openStore(data.target);
  } catch (e) {
    post({ t: 'fatal', error: (e as Error).message });
    process.exit(1);
  }
  const side = setup(store, data, post);
  port.on('message', (m: M | { t: 'drain'; id: number } | { t: 'close' }) => {
    if (m.t === 'drain') void side.drain().then(() => post({ t: 'drained', id: (m as { id: number }).id }));
    else if (m.t === 'close')
      void side
        .drain()
        .then(() => store.close())
        .then(() => {
          post({ t: 'closed' });
          port.close();
        });
    else side.message(m as M);
  });
  post({ t: 'ready' });
}
