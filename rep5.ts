import { openStore } from './src/store/db.ts';
import { sql } from 'kysely';
const store = await openStore('/tmp/r30.db');
const cols = (await sql.raw<any>("select name from pragma_table_info('rollup_conversations')").execute(store.db)).rows.map((r: any) => r.name).filter((n: string) => !['bh','day','week','month','weekday','agent_id','channel','vals'].includes(n));
const q = `select f.agent_id, ${cols.map((c: string) => `sum(f."${c}")`).join(', ')} from rollup_conversations f where f.bh = 0 group by f.agent_id`;
for (const variant of ['indexed', 'notindexed']) {
  const qq = variant === 'indexed' ? q : q.replace('from rollup_conversations f', 'from rollup_conversations f not indexed');
  for (let i = 0; i < 3; i++) { const t = performance.now(); await sql.raw(qq).execute(store.db); console.log(variant, (performance.now() - t).toFixed(1)); }
}
const t = performance.now(); await sql.raw('select count(*) from rollup_conversations').execute(store.db); console.log('count', (performance.now() - t).toFixed(1));
await store.close();
