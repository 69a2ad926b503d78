/**
 * Loading a demo team into a store the way a file import loads: roster first, then the events in
 * batches through one import cache, then the facts. Used by `cspulse start`/`demo` and the bench.
 */
import { importRoster } from '../ingest/identities.ts';
import { accept, ImportCache, type RefreshProgress, refreshFacts } from '../ingest/pipeline.ts';
import type { CanonicalEventInput } from '../model/events.ts';
import type { Store } from '../store/db.ts';
import { type DemoOptions, demoEstimate, demoRoster, generateDemo } from './generate.ts';

/** Events per accepted batch: the generator's hourly batches are too small to insert efficiently. */
const BATCH = 20_000;

export async function loadDemo(
  store: Store,
  opts: DemoOptions,
  progress: { events?: RefreshProgress; facts?: RefreshProgress } = {},
): Promise<number> {
  await importRoster(store, demoRoster(opts));
  const total = demoEstimate(opts).events;
  const cache = new ImportCache();
  let line = 0;
  let pending: CanonicalEventInput[] = [];
  const flush = async () => {
    await accept(
      store,
      pending.map((raw) => ({ line: ++line, raw })),
      'demo',
      'demo',
      cache,
    );
    pending = [];
    progress.events?.(Math.min(line, total), total);
  };
  for (const batch of generateDemo(opts)) {
    pending = pending.concat(batch);
    if (pending.length >= BATCH) await flush();
  }
  await flush();
  progress.events?.(total, total);
  await refreshFacts(store, progress.facts, undefined, cache);
  return line;
}
