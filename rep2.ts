import { openStore } from './src/store/db.ts';
import { aggregate } from './src/metrics/queries/run.ts';
import { fromRollup, rolledQueries, rollupValues } from './src/metrics/rollups.ts';
import { loadSettings } from './src/store/settings.ts';
const store = await openStore('/tmp/r30.db');
const settings = await loadSettings(store);
const opt = { businessHours: false, excludeGreetingOnly: true };
const scope = { by: ['agent'] as any, filters: {} };
for (let k = 0; k < 2; k++) for (const q of rolledQueries(settings, opt)) {
  let t = performance.now(); await aggregate(store.db, fromRollup(q, opt), scope); const a = performance.now() - t;
  t = performance.now(); if (q.values) await rollupValues(store.db, q, opt, scope); console.log(q.name, a.toFixed(1), (performance.now() - t).toFixed(1));
}
const t = performance.now(); const { runReport } = await import('./src/metrics/report.ts'); await runReport(store, { by: ['agent'] }); console.log('report', (performance.now() - t).toFixed(1));
await store.close();
