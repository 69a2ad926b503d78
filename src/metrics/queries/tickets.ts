/** Ticket measures, by the ticket's agent and creation day. Tag filters do not apply to tickets. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Measures } from '../measures.ts';
import { aggregate } from './run.ts';
import type { FactTable, Scope } from './scope.ts';

export const TICKET_FACTS: FactTable = {
  table: 'tickets',
  agentColumn: 'agent_id',
  conversationColumn: null,
};

export function ticketMeasures(db: Kysely<Database>, scope: Scope, now: number) {
  return aggregate(db, TICKET_FACTS, scope, {
    tickets: sql`count(*)`,
    ticketResolvedN: sql`count(f.resolved_ts)`,
    ticketResolveSum: sql`sum(case when f.resolved_ts is not null then f.resolved_ts - f.created_ts else 0 end) / 1000.0`,
    ticketWithDue: sql`count(f.due_ts)`,
    ticketOverdue: sql`sum(case when f.due_ts is not null and coalesce(f.resolved_ts, ${now}) > f.due_ts then 1 else 0 end)`,
    ticketRepeats: sql`sum(f.repeat)`,
    ticketEscalated: sql`sum(f.escalated)`,
  } satisfies Partial<Record<keyof Measures, unknown>>);
}
