/** First response, credited to the agent of the first human-handled segment (METRICS.md frt_s). */
import { type Kysely, sql } from 'kysely';
import type { Settings } from '../../model/settings.ts';
import type { Database } from '../../store/schema.ts';
import type { Measures } from '../measures.ts';
import { aggregate, type QueryOptions, valuesByKey } from './run.ts';
import type { FactTable, Scope } from './scope.ts';

export const FIRST_RESPONSE_FACTS: FactTable = {
  table: 'conversations',
  agentColumn: 'frt_agent_id',
  conversationColumn: 'id',
};

export function firstResponseMeasures(
  db: Kysely<Database>,
  scope: Scope,
  settings: Settings,
  opt: QueryOptions,
) {
  const frt = sql.ref(opt.businessHours ? 'f.frt_bh_ms' : 'f.frt_ms');
  const cfrt = sql.ref(opt.businessHours ? 'f.cfrt_bh_ms' : 'f.cfrt_ms');
  return aggregate(db, FIRST_RESPONSE_FACTS, scope, {
    frtSum: sql`sum(coalesce(${frt}, 0)) / 1000.0`,
    frtN: sql`count(${frt})`,
    frtTimeouts: sql`sum(case when ${frt} > ${settings.thresholds.firstResponse * 1000} then 1 else 0 end)`,
    customerFrtSum: sql`sum(coalesce(${cfrt}, 0)) / 1000.0`,
    customerFrtN: sql`count(${cfrt})`,
  } satisfies Partial<Record<keyof Measures, unknown>>);
}

export function firstResponseValues(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  return valuesByKey(db, FIRST_RESPONSE_FACTS, scope, opt.businessHours ? 'frt_bh_ms' : 'frt_ms');
}
