/** First response, credited to the agent of the first human-handled segment (METRICS.md frt_s). */
import { sql } from 'kysely';
import type { Settings } from '../../model/settings.ts';
import type { MeasureQuery, QueryOptions } from './run.ts';

export function firstResponseQuery(settings: Settings, opt: QueryOptions): MeasureQuery {
  const frtColumn = opt.businessHours ? 'frt_bh_ms' : 'frt_ms';
  const frt = sql.ref(`f.${frtColumn}`);
  const cfrt = sql.ref(opt.businessHours ? 'f.cfrt_bh_ms' : 'f.cfrt_ms');
  return {
    name: 'first_response',
    fact: { table: 'conversations', agentColumn: 'frt_agent_id', conversationColumn: 'id' },
    where: [],
    aggregates: {
      frtSum: sql`sum(coalesce(${frt}, 0)) / 1000.0`,
      frtN: sql`count(${frt})`,
      frtTimeouts: sql`sum(case when ${frt} > ${settings.thresholds.firstResponse * 1000} then 1 else 0 end)`,
      customerFrtSum: sql`sum(coalesce(${cfrt}, 0)) / 1000.0`,
      customerFrtN: sql`count(${cfrt})`,
    },
    values: { field: 'frtValues', column: frtColumn, where: [] },
  };
}
