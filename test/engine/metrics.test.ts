/**
 * Every metric of METRICS.md on a hand-computed scenario (test/engine/scenario.ts), on SQLite and
 * PostgreSQL. The arithmetic is written next to each expectation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import { METRICS } from '../../src/metrics/catalog.ts';
import { type Report, runReport } from '../../src/metrics/report.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';
import { scenario } from './scenario.ts';

const ALL = METRICS.filter((m) => m.compute).map((m) => m.id);

async function load(store: Store) {
  await importRoster(store, [
    { name: '张三', employeeNo: 'KF001', group: '售后组', accounts: [{ account: 'zhang' }] },
    { name: '李四', employeeNo: 'KF002', group: '售前组', accounts: [{ account: 'li' }] },
  ]);
  const r = await accept(
    store,
    scenario().map((raw, i) => ({ line: i + 1, raw })),
    'scenario',
  );
  expect(r.rejects).toEqual([]);
  await refreshFacts(store);
}

const row = (r: Report, name: string) => {
  const found = r.rows.find((x) => x.key.agent === name);
  if (!found) throw new Error(`no row for ${name}: ${JSON.stringify(r.rows.map((x) => x.key))}`);
  return found.metrics;
};

describe.each(DIALECTS)('metrics on the hand-computed scenario (%s)', (dialect) => {
  let store: Store;
  let byAgent: Report;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await load(store);
    byAgent = await runReport(store, {
      by: ['agent'],
      metrics: ALL,
      now: Date.parse('2025-12-01T00:00:00Z'),
    });
  });
  afterAll(async () => store?.close());

  it('counts workload per agent', () => {
    expect(byAgent.total.key).toEqual({});
    const z = row(byAgent, '张三');
    const l = row(byAgent, '李四');
    const u = row(byAgent, '未分配');
    // Responsible agent: A, C (last handler after transfer), E → 张三; D never answered → unassigned.
    expect([z.conversations, l.conversations, u.conversations]).toEqual([3, 0, 1]);
    expect(byAgent.total.metrics.conversations).toBe(4);
    // B is greeting-only ("在吗?", no reply): counted as invalid, credited to its assignee 李四.
    expect(l.invalid).toBe(1);
    expect(byAgent.total.metrics.invalid).toBe(1);
    // Segments: A 张三; C 李四 → 张三; E 张三 (B's segment excluded with its conversation).
    expect([z.received, l.received]).toEqual([3, 1]);
    expect([z.valid, l.valid]).toEqual([3, 1]);
    expect(z.effective_rate).toBe(1);
    expect([z.missed, u.missed, byAgent.total.metrics.missed]).toEqual([0, 1, 1]);
    expect(byAgent.total.metrics.missed_rate).toBe(0.25); // 1 / 4
    // Customer messages: A 3 + C 2 + E 1 → 张三; D 1 → unassigned. Agent messages by sender.
    expect([z.messages_in, u.messages_in]).toEqual([6, 1]);
    expect([z.messages_out, l.messages_out]).toEqual([4, 1]);
    expect([z.transfer_rate, l.transfer_rate, byAgent.total.metrics.transfer_rate]).toEqual([0, 1, 0.25]);
    expect(z.offline_conversations).toBe(1); // E arrived at 20:00
  });

  it('measures speed with METRICS.md attribution', () => {
    const z = row(byAgent, '张三');
    const l = row(byAgent, '李四');
    // First response: A 30 s (from assignment 10:00:10), E 60 s (from assignment 09:00) → 张三; C 120 s → 李四.
    expect([z.frt_avg_s, z.frt_median_s, z.frt_p90_s]).toEqual([45, 45, 57]); // p90 of [30,60] = 30 + .9·30
    expect(l.frt_avg_s).toBe(120);
    expect(byAgent.total.metrics.frt_avg_s).toBe(70);
    expect(byAgent.total.metrics.frt_median_s).toBe(60);
    expect(byAgent.total.metrics.frt_p90_s).toBe(108); // [30,60,120]: 60 + .8·60
    expect([z.frt_timeout_rate, l.frt_timeout_rate]).toEqual([0.5, 1]); // > 45 s: E; C
    // Customer view: A 40 s, E 13 h 1 min = 46,860 s → 张三; C 120 s → 李四.
    expect(z.customer_frt_avg_s).toBe(23_450);
    // Queue: A 10 s, C 0 (answered before any assignment), E 46,800 s; credited to the responsible agent.
    expect(z.wait_avg_s).toBeCloseTo(15_603.333, 3);
    // Response intervals: A 40, 120; C 60 (after the transfer); E 46,860 → 张三; C 120 → 李四.
    expect(z.art_avg_s).toBe(11_770);
    expect(z.art_median_s).toBe(90);
    expect(l.art_avg_s).toBe(120);
    expect(z.response_timeout_rate).toBe(0.25); // only 46,860 > 120
    // Handle: A 290 s, C 30 s, E 300 s → 张三; C 90 s → 李四.
    expect(z.handle_avg_s).toBeCloseTo(206.667, 3);
    expect(z.handle_median_s).toBe(290);
    expect(l.handle_avg_s).toBe(90);
    expect([z.concurrency_max, z.concurrency_avg]).toEqual([1, 1]);
  });

  it('measures outcome, CSAT and conversion', () => {
    const z = row(byAgent, '张三');
    // Rated valid conversations of 张三: A 5, C 2, E 满意 → 5. Resolved = closed and ≥ 3: A, E.
    expect(z.resolved).toBe(2);
    expect(z.resolution_rate).toBeCloseTo(2 / 3, 6);
    expect(z.fcr_rate).toBeCloseTo(2 / 3, 6); // A and E: one human segment, no return within 7 days
    expect(z.csat_avg).toBe(4);
    expect(z.csat_pct).toBeCloseTo(2 / 3, 6);
    expect(z.rating_rate).toBe(1);
    expect(z.conversion_rate).toBeCloseTo(1 / 3, 6); // E's customer ordered the next day
    expect(z.order_amount).toBe(199);
    expect(row(byAgent, '李四').resolution_rate).toBeNull(); // nothing to measure: empty, not 0
  });

  it('uses business hours when asked', async () => {
    const r = await runReport(store, {
      by: ['agent'],
      metrics: ['customer_frt_avg_s', 'wait_avg_s', 'art_avg_s'],
      businessHours: true,
    });
    const z = row(r, '张三');
    // E: 20:00 → 09:01 next day is one business minute; its queue is 0 business seconds.
    expect(z.customer_frt_avg_s).toBe(50); // (40 + 60) / 2
    expect(z.wait_avg_s).toBeCloseTo(10 / 3, 6);
    expect(z.art_avg_s).toBe(70); // (40 + 120 + 60 + 60) / 4
  });

  it('groups by channel, group, day and filters', async () => {
    const byChannel = await runReport(store, { by: ['channel'], metrics: ['conversations', 'missed'] });
    expect(byChannel.rows.map((r) => [r.key.channel, r.metrics.conversations, r.metrics.missed])).toEqual([
      ['web', 2, 0],
      ['wechat', 2, 1],
    ]);
    const byGroup = await runReport(store, { by: ['group'], metrics: ['received'] });
    expect(byGroup.rows.map((r) => [r.key.group, r.metrics.received])).toEqual([
      ['售后组', 3],
      ['售前组', 1],
      [null, 0], // D, never assigned: the unassigned row shows its missed conversation
    ]);
    const byDay = await runReport(store, { by: ['day'], metrics: ['received', 'conversations'] });
    // E is dated by its first customer message (Wednesday); its segment starts Thursday.
    expect(byDay.rows.map((r) => [r.key.day, r.metrics.conversations, r.metrics.received])).toEqual([
      ['2025-11-05', 4, 3],
      ['2025-11-06', 0, 1],
    ]);
    const tagged = await runReport(store, { metrics: ['conversations'], filters: { tag: ['VIP'] } });
    expect(tagged.total.metrics.conversations).toBe(1);
    const region = await runReport(store, {
      by: ['region'],
      metrics: ['conversations'],
      filters: { region: ['北京'] },
    });
    expect(region.rows.map((r) => [r.key.region, r.metrics.conversations])).toEqual([['北京', 3]]);
    const range = await runReport(store, { from: '2025-11-06', to: '2025-11-06', metrics: ['received'] });
    expect(range.total.metrics.received).toBe(1);
  });
});
