/**
 * A small day at a help desk whose every number was computed by hand (test/engine/metrics.test.ts
 * has the arithmetic). Wednesday 2025-11-05, Asia/Shanghai, business hours 9–18 on weekdays.
 */
import type { CanonicalEventInput } from '../../src/model/events.ts';
import { parseTimestamp } from '../../src/model/time.ts';

/** Local Shanghai wall time → epoch ms. */
export const at = (local: string): number => parseTimestamp(local, 'Asia/Shanghai')!;

let n = 0;
const id = () => `s${++n}`;

const c1 = { id: 'c1', name: '王小明', region: '北京', tags: ['VIP'] };
const c2 = { id: 'c2', region: '上海' };
const c3 = { id: 'c3', region: '北京' };
const c4 = { id: 'c4', region: '广东' };

const msg = (
  channel: string,
  customer: typeof c1 | typeof c2,
  ts: string,
  role: 'customer' | 'agent' | 'bot',
  text: string,
  extra: Partial<{ conversationId: string; account: string; tags: string[] }> = {},
): CanonicalEventInput => ({
  kind: 'message',
  id: id(),
  source: 'test',
  channel,
  customer,
  ts: at(ts),
  role,
  text,
  ...extra,
});

export function scenario(): CanonicalEventInput[] {
  n = 0;
  const A = { conversationId: 'A' };
  const B = { conversationId: 'B' };
  const E = { conversationId: 'E' };
  return [
    // A: web, native id; queued 10 s, answered 30 s after assignment, closed, rated 5.
    msg('web', c1, '2025-11-05 10:00:00', 'customer', '我的订单没到', { ...A, tags: ['物流'] }),
    {
      kind: 'assignment',
      id: id(),
      source: 'test',
      channel: 'web',
      ...A,
      customer: c1,
      ts: at('2025-11-05 10:00:10'),
      account: 'zhang',
      accountName: '张三',
    },
    msg('web', c1, '2025-11-05 10:00:40', 'agent', '您好,我帮您查一下', { ...A, account: 'zhang' }),
    msg('web', c1, '2025-11-05 10:01:00', 'customer', '单号 123', A),
    msg('web', c1, '2025-11-05 10:01:30', 'customer', '快点', A),
    msg('web', c1, '2025-11-05 10:03:00', 'agent', '已经在派送了', { ...A, account: 'zhang' }),
    {
      kind: 'close',
      id: id(),
      source: 'test',
      channel: 'web',
      ...A,
      customer: c1,
      ts: at('2025-11-05 10:05:00'),
    },
    {
      kind: 'rating',
      id: id(),
      source: 'test',
      channel: 'web',
      ...A,
      customer: c1,
      ts: at('2025-11-05 10:06:00'),
      score: 5,
    },
    // B: a visitor says 在吗 and leaves: greeting-only, excluded.
    msg('web', c2, '2025-11-05 10:10:00', 'customer', '在吗?', B),
    {
      kind: 'assignment',
      id: id(),
      source: 'test',
      channel: 'web',
      ...B,
      customer: c2,
      ts: at('2025-11-05 10:10:05'),
      account: 'li',
      accountName: '李四',
    },
    // C: wechat, no native id; li answers without an assignment, then transfers to zhang.
    msg('wechat', c3, '2025-11-05 11:00:00', 'customer', '退货怎么办'),
    msg('wechat', c3, '2025-11-05 11:02:00', 'agent', '请提供订单号', { account: 'li' }),
    msg('wechat', c3, '2025-11-05 11:03:00', 'customer', '订单 456'),
    {
      kind: 'assignment',
      id: id(),
      source: 'test',
      channel: 'wechat',
      customer: c3,
      ts: at('2025-11-05 11:03:30'),
      account: 'zhang',
      transfer: true,
    },
    msg('wechat', c3, '2025-11-05 11:04:00', 'agent', '我来处理退货', { account: 'zhang' }),
    {
      kind: 'rating',
      id: id(),
      source: 'test',
      channel: 'wechat',
      customer: c3,
      ts: at('2025-11-05 11:10:00'),
      score: 2,
    },
    // D: the same customer 46 minutes after C's last message: a new conversation, never answered.
    msg('wechat', c3, '2025-11-05 11:50:00', 'customer', '还有人处理吗'),
    // E: offline message at 20:00, picked up next morning, closed, rated 满意; an order follows.
    msg('web', c4, '2025-11-05 20:00:00', 'customer', '发票开错了', E),
    {
      kind: 'assignment',
      id: id(),
      source: 'test',
      channel: 'web',
      ...E,
      customer: c4,
      ts: at('2025-11-06 09:00:00'),
      account: 'zhang',
    },
    msg('web', c4, '2025-11-06 09:01:00', 'agent', '马上为您重开', { ...E, account: 'zhang' }),
    {
      kind: 'close',
      id: id(),
      source: 'test',
      channel: 'web',
      ...E,
      customer: c4,
      ts: at('2025-11-06 09:05:00'),
      resolved: true,
    },
    {
      kind: 'rating',
      id: id(),
      source: 'test',
      channel: 'web',
      ...E,
      customer: c4,
      ts: at('2025-11-06 09:06:00'),
      score: '满意',
    },
    {
      kind: 'order',
      id: id(),
      source: 'test',
      channel: 'web',
      customer: c4,
      ts: at('2025-11-07 10:00:00'),
      amount: 199,
    },
  ];
}
