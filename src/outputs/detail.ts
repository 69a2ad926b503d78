/**
 * The detail of an export: one row per conversation, read from the conversation facts in pages
 * (keyset pagination on start time and id, so a month of conversations is never held at once),
 * in the bundle's period, viewer scope and template filters, ordered by start time.
 *
 * The rows are the conversations the report counts (会话数: at least one customer message,
 * greeting-only ones left out while `filters.excludeGreetingOnly` is on), each under its
 * responsible agent as the report credits it, so a pivot over the detail adds up to the summary.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Filters } from '../metrics/queries/scope.ts';
import { UNASSIGNED } from '../metrics/report.ts';
import type { Settings } from '../model/settings.ts';
import type { Store } from '../store/db.ts';
import type { Period, Viewer } from './types.ts';

export interface DetailRow {
  /** The platform's conversation id when it has one, else ours. */
  id: string;
  channel: string;
  /** Customer id as stored (unmasked: renderers mask). */
  customer: string | null;
  region: string | null;
  /** Responsible agent (the report's attribution); null when unassigned. */
  agentId: string | null;
  /** Its name, or 未分配. */
  agent: string;
  group: string | null;
  /** Every agent who handled it, in order (a transfer shows as 李四 → 张三). */
  agents: string[];
  startTs: number;
  endTs: number;
  /** Seconds; calendar or business-hours time as the report. */
  waitS: number | null;
  frtS: number | null;
  handleS: number | null;
  messagesIn: number;
  messagesOut: number;
  rating: number | null;
  /** 1/0 under the resolution rule in force; null when the rule leaves it out (unrated, not valid). */
  resolved: number | null;
  missed: number;
  tags: string[];
}

export interface DetailQuery {
  period: Pick<Period, 'from' | 'to'>;
  viewer: Pick<Viewer, 'scope'>;
  filters: Filters;
  settings: Settings;
  businessHours: boolean;
  /** Rows per page (default 5,000). */
  pageSize?: number;
}

const DAY = 86_400_000;

interface ConversationRow {
  id: string;
  native_id: string | null;
  channel: string;
  customer_id: string | null;
  region: string | null;
  agent_id: string | null;
  start_ts: number;
  end_ts: number;
  wait_ms: number | null;
  frt_ms: number | null;
  messages_in: number;
  messages_out: number;
  rating: number | null;
  closed: number;
  platform_resolved: number | null;
  next_conv_ts: number | null;
  human_replied: number;
  missed: number;
}

/** Pages of detail rows, in order of start time (then id). */
export async function* detailPages(store: Store, q: DetailQuery): AsyncGenerator<DetailRow[]> {
  const db = store.db;
  const pageSize = q.pageSize ?? 5000;
  const agents = new Map(
    (await db.selectFrom('agents').select(['id', 'name', 'group_name']).execute()).map((a) => [a.id, a]),
  );
  const bh = q.businessHours;
  // The order is settled once (ids only), then each page is read by primary key: the facts have
  // no index on start time, and a keyset page would scan and sort the table again every time.
  const { rows: order } = await sql<{ id: string; thread: string }>`
    select c.id, c.thread from conversations c left join agents ag on ag.id = c.agent_id
    where ${whereFor(q)} order by c.start_ts, c.id`.execute(db);
  for (let at = 0; at < order.length; at += pageSize) {
    const page = order.slice(at, at + pageSize);
    const ids = page.map((r) => r.id);
    // Segments and tags are indexed by thread, not by conversation.
    const threads = [...new Set(page.map((r) => r.thread))];
    const [{ rows: found }, segments, tags] = await Promise.all([
      sql<ConversationRow>`
      select c.id, c.native_id, c.channel, c.customer_id, c.region, c.agent_id, c.start_ts, c.end_ts,
        ${bh ? sql`c.wait_bh_ms` : sql`c.wait_ms`} as wait_ms, ${bh ? sql`c.frt_bh_ms` : sql`c.frt_ms`} as frt_ms,
        c.messages_in, c.messages_out, c.rating, c.closed, c.platform_resolved, c.next_conv_ts,
        c.human_replied, c.missed
      from conversations c where c.id in (${sql.join(ids)})`.execute(db),
      db
        .selectFrom('segments')
        .select(['conversation_id', 'seq', 'agent_id', bh ? 'handle_bh_ms as handle_ms' : 'handle_ms'])
        .where('thread', 'in', threads)
        .orderBy('conversation_id')
        .orderBy('seq')
        .execute(),
      db
        .selectFrom('conversation_tags')
        .select(['conversation_id', 'tag'])
        .where('thread', 'in', threads)
        .orderBy('conversation_id')
        .orderBy('tag')
        .execute(),
    ]);
    const byId = new Map(found.map((r) => [r.id, r]));
    // A conversation recomputed away between the two reads is simply not listed.
    const rows = ids.map((id) => byId.get(id)).filter((r): r is ConversationRow => r !== undefined);
    const handled = new Map<string, { names: string[]; ms: number }>();
    for (const s of segments) {
      let h = handled.get(s.conversation_id);
      if (!h) {
        h = { names: [], ms: 0 };
        handled.set(s.conversation_id, h);
      }
      const name = agents.get(s.agent_id)?.name ?? s.agent_id;
      if (h.names[h.names.length - 1] !== name) h.names.push(name);
      h.ms += Number(s.handle_ms);
    }
    const tagsOf = new Map<string, string[]>();
    for (const t of tags) {
      const list = tagsOf.get(t.conversation_id);
      if (list) list.push(t.tag);
      else tagsOf.set(t.conversation_id, [t.tag]);
    }
    yield rows.map((r) => {
      const a = r.agent_id === null ? undefined : agents.get(r.agent_id);
      const h = handled.get(r.id);
      return {
        id: r.native_id ?? r.id,
        channel: r.channel,
        customer: r.customer_id,
        region: r.region,
        agentId: r.agent_id,
        agent: a?.name ?? r.agent_id ?? UNASSIGNED.zh,
        group: a?.group_name ?? null,
        agents: h?.names ?? [],
        startTs: Number(r.start_ts),
        endTs: Number(r.end_ts),
        waitS: seconds(r.wait_ms),
        frtS: seconds(r.frt_ms),
        handleS: h ? h.ms / 1000 : null,
        messagesIn: Number(r.messages_in),
        messagesOut: Number(r.messages_out),
        rating: r.rating === null ? null : Number(r.rating),
        resolved: resolvedFlag(r, q.settings),
        missed: Number(r.missed),
        tags: tagsOf.get(r.id) ?? [],
      };
    });
  }
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Number(ms) / 1000);

/** The WHERE of the detail: the conversations the report counts, in period, scope and filters. */
function whereFor(q: DetailQuery): RawBuilder<unknown> {
  const conds: RawBuilder<unknown>[] = [sql`c.has_customer = 1`];
  if (q.settings.filters.excludeGreetingOnly) conds.push(sql`c.invalid = 0`);
  conds.push(sql`c.day >= ${q.period.from}`, sql`c.day <= ${q.period.to}`);
  const { channel, group, agent, tag, region } = q.filters;
  if (channel?.length) conds.push(sql`c.channel in (${sql.join(channel)})`);
  if (region?.length) conds.push(sql`c.region in (${sql.join(region)})`);
  if (agent?.length) conds.push(sql`c.agent_id in (${sql.join(agent)})`);
  if (group?.length) conds.push(sql`ag.group_name in (${sql.join(group)})`);
  if (tag?.length)
    conds.push(
      sql`c.id in (select t.conversation_id from conversation_tags t where t.tag in (${sql.join(tag)}))`,
    );
  const scope = q.viewer.scope;
  if (scope.kind === 'group') conds.push(sql`ag.group_name = ${scope.group}`);
  if (scope.kind === 'agent') conds.push(sql`c.agent_id = ${scope.agentId}`);
  return sql.join(conds, sql` and `);
}

/**
 * The resolution rule of METRICS.md for one conversation, as the report counts it
 * (src/metrics/queries/conversations.ts): summing this column gives the `resolved` metric.
 */
export function resolvedFlag(
  c: Pick<
    ConversationRow,
    'human_replied' | 'closed' | 'rating' | 'platform_resolved' | 'next_conv_ts' | 'end_ts'
  >,
  settings: Settings,
): number | null {
  if (!Number(c.human_replied)) return null;
  const { rule, minRating, unrated, repeatDays } = settings.resolution;
  if (rule === 'platform_flag') return Number(c.platform_resolved) === 1 ? 1 : 0;
  if (rule === 'no_repeat')
    return c.next_conv_ts === null || Number(c.next_conv_ts) - Number(c.end_ts) > repeatDays * DAY ? 1 : 0;
  const closed = Number(c.closed) === 1;
  if (c.rating === null) {
    if (unrated === 'excluded') return null;
    return unrated === 'resolved' && closed ? 1 : 0;
  }
  return closed && Number(c.rating) >= minRating ? 1 : 0;
}
