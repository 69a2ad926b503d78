import { openStore } from './src/store/db.ts';
import { sql } from 'kysely';
const store = await openStore('/tmp/r30.db');
for (let k = 0; k < 3; k++) {
let t = performance.now();
const { rows } = await sql.raw<any>('select f.agent_id as k_agent, f.vals as vals from rollup_first_response f where f.bh = 0').execute(store.db);
const a = performance.now() - t; t = performance.now();
let n = 0; const all: number[] = [];
for (const r of rows) { const b = r.vals as Uint8Array; const f = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); for (const v of f) all.push(v); n += f.length; }
const b = performance.now() - t; t = performance.now();
all.sort((x, y) => x - y);
console.log(rows.length, n, 'fetch', a.toFixed(1), 'unpack', b.toFixed(1), 'sort', (performance.now() - t).toFixed(1));
}
await store.close();
