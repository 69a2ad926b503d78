import { openStore } from './src/store/db.ts';
import { markAllDirty, refreshFacts } from './src/ingest/pipeline.ts';
import { sql } from 'kysely';
const store = await openStore('/tmp/p.db');
const threads = (await store.db.selectFrom('threads').select('thread').execute()).map(r => r.thread);
let t = performance.now(); let n = 0; let bytes = 0;
for (let i = 0; i < threads.length; i += 5000) { const rows = await store.db.selectFrom('events').select(['thread', 'payload']).where('thread', 'in', threads.slice(i, i + 5000)).execute(); n += rows.length; for (const r of rows) bytes += r.payload.length; }
console.log('select', n, (bytes / 1e6).toFixed(0), 'MB', (performance.now() - t).toFixed(0));
t = performance.now();
const all = await store.db.selectFrom('events').select(['thread', 'payload']).execute();
console.log('full scan', all.length, (performance.now() - t).toFixed(0));
t = performance.now(); for (const r of all) JSON.parse(r.payload); console.log('parse', (performance.now() - t).toFixed(0));
await markAllDirty(store);
t = performance.now(); await refreshFacts(store); console.log('refresh', (performance.now() - t).toFixed(0));
await store.close();
