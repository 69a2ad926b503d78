/** Response intervals, credited to the agent who answered (METRICS.md art_s). */
import { type Kysely, sql } from 'kysely';
import type { Settings } from '../../model/settings.ts';
import type { Database } from '../../store/schema.ts';
import type { Measures } from '../measures.ts';
import { aggregate, type QueryOptions, valuesByKey } from './run.ts';
import type { FactTable, Scope } from './scope.ts';

export const RESPONSE_FACTS: FactTable = {
  table: 'responses',
  agentColumn: 'agent_id',
  conversationColumn: 'conversation_id',
};

export function responseMeasures(db: Kysely<Database>, scope: Scope, settings: Settings, opt: QueryOptions) {
  const ms = sql.ref(opt.businessHours ? 'f.bh_ms' : 'f.ms');
  return aggregate(db, RESPONSE_FACTS, scope, {
    artSum: sql`sum(${ms}) / 1000.0`,
    artN: sql`count(*)`,
    artTimeouts: sql`sum(case when ${ms} > ${settings.thresholds.response * 1000} then 1 else 0 end)`,
  } satisfies Partial<Record<keyof Measures, unknown>>);
}

export function responseValues(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  return valuesByKey(db, RESPONSE_FACTS, scope, opt.businessHours ? 'bh_ms' : 'ms');
}
