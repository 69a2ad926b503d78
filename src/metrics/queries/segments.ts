/** Segment measures, credited to the segment's agent: received, valid, transfers, handle time. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { type MeasureQuery, type QueryOptions, valuesByKey } from './run.ts';
import type { Scope } from './scope.ts';

export function segmentQuery(opt: QueryOptions): MeasureQuery {
  const handleColumn = opt.businessHours ? 'handle_bh_ms' : 'handle_ms';
  const handle = sql.ref(`f.${handleColumn}`);
  return {
    name: 'segments',
    fact: { table: 'segments', agentColumn: 'agent_id', conversationColumn: 'conversation_id' },
    where: opt.excludeGreetingOnly ? [sql`f.invalid = 0`] : [],
    aggregates: {
      segments: sql`count(*)`,
      received: sql`sum(f.w_received)`,
      valid: sql`sum(f.w_valid)`,
      transfers: sql`sum(case when f.ended_by = 'transfer' then 1 else 0 end)`,
      messagesOut: sql`sum(f.messages_out)`,
      handleSum: sql`sum(case when f.valid = 1 then ${handle} else 0 end) / 1000.0`,
      handleN: sql`sum(f.valid)`,
    },
    values: { field: 'handleValues', column: handleColumn, where: [sql`f.valid = 1`] },
  };
}

/** Segment starts and ends per key and agent, for concurrency. */
export async function segmentIntervals(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  const q = segmentQuery(opt);
  const withAgent: Scope = scope.by.includes('agent') ? scope : { ...scope, by: [...scope.by, 'agent'] };
  const rows = await valuesByKey(db, q.fact, withAgent, 'start_ts', q.where);
  const ends = await valuesByKey(db, q.fact, withAgent, 'end_ts', q.where);
  // The sweep walks starts and ends in time order.
  for (const list of [...rows.values(), ...ends.values()]) list.values.sort();
  return { rows, ends, withAgent };
}
