import { readEvents } from './src/connectors/index.ts';
import { accept, ImportCache, refreshFacts } from './src/ingest/pipeline.ts';
import { openStore } from './src/store/db.ts';
import { rmSync } from 'node:fs';
for (const useCache of [true, false, true, false]) {
  rmSync('/tmp/p3.db', { force: true }); rmSync('/tmp/p3.db-wal', { force: true });
  const store = await openStore('/tmp/p3.db');
  const cache = useCache ? new ImportCache() : undefined;
  const t = performance.now();
  for await (const b of readEvents('/tmp/d15.ndjson', 'ndjson')) await accept(store, b.items, 'f', 'import', cache);
  const a = performance.now() - t;
  await refreshFacts(store, undefined, undefined, cache);
  console.log(useCache ? 'cache' : 'nocache', 'accept', (a / 1000).toFixed(2), 'refresh', ((performance.now() - t - a) / 1000).toFixed(2));
  await store.close();
}
