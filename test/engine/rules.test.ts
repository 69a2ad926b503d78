/**
 * The knobs of METRICS.md, each on a small hand-computed case: bot handoff, offline split
 * attribution, resolution rules, idle timeout per channel, greeting-only visitors, settings errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, markAllDirty, refreshFacts } from '../../src/ingest/pipeline.ts';
import { type ReportRequest, runReport } from '../../src/metrics/report.ts';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import { DEFAULT_SETTINGS, parseSettings, type SettingsInput } from '../../src/model/settings.ts';
import type { Store } from '../../src/store/db.ts';
import { saveSettings } from '../../src/store/settings.ts';
import { freshStore } from '../support/stores.ts';
import { at } from './scenario.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

let n = 0;
type Raw = Record<string, unknown> & { kind: string; ts: string };
const ev = (conv: string, customer: string, e: Raw): CanonicalEventInput =>
  ({
    id: `r${++n}`,
    source: 'rules',
    channel: 'web',
    conversationId: conv,
    customer: { id: customer },
    ...e,
    ts: at(e.ts),
  }) as CanonicalEventInput;

async function load(events: CanonicalEventInput[], settings: SettingsInput = {}): Promise<Store> {
  const store = await freshStore('sqlite');
  stores.push(store);
  await saveSettings(store, parseSettings(settings));
  await importRoster(store, [
    { name: '张三', group: '售后组', accounts: [{ account: 'zhang' }] },
    { name: '王五', group: '夜班组', accounts: [{ account: 'wang' }] },
  ]);
  await accept(
    store,
    events.map((raw, i) => ({ line: i + 1, raw })),
    'rules',
  );
  await refreshFacts(store);
  return store;
}

async function byAgent(store: Store, metrics: string[], extra: Partial<ReportRequest> = {}) {
  const r = await runReport(store, { by: ['agent'], metrics, ...extra });
  return Object.fromEntries(r.rows.map((row) => [row.key.agent, row.metrics]));
}

describe('bot handoff', () => {
  it('starts first response and the first response interval at the handoff', async () => {
    const store = await load([
      ev('H', 'c1', { kind: 'message', role: 'customer', text: '退款怎么操作', ts: '2025-11-05 10:00:00' }),
      ev('H', 'c1', { kind: 'message', role: 'bot', text: '您好,我是智能助手', ts: '2025-11-05 10:00:01' }),
      ev('H', 'c1', { kind: 'message', role: 'customer', text: '转人工', ts: '2025-11-05 10:00:30' }),
      ev('H', 'c1', { kind: 'assignment', account: 'zhang', ts: '2025-11-05 10:00:40' }),
      ev('H', 'c1', {
        kind: 'message',
        role: 'agent',
        account: 'zhang',
        text: '您好',
        ts: '2025-11-05 10:01:00',
      }),
    ]);
    const m = (
      await byAgent(store, [
        'frt_avg_s',
        'customer_frt_avg_s',
        'wait_avg_s',
        'art_avg_s',
        'bot_handoff_rate',
        'messages_out',
      ])
    )['张三']!;
    // Handoff at the assignment (10:00:40): first response 20 s, customer view 20 s, no queue after it.
    expect(m).toEqual({
      frt_avg_s: 20,
      customer_frt_avg_s: 20,
      wait_avg_s: 0,
      art_avg_s: 20,
      bot_handoff_rate: 1,
      messages_out: 1,
    });
  });
});

describe('offline attribution', () => {
  // Saturday 10:00 (closed): received by 王五 on duty, answered by 张三 on Monday.
  const events = () => [
    ev('O', 'c2', {
      kind: 'message',
      role: 'customer',
      text: '周末下的单能发货吗',
      ts: '2025-11-08 10:00:00',
    }),
    ev('O', 'c2', { kind: 'assignment', account: 'wang', ts: '2025-11-08 10:00:05' }),
    ev('O', 'c2', { kind: 'assignment', account: 'zhang', transfer: true, ts: '2025-11-10 09:00:00' }),
    ev('O', 'c2', {
      kind: 'message',
      role: 'agent',
      account: 'zhang',
      text: '今天发货',
      ts: '2025-11-10 09:01:00',
    }),
  ];

  it('last_handler (default): each segment counts for its agent', async () => {
    const m = await byAgent(await load(events()), [
      'received',
      'valid',
      'offline_conversations',
      'conversations',
    ]);
    expect(m['王五']).toMatchObject({ received: 1, valid: 0 });
    expect(m['张三']).toMatchObject({ received: 1, valid: 1, offline_conversations: 1, conversations: 1 });
  });

  it('split: the first receiver and the handler share the workload 50/50', async () => {
    const m = await byAgent(await load(events(), { attribution: { offline: 'split' } }), [
      'received',
      'valid',
      'frt_avg_s',
    ]);
    expect(m['王五']).toMatchObject({ received: 0.5, valid: 0.5, frt_avg_s: null });
    // Time metrics are not split: 张三's first response runs from his assignment, 60 s.
    expect(m['张三']).toMatchObject({ received: 0.5, valid: 0.5, frt_avg_s: 60 });
  });

  it('split with another share', async () => {
    const m = await byAgent(
      await load(events(), { attribution: { offline: 'split', split: { original: 0.3 } } }),
      ['received'],
    );
    expect([m['王五']!.received, m['张三']!.received]).toEqual([0.3, 0.7]);
  });
});

describe('resolution rules', () => {
  // X: closed, rated 4, platform says solved. Y: closed, unrated, platform says not solved. Z: open, rated 5.
  const events = () => {
    const conv = (c: string, customer: string) => [
      ev(c, customer, { kind: 'message', role: 'customer', text: '咨询', ts: '2025-11-05 10:00:00' }),
      ev(c, customer, {
        kind: 'message',
        role: 'agent',
        account: 'zhang',
        text: '好的',
        ts: '2025-11-05 10:00:20',
      }),
    ];
    return [
      ...conv('X', 'x'),
      ev('X', 'x', { kind: 'close', resolved: true, ts: '2025-11-05 10:05:00' }),
      ev('X', 'x', { kind: 'rating', score: 4, ts: '2025-11-05 10:06:00' }),
      ...conv('Y', 'y'),
      ev('Y', 'y', { kind: 'close', resolved: false, ts: '2025-11-05 10:05:00' }),
      ...conv('Z', 'z'),
      ev('Z', 'z', { kind: 'rating', score: '10', scale: '10', ts: '2025-11-05 10:06:00' }),
    ];
  };
  it.each([
    [{ rule: 'closed_and_rated', unrated: 'excluded' }, 1, 1 / 2], // X of X, Z (Y unrated: left out)
    [{ rule: 'closed_and_rated', unrated: 'resolved' }, 2, 2 / 3], // X and Y of three
    [{ rule: 'closed_and_rated', unrated: 'unresolved' }, 1, 1 / 3],
    [{ rule: 'closed_and_rated', minRating: 5 }, 0, 0], // X rated 4 < 5; Z not closed
    [{ rule: 'platform_flag' }, 1, 1 / 3],
    [{ rule: 'no_repeat' }, 3, 1], // three customers, none came back
  ] as const)('%j', async (resolution, resolved, rate) => {
    const store = await load(events());
    // The rule is applied when the report runs: no recompute needed.
    await saveSettings(store, parseSettings({ resolution }));
    const m = (await byAgent(store, ['resolved', 'resolution_rate', 'csat_avg']))['张三']!;
    expect(m.resolved).toBe(resolved);
    expect(m.resolution_rate).toBeCloseTo(rate, 6);
    expect(m.csat_avg).toBe(4.5); // 4 and 10/2
  });

  it('no_repeat and FCR see the customer come back on another channel', async () => {
    const store = await load([
      ev('P', 'same', { kind: 'message', role: 'customer', text: '咨询', ts: '2025-11-05 10:00:00' }),
      ev('P', 'same', {
        kind: 'message',
        role: 'agent',
        account: 'zhang',
        text: '好的',
        ts: '2025-11-05 10:00:20',
      }),
      ev('P', 'same', { kind: 'close', ts: '2025-11-05 10:05:00' }),
      ev('P', 'same', { kind: 'rating', score: 5, ts: '2025-11-05 10:06:00' }),
      {
        ...ev('Q', 'same', {
          kind: 'message',
          role: 'customer',
          text: '还是不行',
          ts: '2025-11-07 10:00:00',
        }),
        channel: 'wechat',
      },
    ]);
    expect((await byAgent(store, ['fcr_rate', 'resolution_rate']))['张三']).toEqual({
      fcr_rate: 0,
      resolution_rate: 1,
    });
    await saveSettings(store, parseSettings({ resolution: { rule: 'no_repeat' } }));
    expect((await byAgent(store, ['resolution_rate']))['张三']!.resolution_rate).toBe(0);
    await saveSettings(store, parseSettings({ fcr: { windowDays: 1 } }));
    expect((await byAgent(store, ['fcr_rate']))['张三']!.fcr_rate).toBe(1); // back after 2 days: outside the window
  });
});

describe('sessions', () => {
  const chat = (channel: string) =>
    ['2025-11-05 10:00:00', '2025-11-05 10:40:00'].flatMap((ts, i) => [
      {
        id: `${channel}${i}a`,
        source: 'rules',
        kind: 'message',
        channel,
        customer: { id: 'c9' },
        role: 'customer',
        text: '问题',
        ts: at(ts),
      },
      {
        id: `${channel}${i}b`,
        source: 'rules',
        kind: 'message',
        channel,
        customer: { id: 'c9' },
        role: 'agent',
        account: 'zhang',
        text: '答复',
        ts: at(ts) + 10_000,
      },
    ]) as CanonicalEventInput[];

  it('splits by the idle timeout of each channel', async () => {
    const store = await load([...chat('web'), ...chat('email')], {
      session: { idleTimeoutByChannel: { email: 60 } },
    });
    const r = await runReport(store, { by: ['channel'], metrics: ['conversations'] });
    // 40 minutes of silence: past web's 30-minute default, within email's 60.
    expect(r.rows.map((x) => [x.key.channel, x.metrics.conversations])).toEqual([
      ['email', 1],
      ['web', 2],
    ]);
  });

  it('recomputes with new settings', async () => {
    const store = await load(chat('web'));
    await saveSettings(store, parseSettings({ session: { idleTimeoutMinutes: 60 } }));
    await markAllDirty(store);
    await refreshFacts(store);
    expect((await runReport(store, { metrics: ['conversations'] })).total.metrics.conversations).toBe(1);
  });

  it('counts greeting-only visitors as invalid unless the filter is off', async () => {
    const hello = [
      ev('G', 'g', { kind: 'message', role: 'customer', text: '在吗??', ts: '2025-11-05 10:00:00' }),
      ev('G', 'g', { kind: 'message', role: 'customer', text: 'Hello~', ts: '2025-11-05 10:00:10' }),
      ev('K', 'k', { kind: 'message', role: 'customer', text: '在吗,想问下发票', ts: '2025-11-05 10:00:00' }),
    ];
    const on = await runReport(await load(hello), {
      metrics: ['conversations', 'invalid', 'missed', 'missed_rate'],
    });
    expect(on.total.metrics).toEqual({ conversations: 1, invalid: 1, missed: 1, missed_rate: 1 });
    const off = await runReport(await load(hello, { filters: { excludeGreetingOnly: false } }), {
      metrics: ['conversations', 'invalid'],
    });
    expect(off.total.metrics).toEqual({ conversations: 2, invalid: 1 });
  });
});

describe('settings', () => {
  it('has every knob of METRICS.md with its default', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({
      timezone: 'Asia/Shanghai',
      thresholds: { firstResponse: 45, response: 120 },
      session: { idleTimeoutMinutes: 30 },
      filters: { excludeGreetingOnly: true },
      resolution: { rule: 'closed_and_rated', unrated: 'excluded', repeatDays: 7 },
      fcr: { windowDays: 7 },
      conversion: { windowDays: 7 },
      attribution: { offline: 'last_handler', split: { original: 0.5 } },
    });
    expect(DEFAULT_SETTINGS.filters.greetingPatterns).toContain('在吗');
  });

  it.each([
    [{ thresholds: { firstResponse: -1 } }, 'settings.thresholds.firstResponse'],
    [{ timezone: 'Mars/Olympus' }, 'settings.timezone: expected an IANA time zone'],
    [
      { businessHours: { weekly: { '1': [{ start: '9am', end: '18:00' }] } } },
      'settings.businessHours.weekly.1.0.start: expected HH:MM',
    ],
    [{ attribution: { offline: 'first' } }, 'settings.attribution.offline'],
  ])('names the field of a bad value: %j', (raw, message) => {
    expect(() => parseSettings(raw)).toThrow(message);
  });
});
