/** Segment measures, credited to the segment's agent: received, valid, transfers, handle time. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Measures } from '../measures.ts';
import { aggregate, type QueryOptions, valuesByKey } from './run.ts';
import type { FactTable, Scope } from './scope.ts';

export const SEGMENT_FACTS: FactTable = {
  table: 'segments',
  agentColumn: 'agent_id',
  conversationColumn: 'conversation_id',
};

const excluded = (opt: QueryOptions) => (opt.excludeGreetingOnly ? [sql`f.invalid = 0`] : []);

export function segmentMeasures(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  const handle = sql.ref(opt.businessHours ? 'f.handle_bh_ms' : 'f.handle_ms');
  return aggregate(
    db,
    SEGMENT_FACTS,
    scope,
    {
      segments: sql`count(*)`,
      received: sql`sum(f.w_received)`,
      valid: sql`sum(f.w_valid)`,
      transfers: sql`sum(case when f.ended_by = 'transfer' then 1 else 0 end)`,
      messagesOut: sql`sum(f.messages_out)`,
      handleSum: sql`sum(case when f.valid = 1 then ${handle} else 0 end) / 1000.0`,
      handleN: sql`sum(f.valid)`,
    } satisfies Partial<Record<keyof Measures, unknown>>,
    excluded(opt),
  );
}

export function handleValues(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  return valuesByKey(db, SEGMENT_FACTS, scope, opt.businessHours ? 'handle_bh_ms' : 'handle_ms', [
    sql`f.valid = 1`,
    ...excluded(opt),
  ]);
}

/** Segment intervals per key and agent, for concurrency. */
export async function segmentIntervals(db: Kysely<Database>, scope: Scope, opt: QueryOptions) {
  const withAgent: Scope = scope.by.includes('agent') ? scope : { ...scope, by: [...scope.by, 'agent'] };
  const rows = await valuesByKey(db, SEGMENT_FACTS, withAgent, 'start_ts', excluded(opt));
  const ends = await valuesByKey(db, SEGMENT_FACTS, withAgent, 'end_ts', excluded(opt));
  return { rows, ends, withAgent };
}
