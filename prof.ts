import { readEvents } from './src/connectors/index.ts';
import { accept, refreshFacts } from './src/ingest/pipeline.ts';
import { openStore } from './src/store/db.ts';
import { rmSync } from 'node:fs';
rmSync('/tmp/p.db', { force: true }); rmSync('/tmp/p.db-wal', { force: true });
const store = await openStore('/tmp/p.db');
let t = performance.now(); let n = 0;
const batches = [];
for await (const b of readEvents('/tmp/d15.ndjson', 'ndjson')) { batches.push(b); n += b.items.length; }
console.log('read', n, ((performance.now() - t) / 1000).toFixed(2));
t = performance.now();
for (const b of batches) await accept(store, b.items, 'f');
console.log('accept', ((performance.now() - t) / 1000).toFixed(2));
t = performance.now();
await refreshFacts(store);
console.log('refresh', ((performance.now() - t) / 1000).toFixed(2));
await store.close();
