/**
 * The report scope, shared by every fact query: which rows (time range, filters) and how they are
 * grouped (dimensions). Each fact table says which of its columns credits an agent — that is where
 * METRICS.md's attribution rules live (first response → first human handler, CSAT → last handler…).
 */
import { type RawBuilder, sql } from 'kysely';

export const DIMENSIONS = [
  'agent',
  'group',
  'channel',
  'region',
  'day',
  'week',
  'month',
  'hour',
  'weekday',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface Filters {
  channel?: string[];
  group?: string[];
  /** agent ids */
  agent?: string[];
  tag?: string[];
  region?: string[];
}

export interface Scope {
  /** first and last local day, inclusive (YYYY-MM-DD) */
  from?: string;
  to?: string;
  by: Dimension[];
  filters: Filters;
}

export interface FactTable {
  /** A fact table, a rollup of one, or a query over rollups with the same columns (rollups.ts). */
  table: string | RawBuilder<unknown>;
  /** The column that credits an agent for this query's measures. */
  agentColumn: string;
  /** The conversation id column, for tag filters; null where tags do not apply. */
  conversationColumn: string | null;
}

/** The SQL pieces for one fact query: FROM with joins, key columns, WHERE, GROUP BY. */
export interface ScopeSql {
  from: RawBuilder<unknown>;
  keys: RawBuilder<unknown>;
  where: RawBuilder<unknown>;
  groupBy: RawBuilder<unknown>;
}

export function scopeSql(fact: FactTable, scope: Scope, extraWhere: RawBuilder<unknown>[] = []): ScopeSql {
  const f = sql.raw('f');
  const agentCol = sql.ref(`f.${fact.agentColumn}`);
  const needsAgents = scope.by.includes('group') || (scope.filters.group?.length ?? 0) > 0;
  const source = typeof fact.table === 'string' ? sql.table(fact.table) : sql`(${fact.table})`;
  const from = needsAgents
    ? sql`${source} ${f} left join agents ag on ag.id = ${agentCol}`
    : sql`${source} ${f}`;

  const keyExprs = scope.by.map((d) => {
    switch (d) {
      case 'agent':
        return sql`${agentCol} as k_agent`;
      case 'group':
        return sql`ag.group_name as k_group`;
      default:
        return sql`${sql.ref(`f.${d}`)} as ${sql.ref(`k_${d}`)}`;
    }
  });
  const groupExprs = scope.by.map((d) =>
    d === 'agent' ? agentCol : d === 'group' ? sql`ag.group_name` : sql.ref(`f.${d}`),
  );

  const conds: RawBuilder<unknown>[] = [...extraWhere];
  if (scope.from) conds.push(sql`f.day >= ${scope.from}`);
  if (scope.to) conds.push(sql`f.day <= ${scope.to}`);
  const { channel, group, agent, tag, region } = scope.filters;
  if (channel?.length) conds.push(sql`f.channel in (${sql.join(channel)})`);
  if (region?.length) conds.push(sql`f.region in (${sql.join(region)})`);
  if (agent?.length) conds.push(sql`${agentCol} in (${sql.join(agent)})`);
  if (group?.length) conds.push(sql`ag.group_name in (${sql.join(group)})`);
  if (tag?.length) {
    if (fact.conversationColumn) {
      conds.push(
        sql`${sql.ref(`f.${fact.conversationColumn}`)} in (select t.conversation_id from conversation_tags t where t.tag in (${sql.join(tag)}))`,
      );
    } else conds.push(sql`1 = 0`);
  }
  return {
    from,
    keys: keyExprs.length ? sql.join(keyExprs) : sql`1 as k_all`,
    where: conds.length ? sql.join(conds, sql` and `) : sql`1 = 1`,
    groupBy: groupExprs.length ? sql`group by ${sql.join(groupExprs)}` : sql``,
  };
}

/** The row key a query returned, as one string, to merge the rows of different queries. */
export function keyOf(row: Record<string, unknown>, by: readonly Dimension[]): string {
  return by.map((d) => String(row[`k_${d}`] ?? '')).join('\u0000');
}
