/**
 * Conversation measures credited to the responsible agent (the last human handler, else the
 * assignee; unassigned conversations have no agent): volume, missed, outcome, CSAT, conversion.
 */
import { sql } from 'kysely';
import type { Settings } from '../../model/settings.ts';
import type { MeasureQuery, QueryOptions } from './run.ts';

const DAY = 86_400_000;

export function conversationQuery(settings: Settings, opt: QueryOptions): MeasureQuery {
  const counted = opt.excludeGreetingOnly
    ? sql`f.has_customer = 1 and f.invalid = 0`
    : sql`f.has_customer = 1`;
  const valid = sql`f.has_customer = 1 and f.human_replied = 1`;
  const { rule, minRating, unrated, repeatDays } = settings.resolution;
  const noRepeat = (days: number) =>
    sql`(f.next_conv_ts is null or f.next_conv_ts - f.end_ts > ${days * DAY})`;
  let resolved: ReturnType<typeof sql>;
  let base: ReturnType<typeof sql>;
  if (rule === 'platform_flag') {
    resolved = sql`f.platform_resolved = 1`;
    base = sql`1 = 1`;
  } else if (rule === 'no_repeat') {
    resolved = noRepeat(repeatDays);
    base = sql`1 = 1`;
  } else {
    resolved =
      unrated === 'resolved'
        ? sql`f.closed = 1 and (f.rating is null or f.rating >= ${minRating})`
        : sql`f.closed = 1 and f.rating >= ${minRating}`;
    base = unrated === 'excluded' ? sql`f.rating is not null` : sql`1 = 1`;
  }
  const wait = opt.businessHours ? sql.ref('f.wait_bh_ms') : sql.ref('f.wait_ms');
  const count = (cond: ReturnType<typeof sql>) => sql`sum(case when ${cond} then 1 else 0 end)`;
  return {
    name: 'conversations',
    fact: { table: 'conversations', agentColumn: 'agent_id', conversationColumn: 'id' },
    where: [],
    aggregates: {
      conversations: count(counted),
      invalid: count(sql`f.invalid = 1`),
      missed: count(sql`f.missed = 1`),
      offline: count(sql`${counted} and f.offline = 1`),
      validConversations: count(valid),
      resolved: count(sql`${valid} and ${base} and ${resolved}`),
      resolutionBase: count(sql`${valid} and ${base}`),
      fcr: count(
        sql`${valid} and ${base} and ${resolved} and f.human_segments = 1 and ${noRepeat(settings.fcr.windowDays)}`,
      ),
      rated: count(sql`f.rating is not null`),
      ratedValid: count(sql`${valid} and f.rating is not null`),
      ratingSum: sql`sum(coalesce(f.rating, 0))`,
      ratingGood: count(sql`f.rating >= 4`),
      converted: count(sql`${valid} and f.converted = 1`),
      inquired: count(sql`${valid} and f.inquired = 1`),
      orderAmount: sql`sum(f.order_amount)`,
      messagesIn: sql`sum(case when ${counted} then f.messages_in else 0 end)`,
      waitSum: sql`sum(case when ${counted} then coalesce(${wait}, 0) else 0 end) / 1000.0`,
      waitN: count(sql`${counted} and ${wait} is not null`),
      botAnswered: count(sql`${counted} and f.bot_answered = 1`),
      botHandoffs: count(sql`${counted} and f.bot_handoff = 1`),
    },
  };
}
