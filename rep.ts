import { runReport } from './src/metrics/report.ts';
import { openStore } from './src/store/db.ts';
import { sql } from 'kysely';
const store = await openStore('/tmp/r30.db');
for (let i = 0; i < 3; i++) { const t = performance.now(); await runReport(store, { by: ['agent'] }); console.log('default report', (performance.now() - t).toFixed(1)); }
for (const [name, q] of [['conv', 'select agent_id, count(*), sum(case when invalid=0 then 1 else 0 end), sum(frt_ms) from conversations group by agent_id'], ['seg', 'select agent_id, sum(w_received), sum(handle_ms) from segments group by agent_id'], ['resp', 'select agent_id, count(*), sum(ms) from responses group by agent_id'], ['frtvals', 'select frt_agent_id, frt_ms from conversations where frt_ms is not null']] as const) {
  const t = performance.now(); const r = await sql.raw(q).execute(store.db); console.log(name, r.rows.length, (performance.now() - t).toFixed(1));
}
console.log(await sql.raw('select (select count(*) from conversations) c, (select count(*) from segments) s, (select count(*) from responses) r').execute(store.db).then(r => r.rows));
await store.close();
