import { openStore } from './src/store/db.ts';
import { runReport } from './src/metrics/report.ts';
const store = await openStore('/tmp/r30.db');
for (let i = 0; i < 30; i++) await runReport(store, { by: ['agent'] });
const t = performance.now(); for (let i = 0; i < 10; i++) await runReport(store, { by: ['agent'] }); console.log('avg', ((performance.now() - t) / 10).toFixed(1));
await store.close();
