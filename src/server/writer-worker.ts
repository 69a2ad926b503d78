/**
 * The writer thread (see writer-thread.ts): its own connection to the store, a `Writer` on it, and
 * messages from the HTTP thread. Loaded through the bootstrap in writer-thread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AcceptResult } from '../ingest/pipeline.ts';
import { openStore, type Store } from '../store/db.ts';
import { SharedRefreshGate } from './gate.ts';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-thread.ts';
import { Writer } from './writer.ts';

const port = parentPort!;
const data = workerData as WriterThreadData;
const post = (m: FromWriter) => port.postMessage(m);

let store: Store;
try {
  store = await openStore(data.target);
} catch (e) {
  post({ t: 'fatal', error: (e as Error).message });
  process.exit(1);
}
const gate = new SharedRefreshGate(data.gate);
const writer = new Writer(store, data.policy, gate, (stats) => post({ t: 'refreshed', stats }));

port.on('message', (m: ToWriter) => {
  if (m.t === 'ops') {
    // Every op of the batch is queued before the first write starts: one group commit.
    const done = m.ops.map((op) =>
      op.kind === 'accept'
        ? writer.accept(op.items, op.origin, op.sourceId, op.extraRejects)
        : writer.note(op.note).then(() => undefined),
    );
    void Promise.allSettled(done).then((settled) =>
      post({
        t: 'done',
        batch: m.batch,
        results: settled.map((s) =>
          s.status === 'fulfilled'
            ? { ok: true, result: s.value as AcceptResult | undefined }
            : { ok: false, error: (s.reason as Error).message },
        ),
      }),
    );
  } else if (m.t === 'drain') {
    void writer.drain().then(() => post({ t: 'drained', id: m.id }));
  } else if (m.t === 'close') {
    void writer
      .drain()
      .then(() => store.close())
      .then(() => {
        post({ t: 'closed' });
        port.close();
      });
  }
});
post({ t: 'ready' });
