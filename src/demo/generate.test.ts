import { beforeAll, describe, expect, it } from 'vitest';
import { type CanonicalEventInput, validateEvent } from '../model/events.ts';
import { DEFAULT_SETTINGS } from '../model/settings.ts';
import { localKeys } from '../model/time.ts';
import {
  type DemoOptions,
  type DemoStats,
  demoEstimate,
  demoRoster,
  emptyDemoStats,
  generateDemo,
} from './generate.ts';

type Ev = CanonicalEventInput & { id: string; ts: number };
const TZ = 'Asia/Shanghai';
const SESSION_CHANNELS = new Set(['wecom_kf', 'web', 'app']);
const QUEUE_CHANNELS = SESSION_CHANNELS;
const IDLE = 30 * 60_000;

function collect(opts: DemoOptions): { events: Ev[]; stats: DemoStats; batches: number } {
  const stats = emptyDemoStats();
  const events: Ev[] = [];
  let batches = 0;
  for (const b of generateDemo(opts, stats)) {
    batches++;
    for (const e of b) events.push(e as Ev);
  }
  return { events, stats, batches };
}

/**
 * Rebuild conversations the way METRICS.md defines them: the native id where there is one, otherwise
 * messages per (channel, customer) split by the 30-minute idle timeout.
 */
function conversations(events: Ev[]): Ev[][] {
  const byKey = new Map<string, Ev[]>();
  const open = new Map<string, { key: string; last: number }>();
  let n = 0;
  for (const e of events) {
    if (e.kind !== 'message') continue;
    let key: string;
    if (e.conversationId !== undefined) key = `native:${e.conversationId}`;
    else {
      const thread = `${e.channel}|${e.customer!.id}`;
      const o = open.get(thread);
      if (!o || e.ts - o.last > IDLE) {
        key = `idle:${n++}`;
        open.set(thread, { key, last: e.ts });
      } else {
        o.last = e.ts;
        key = o.key;
      }
    }
    let list = byKey.get(key);
    if (!list) {
      list = [];
      byKey.set(key, list);
    }
    list.push(e);
  }
  return [...byKey.values()];
}

const greetingRes = DEFAULT_SETTINGS.filters.greetingPatterns.map((p) => new RegExp(p, 'i'));
const fullGreetingRes = DEFAULT_SETTINGS.filters.greetingPatterns.map((p) => new RegExp(`^(?:${p})$`, 'i'));
const isAgentMsg = (e: Ev) => e.kind === 'message' && e.role === 'agent';
const isCustomerMsg = (e: Ev) => e.kind === 'message' && e.role === 'customer';

describe('demo generator, 30 agents × 30 days', () => {
  const opts = { end: '2025-11-30' };
  let events: Ev[];
  let stats: DemoStats;
  let convs: Ev[][];

  // Generation speed is measured by `npm run bench`, not asserted here.
  beforeAll(() => {
    ({ events, stats } = collect(opts));
    convs = conversations(events);
  });

  it('produces about 70 conversations per agent per day, and the estimate knows how many', () => {
    const expected = 70 * 30 * 30;
    expect(stats.conversations).toBeGreaterThan(expected * 0.85);
    expect(stats.conversations).toBeLessThan(expected * 1.15);
    const est = demoEstimate(opts);
    expect(est.conversations).toBe(stats.conversations);
    expect(Math.abs(est.events - events.length) / events.length).toBeLessThan(0.1);
    expect(stats.events).toBe(events.length);
  });

  it('sessionises back into exactly the conversations it generated', () => {
    // Holds only if sessionless channels keep gaps under the idle timeout and separate repeat visits.
    expect(convs.length).toBe(stats.conversations);
  });

  it('emits valid canonical events with unique ids, in time order', () => {
    const ids = new Set<string>();
    let last = 0;
    let backwards = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      ids.add(e.id);
      if (e.ts < last) backwards++;
      last = e.ts;
      if (i % 7 === 0) {
        const r = validateEvent(e);
        if (!r.ok) throw new Error(`${r.reason}: ${JSON.stringify(e)}`);
      }
    }
    expect(backwards).toBe(0);
    expect(ids.size).toBe(events.length);
    expect(events.every((e) => e.source === 'demo' && e.id.startsWith('demo-1-'))).toBe(true);
    // Orders and presence belong to a customer or an agent, not to a conversation.
    const inConversation = events.filter((e) => e.kind !== 'order' && e.kind !== 'presence');
    expect(
      inConversation.every((e) => (e.conversationId !== undefined) === SESSION_CHANNELS.has(e.channel)),
    ).toBe(true);
    expect(events.every((e) => e.kind === 'presence' || e.customer?.id)).toBe(true);
  });

  it('has every kind of event', () => {
    for (const kind of ['message', 'assignment', 'close', 'rating', 'ticket', 'order', 'presence'] as const) {
      expect(stats.byKind[kind], kind).toBeGreaterThan(0);
      expect(events.some((e) => e.kind === kind)).toBe(true);
    }
    for (const t of ['text', 'image', 'sticker', 'voice', 'file']) {
      expect(
        events.some((e) => e.kind === 'message' && e.msgType === t),
        t,
      ).toBe(true);
    }
    expect(Object.keys(stats.byChannel).sort()).toEqual([
      'app',
      'feishu',
      'telegram',
      'web',
      'wechat_oa',
      'wecom_kf',
      'whatsapp',
    ]);
    const statuses = new Set(
      events.filter((e) => e.kind === 'presence').map((e) => (e.kind === 'presence' ? e.status : '')),
    );
    expect([...statuses].sort()).toEqual(['away', 'offline', 'online']);
  });

  it('peaks on Mondays/Tuesdays and around noon', () => {
    const perDay = new Map<string, { weekday: number; n: number }>();
    const perHour = new Array<number>(24).fill(0);
    for (const c of convs) {
      const k = localKeys(c[0]!.ts, TZ);
      const d = perDay.get(k.day) ?? { weekday: k.weekday, n: 0 };
      d.n++;
      perDay.set(k.day, d);
      perHour[k.hour]!++;
    }
    const avg = (wd: number) => {
      const days = [...perDay.values()].filter((d) => d.weekday === wd);
      return days.reduce((s, d) => s + d.n, 0) / days.length;
    };
    const monTue = (avg(1) + avg(2)) / 2;
    for (let wd = 3; wd <= 7; wd++) expect(monTue, `weekday ${wd}`).toBeGreaterThan(avg(wd));
    const noon = (perHour[11]! + perHour[12]! + perHour[13]!) / 3;
    for (const h of [9, 16, 17, 19, 20, 21]) expect(noon, `hour ${h}`).toBeGreaterThan(perHour[h]! * 1.1);
    const night = perHour.slice(0, 7).reduce((a, b) => a + b, 0) / 7;
    expect(night).toBeGreaterThan(0);
    expect(night).toBeLessThan(noon / 5);
  });

  it('rates about a quarter of conversations, skewed positive, on several scales', () => {
    const ratings = events.filter((e) => e.kind === 'rating');
    expect(ratings.length / stats.conversations).toBeGreaterThan(0.2);
    expect(ratings.length / stats.conversations).toBeLessThan(0.3);
    const scales = new Set(ratings.map((e) => (e.kind === 'rating' ? (e.scale ?? typeof e.score) : '')));
    expect(scales.size).toBeGreaterThanOrEqual(4);
    const words = ratings.filter(
      (e) => e.kind === 'rating' && typeof e.score === 'string' && e.scale === undefined,
    );
    expect(words.filter((e) => e.kind === 'rating' && e.score === '满意').length).toBeGreaterThan(
      words.length / 2,
    );
  });

  it('has one overloaded agent with the most agent messages', () => {
    const roster = demoRoster({});
    const owner = new Map<string, string>();
    for (const r of roster) for (const a of r.accounts) owner.set(a.account, r.employeeNo);
    const counts = new Map<string, number>();
    const unknown = new Set<string>();
    for (const e of events) {
      if (e.kind !== 'message' || e.role !== 'agent') continue;
      const no = owner.get(e.account!);
      if (!no) unknown.add(e.account!);
      else counts.set(no, (counts.get(no) ?? 0) + 1);
    }
    expect([...unknown]).toEqual([]);
    const ranked = [...counts].sort((a, b) => b[1] - a[1]);
    expect(ranked[0]![0]).toBe(stats.overloaded);
    expect(ranked[0]![1]).toBeGreaterThan(ranked[1]![1] * 1.2);
  });

  it('has greeting-only visitors, missed conversations and real questions elsewhere', () => {
    let greetingOnly = 0;
    let missed = 0;
    let lookLikeGreetings = 0;
    for (const c of convs) {
      const customer = c.filter(isCustomerMsg);
      const answered = c.some(isAgentMsg);
      const allGreetings = customer.every(
        (e) => e.kind === 'message' && fullGreetingRes.some((re) => re.test(e.text!)),
      );
      if (!answered && allGreetings) greetingOnly++;
      else if (!answered) missed++;
      // A conversation with a real question must not look like a greeting, even to a substring match.
      if (
        answered &&
        !customer.some((e) => e.kind === 'message' && !greetingRes.some((re) => re.test(e.text ?? '')))
      ) {
        lookLikeGreetings++;
      }
    }
    expect(lookLikeGreetings).toBe(0);
    expect(greetingOnly).toBe(stats.greetingOnly);
    expect(greetingOnly / convs.length).toBeGreaterThan(0.04);
    expect(greetingOnly / convs.length).toBeLessThan(0.06);
    expect(missed).toBe(stats.missed);
    expect(missed / convs.length).toBeGreaterThan(0.01);
    expect(missed / convs.length).toBeLessThan(0.04);
  });

  it('transfers about 5% of conversations from 售前/售后 to 售后/投诉', () => {
    const group = new Map<string, string>();
    for (const r of demoRoster({})) for (const a of r.accounts) group.set(a.account, r.group);
    const transfers = events.filter((e) => e.kind === 'assignment' && e.transfer);
    expect(transfers.length).toBe(stats.transfers);
    expect(transfers.length / stats.conversations).toBeGreaterThan(0.035);
    expect(transfers.length / stats.conversations).toBeLessThan(0.07);
    for (const t of transfers)
      expect(['售后组', '投诉组']).toContain(group.get((t as { account: string }).account));
  });

  it('assigns before the first agent reply on queue channels, with realistic waits', () => {
    const firstAssignment = new Map<string, number>();
    for (const e of events) {
      if (
        e.kind === 'assignment' &&
        e.conversationId !== undefined &&
        !firstAssignment.has(String(e.conversationId))
      ) {
        firstAssignment.set(String(e.conversationId), e.ts);
      }
    }
    const waits: number[] = [];
    let unassigned = 0;
    for (const c of convs) {
      if (!QUEUE_CHANNELS.has(c[0]!.channel)) continue;
      const first = c.find(isAgentMsg);
      if (!first) continue;
      const assigned = firstAssignment.get(String(first.conversationId));
      if (assigned === undefined || assigned >= first.ts) unassigned++;
      else waits.push(assigned - c[0]!.ts);
    }
    expect(unassigned).toBe(0);
    expect(waits.length).toBeGreaterThan(1000);
    waits.sort((x, y) => x - y);
    const median = waits[Math.floor(waits.length / 2)]!;
    expect(median).toBeGreaterThan(2_000);
    expect(median).toBeLessThan(90_000);
    // Offline messages wait for the morning: the long tail of the queue.
    expect(waits[Math.floor(waits.length * 0.99)]!).toBeGreaterThan(3_600_000);
  });

  it('leaves offline messages for the first agent of the next morning', () => {
    expect(stats.offlineDeferred).toBeGreaterThan(0);
    let nextMorning = 0;
    for (const c of convs) {
      const start = localKeys(c[0]!.ts, TZ);
      if (start.hour < 19) continue;
      const first = c.find(isAgentMsg);
      if (!first) continue;
      const reply = localKeys(first.ts, TZ);
      if (reply.day !== start.day && reply.hour >= 8 && reply.hour < 11) nextMorning++;
    }
    expect(nextMorning).toBeGreaterThan(100);
  });

  it('hands over from a bot to a human with an assignment', () => {
    let handoffs = 0;
    const firstAssignment = new Map<string, Ev>();
    for (const e of events) {
      if (
        e.kind === 'assignment' &&
        e.conversationId !== undefined &&
        !firstAssignment.has(String(e.conversationId))
      ) {
        firstAssignment.set(String(e.conversationId), e);
      }
    }
    for (const c of convs) {
      const bot = c.find((e) => e.kind === 'message' && e.role === 'bot');
      if (!bot || bot.conversationId === undefined) continue;
      const a = firstAssignment.get(String(bot.conversationId));
      const human = c.find(isAgentMsg);
      expect(a).toBeDefined();
      expect(a!.ts).toBeGreaterThan(bot.ts);
      if (human) expect(human.ts).toBeGreaterThan(a!.ts);
      handoffs++;
    }
    expect(handoffs).toBeGreaterThan(100);
    expect(stats.botFirst).toBeGreaterThan(handoffs);
  });

  it('has orders after about 12% of valid conversations, inquiries, tickets and returning customers', () => {
    const valid = stats.conversations - stats.greetingOnly - stats.missed;
    const orders = events.filter((e) => e.kind === 'order' && e.type === 'order');
    expect(orders.length / valid).toBeGreaterThan(0.09);
    expect(orders.length / valid).toBeLessThan(0.15);
    expect(orders.every((e) => e.kind === 'order' && typeof e.amount === 'number' && e.amount > 0)).toBe(
      true,
    );
    expect(events.some((e) => e.kind === 'order' && e.type === 'inquiry')).toBe(true);

    const tickets = new Map<string, Ev[]>();
    for (const e of events) {
      if (e.kind !== 'ticket') continue;
      const list = tickets.get(String(e.ticketId)) ?? [];
      list.push(e);
      tickets.set(String(e.ticketId), list);
    }
    let overdue = 0;
    let escalated = 0;
    for (const list of tickets.values()) {
      expect(list[0]!.kind === 'ticket' && list[0]!.status).toBe('created');
      const resolved = list.find((e) => e.kind === 'ticket' && e.status === 'resolved');
      if (resolved && resolved.kind === 'ticket' && resolved.ts > Number(resolved.dueTs)) overdue++;
      if (list.some((e) => e.kind === 'ticket' && e.status === 'escalated')) escalated++;
    }
    expect(tickets.size).toBe(stats.tickets);
    expect(overdue).toBeGreaterThan(0);
    expect(overdue).toBeLessThan(tickets.size / 2);
    expect(escalated).toBeGreaterThan(0);

    const seen = new Map<string, { days: Set<string>; channels: Set<string> }>();
    for (const c of convs) {
      const id = c[0]!.customer!.id as string;
      const s = seen.get(id) ?? { days: new Set(), channels: new Set() };
      s.days.add(localKeys(c[0]!.ts, TZ).day);
      s.channels.add(c[0]!.channel);
      seen.set(id, s);
    }
    const repeat = [...seen.values()].filter((s) => s.days.size > 1);
    expect(repeat.length).toBeGreaterThan(1000);
    expect(repeat.some((s) => s.channels.size > 1)).toBe(true);
  });
});

describe('demo generator options', () => {
  const small = { agents: 6, days: 5, end: '2025-03-09' };

  it('is deterministic: the same options give identical output, another seed another', () => {
    const a = JSON.stringify(collect(small).events);
    const b = JSON.stringify(collect(small).events);
    const c = JSON.stringify(collect({ ...small, seed: 2 }).events);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(JSON.stringify(demoRoster({ agents: 6 }))).toBe(JSON.stringify(demoRoster({ agents: 6 })));
  });

  it('validates every event of a small run', () => {
    const { events } = collect({ agents: 8, days: 14, end: '2025-06-15', seed: 7 });
    for (const e of events) {
      const r = validateEvent(e);
      if (!r.ok) throw new Error(`${r.reason}: ${JSON.stringify(e)}`);
    }
  });

  it('scales linearly with the number of agents', () => {
    const ten = collect({ agents: 10, days: 7, end: '2025-03-09' }).stats;
    const twenty = collect({ agents: 20, days: 7, end: '2025-03-09' }).stats;
    expect(twenty.conversations / ten.conversations).toBeGreaterThan(1.9);
    expect(twenty.conversations / ten.conversations).toBeLessThan(2.1);
    expect(demoEstimate({ agents: 20, days: 7, end: '2025-03-09' }).conversations).toBe(twenty.conversations);
    for (const s of [ten, twenty]) {
      expect(s.conversations / (70 * 7 * (s === ten ? 10 : 20))).toBeGreaterThan(0.85);
      expect(s.conversations / (70 * 7 * (s === ten ? 10 : 20))).toBeLessThan(1.15);
    }
  });

  it('works for a one-agent team', () => {
    const { events, stats } = collect({ agents: 1, days: 2, end: '2025-03-04' });
    expect(stats.conversations).toBeGreaterThan(100);
    expect(events.some((e) => e.kind === 'message' && e.role === 'agent')).toBe(true);
  });

  it('builds a roster with unique names and accounts, four groups and a small night group', () => {
    const roster = demoRoster({});
    expect(roster).toHaveLength(30);
    expect(new Set(roster.map((r) => r.name)).size).toBe(30);
    expect(roster[0]!.employeeNo).toBe('KF001');
    expect(roster.every((r) => /^\p{Script=Han}{2,4}$/u.test(r.name))).toBe(true);
    const accounts = roster.flatMap((r) => r.accounts.map((a) => a.account));
    expect(new Set(accounts).size).toBe(accounts.length);
    const sizes = new Map<string, number>();
    for (const r of roster) sizes.set(r.group, (sizes.get(r.group) ?? 0) + 1);
    expect([...sizes.keys()].sort()).toEqual(['售前组', '售后组', '夜班组', '投诉组'].sort());
    expect(sizes.get('夜班组')!).toBeLessThan(sizes.get('售前组')!);
    const wecom = roster[0]!.accounts.find((a) => a.platform === 'wecom_kf')!.account;
    expect(wecom).toMatch(/^[a-z]+\d*$/);
    expect(roster[0]!.accounts.find((a) => a.platform === 'feishu')!.account).toMatch(/^ou_[0-9a-f]{32}$/);
  });

  it('rejects bad options', () => {
    expect(() => demoEstimate({ end: '2025-02-30' })).toThrow(/end/);
    expect(() => demoEstimate({ agents: 0 })).toThrow(/agents/);
    expect(() => demoEstimate({ days: 0 })).toThrow(/days/);
  });

  it('defaults to the 30 days up to yesterday in Asia/Shanghai', () => {
    const stats = emptyDemoStats();
    const it = generateDemo({ agents: 1, days: 1 }, stats);
    const first = it.next().value as Ev[];
    const today = localKeys(Date.now(), TZ).day;
    const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    expect(localKeys(first[0]!.ts, TZ).day).toBe(yesterday);
    expect(demoEstimate({}).conversations).toBeGreaterThan(70 * 30 * 30 * 0.85);
  });
});
