/**
 * The refresh thread (see writer-thread.ts): a `Refresher` on its own connection, poked by the HTTP
 * thread when events were accepted. It refreshes the facts beside the writer thread's accepts,
 * which wait for it only while its transaction writes, and takes turns with the HTTP thread's
 * reports through the shared gate.
 */
import { SharedRefreshGate } from './gate.ts';
import { Refresher } from './refresher.ts';
import { serveThread } from './thread-side.ts';
import type { RefreshThreadData, ToRefresher } from './writer-thread.ts';

await serveThread<RefreshThreadData, ToRefresher>((store, data, post) => {
  const refresher = new Refresher(store, data.policy, new SharedRefreshGate(data.gate), (stats) =>
    post({ t: 'refreshed', stats }),
  );
  return {
    message: () => refresher.poke(),
    // Whatever is marked: the HTTP thread drains after the writes it knows of.
    drain: () => refresher.drain(true),
  };
});
