import { openStore } from './src/store/db.ts';
import { ensureRollups } from './src/metrics/rollups.ts';
import { loadSettings } from './src/store/settings.ts';
const store = await openStore('/tmp/r30.db');
await store.db.deleteFrom('rollup_state').execute();
const t = performance.now(); await ensureRollups(store, await loadSettings(store)); console.log('build', (performance.now() - t).toFixed(0));
await store.close();
