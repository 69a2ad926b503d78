/** Response intervals, credited to the agent who answered (METRICS.md art_s). */
import { sql } from 'kysely';
import type { Settings } from '../../model/settings.ts';
import type { MeasureQuery, QueryOptions } from './run.ts';

export function responseQuery(settings: Settings, opt: QueryOptions): MeasureQuery {
  const column = opt.businessHours ? 'bh_ms' : 'ms';
  const ms = sql.ref(`f.${column}`);
  return {
    name: 'responses',
    fact: { table: 'responses', agentColumn: 'agent_id', conversationColumn: 'conversation_id' },
    where: [],
    aggregates: {
      artSum: sql`sum(${ms}) / 1000.0`,
      artN: sql`count(*)`,
      artTimeouts: sql`sum(case when ${ms} > ${settings.thresholds.response * 1000} then 1 else 0 end)`,
    },
    values: { field: 'artValues', column, where: [] },
  };
}
