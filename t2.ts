import { importFiles } from './src/cli/import.ts';
import { openStore } from './src/store/db.ts';
import { rmSync } from 'node:fs';
rmSync('/tmp/p2.db', { force: true }); rmSync('/tmp/p2.db-wal', { force: true });
const store = await openStore('/tmp/p2.db');
const t = performance.now(); const r = await importFiles(store, ['/tmp/d15.ndjson'], 'ndjson', { quiet: true }); console.log('import', ((performance.now() - t) / 1000).toFixed(2), r.accepted);
await store.close();
