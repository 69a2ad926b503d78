/** Ticket measures, by the ticket's agent and creation day. Tag filters do not apply to tickets. */
import { sql } from 'kysely';
import type { MeasureQuery } from './run.ts';

export function ticketQuery(now: number): MeasureQuery {
  return {
    name: 'tickets',
    fact: { table: 'tickets', agentColumn: 'agent_id', conversationColumn: null },
    where: [],
    aggregates: {
      tickets: sql`count(*)`,
      ticketResolvedN: sql`count(f.resolved_ts)`,
      ticketResolveSum: sql`sum(case when f.resolved_ts is not null then f.resolved_ts - f.created_ts else 0 end) / 1000.0`,
      ticketWithDue: sql`count(f.due_ts)`,
      ticketOverdue: sql`sum(case when f.due_ts is not null and coalesce(f.resolved_ts, ${now}) > f.due_ts then 1 else 0 end)`,
      ticketRepeats: sql`sum(f.repeat)`,
      ticketEscalated: sql`sum(f.escalated)`,
    },
  };
}
