/**
 * The writer thread (see writer-thread.ts): a `Writer` on its own connection that only stores
 * (the refresh thread refreshes the facts), fed batches of requests by the HTTP thread.
 */
import type { AcceptResult } from '../ingest/pipeline.ts';
import { serveThread } from './thread-side.ts';
import type { ToWriter, WriterThreadData } from './writer-thread.ts';
import { Writer } from './writer.ts';

await serveThread<WriterThreadData, ToWriter>((store, _data, post) => {
  const writer = new Writer(store, {}, { refreshElsewhere: true });
  return {
    message(m) {
      if (m.t !== 'ops') return;
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
    },
    drain: () => writer.drain(),
  };
});
