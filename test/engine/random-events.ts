/** What the ingest's property tests share: random conversations, and every fact in a stable order. */
import fc from 'fast-check';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import type { Store } from '../../src/store/db.ts';

/** Every fact, in a stable order: what "identical facts" means. */
export async function facts(s: Store) {
  const db = s.db;
  return {
    conversations: await db.selectFrom('conversations').selectAll().orderBy('id').execute(),
    segments: await db.selectFrom('segments').selectAll().orderBy('id').execute(),
    responses: await db
      .selectFrom('responses')
      .selectAll()
      .orderBy('conversation_id')
      .orderBy('seq')
      .execute(),
    tags: await db
      .selectFrom('conversation_tags')
      .selectAll()
      .orderBy('conversation_id')
      .orderBy('tag')
      .execute(),
    agents: await db.selectFrom('agents').select(['id', 'name']).orderBy('id').execute(),
  };
}

/** Random but plausible conversations: 2 channels, 3 customers, 3 agents, a bot, closes and ratings. */
export const eventArb = fc
  .array(
    fc.record({
      kind: fc.constantFrom(
        'customer',
        'customer',
        'agent',
        'agent',
        'bot',
        'assign',
        'close',
        'rating',
        'order',
      ),
      channel: fc.constantFrom('web', 'wechat'),
      customer: fc.constantFrom('c1', 'c2', 'c3'),
      agent: fc.constantFrom('a1', 'a2', 'a3'),
      minute: fc.integer({ min: 0, max: 60 * 24 * 3 }),
      text: fc.constantFrom('在吗', '你好', '订单问题', '退款', 'hi'),
      native: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((rows) =>
    rows.map((r, i): CanonicalEventInput => {
      const base = {
        id: `e${i}`,
        source: 'prop',
        channel: r.channel,
        ts: Date.UTC(2025, 10, 3) + r.minute * 60_000,
        customer: { id: r.customer, region: r.customer === 'c1' ? '北京' : '上海' },
        ...(r.native && r.channel === 'web'
          ? { conversationId: `${r.customer}-${Math.floor(r.minute / 1440)}` }
          : {}),
      };
      switch (r.kind) {
        case 'customer':
          return { ...base, kind: 'message', role: 'customer', text: r.text };
        case 'agent':
          return { ...base, kind: 'message', role: 'agent', account: r.agent, text: '好的' };
        case 'bot':
          return { ...base, kind: 'message', role: 'bot', text: '自动回复' };
        case 'assign':
          return { ...base, kind: 'assignment', account: r.agent };
        case 'close':
          return { ...base, kind: 'close' };
        case 'rating':
          return { ...base, kind: 'rating', score: (i % 5) + 1 };
        default:
          return { ...base, kind: 'order', amount: 10 };
      }
    }),
  );
