/**
 * Rollups kept up to date day by day (src/metrics/rollups.ts), on SQLite and PostgreSQL: after late
 * events — a new conversation on a day already rolled up, one in a month never seen, a customer
 * message that moves a conversation's start to the day before, a rating — the next report rebuilds
 * only the changed days and their months, and every report read from the rollups equals the same
 * report read from the facts. A bulk change and a change of settings still rebuild them whole.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import { METRICS } from '../../src/metrics/catalog.ts';
import { runReport } from '../../src/metrics/report.ts';
import type { Dimension } from '../../src/metrics/queries/scope.ts';
import { ensureRollups } from '../../src/metrics/rollups.ts';
import { parseTimestamp } from '../../src/model/time.ts';
import type { Store } from '../../src/store/db.ts';
import { loadSettings, saveSettings } from '../../src/store/settings.ts';
import { loadWeeks } from '../outputs/weeks.ts';
import { expectSameReport } from '../support/reports.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

const at = (local: string) => parseTimestamp(local, 'Asia/Shanghai')!;
const METRIC_IDS = METRICS.filter((m) => m.compute && !m.id.startsWith('concurrency_')).map((m) => m.id);
const SCOPES: { by: Dimension[]; from?: string; to?: string }[] = [
  { by: ['agent'] },
  { by: ['day'] },
  { by: ['channel'], from: '2025-11-01', to: '2025-11-30' },
  { by: ['month', 'agent'] },
  { by: ['group'], from: '2025-10-29', to: '2025-12-31' },
];

let n = 0;
function lateConversation(account: string, channel: string, start: number, conversationId = `late${++n}`) {
  const base = { source: 'late', channel, conversationId };
  return [
    {
      ...base,
      kind: 'message',
      id: `${conversationId}-${n}m`,
      ts: start,
      role: 'customer',
      customer: { id: `c_${conversationId}` },
      text: '还在吗',
    },
    { ...base, kind: 'assignment', id: `${conversationId}-${n}a`, ts: start, account },
    {
      ...base,
      kind: 'message',
      id: `${conversationId}-${n}r`,
      ts: start + 75_000,
      role: 'agent',
      account,
      text: '在的',
    },
    { ...base, kind: 'close', id: `${conversationId}-${n}c`, ts: start + 300_000 },
  ];
}

async function ingest(store: Store, events: unknown[]): Promise<void> {
  const r = await accept(
    store,
    events.map((raw, i) => ({ line: i + 1, raw })),
    'late',
  );
  expect(r.rejects).toEqual([]);
  await refreshFacts(store);
}

/** Every scope read from the rollups and from the facts: the same rows and numbers. */
async function expectRollupsMatchFacts(store: Store): Promise<void> {
  for (const scope of SCOPES) {
    const req = { ...scope, metrics: METRIC_IDS };
    const rolled = await runReport(store, req);
    const facts = await runReport(store, { ...req, useRollups: false });
    expectSameReport(rolled, facts, JSON.stringify(scope), 6);
  }
}

describe.each(DIALECTS)('rollups kept up to date by day (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await loadWeeks(store);
  });
  afterAll(async () => store?.close());

  const ensure = async () => ensureRollups(store, await loadSettings(store));
  const staleDays = async () =>
    (await store.db.selectFrom('rollup_stale_days').select('day').orderBy('day').execute()).map((r) => r.day);

  it('rebuilds only the days late events changed, and reads the same as the facts', async () => {
    expect(await ensure()).toBe('whole');
    expect(await ensure()).toBe('current');
    const before = await runReport(store, {
      by: ['day'],
      metrics: ['conversations', 'received'],
      from: '2025-11-02',
      to: '2025-11-04',
    });

    await ingest(store, [
      // A new conversation on a day already rolled up, and one in December (a month never seen).
      ...lateConversation('li', 'web', at('2025-11-04 21:00:00')),
      ...lateConversation('wang', 'wecom_kf', at('2025-12-02 09:30:00')),
      // 张三's W45 Monday conversation (zhang60, 2025-11-03 10:00) gets a customer message sent the
      // evening before: it now starts on 2025-11-02, and 2025-11-03 loses it.
      {
        source: 'late',
        kind: 'message',
        id: 'zhang60-early',
        channel: 'wecom_kf',
        conversationId: 'zhang60',
        ts: at('2025-11-02 23:50:00'),
        role: 'customer',
        customer: { id: 'cust_zhang60' },
        text: '在吗',
      },
      // A rating on 李四's W44 Tuesday conversation.
      {
        source: 'late',
        kind: 'rating',
        id: 'li51-rating',
        channel: 'web',
        conversationId: 'li51',
        ts: at('2025-10-28 13:00:00'),
        score: 2,
      },
    ]);
    expect(await staleDays()).toEqual(['2025-10-28', '2025-11-02', '2025-11-03', '2025-11-04', '2025-12-02']);
    // A report of three days sums those again; the other changed days wait for a report of theirs.
    const period = { from: '2025-11-02', to: '2025-11-04' };
    expect(await ensureRollups(store, await loadSettings(store), period)).toBe('days');
    expect(await staleDays()).toEqual(['2025-10-28', '2025-12-02']);
    expect(await ensureRollups(store, await loadSettings(store), period)).toBe('current');
    expect(await ensure()).toBe('days');
    expect(await staleDays()).toEqual([]);
    expect(await ensure()).toBe('current');

    const after = await runReport(store, {
      by: ['day'],
      metrics: ['conversations', 'received'],
      from: '2025-11-02',
      to: '2025-11-04',
    });
    const by = (r: typeof before, id: string) =>
      Object.fromEntries(r.rows.map((x) => [x.key.day, x.metrics[id]]));
    // 11-02 is a Sunday with no conversation before; zhang60 now starts there (its segment, and so
    // 接待, still starts at the assignment on 11-03); 11-04 gained one.
    expect(by(before, 'conversations')).toEqual({ '2025-11-03': 3, '2025-11-04': 3 });
    expect(by(after, 'conversations')).toEqual({ '2025-11-02': 1, '2025-11-03': 2, '2025-11-04': 4 });
    expect(by(after, 'received')).toEqual({ '2025-11-02': 0, '2025-11-03': 3, '2025-11-04': 4 });
    await expectRollupsMatchFacts(store);
  });

  it('keeps matching the facts whatever late events arrive, day by day', async () => {
    const accounts: [string, string][] = [
      ['zhang', 'wecom_kf'],
      ['li', 'web'],
      ['wang', 'wecom_kf'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            agent: fc.integer({ min: 0, max: 2 }),
            // Any minute of 2025-09-20 … 2026-01-10: inside, between and outside the loaded weeks.
            minute: fc.integer({ min: 0, max: 112 * 24 * 60 }),
            intoExisting: fc.boolean(),
            existing: fc.integer({ min: 0, max: 41 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        async (late) => {
          const events = late.flatMap((l) => {
            const [account, channel] = accounts[l.agent]!;
            const start = at('2025-09-20 00:00:00') + l.minute * 60_000;
            const existing = `${account}${Math.floor(l.existing / 6)}${l.existing % 6}`;
            return lateConversation(account, channel, start, l.intoExisting ? existing : undefined);
          });
          await ingest(store, events);
          expect(['days', 'whole']).toContain(await ensure());
          await expectRollupsMatchFacts(store);
        },
      ),
      { numRuns: dialect === 'sqlite' ? 12 : 4 },
    );
  });

  it('rebuilds whole after a change of a query-time setting', async () => {
    const settings = await loadSettings(store);
    await saveSettings(store, { ...settings, thresholds: { ...settings.thresholds, firstResponse: 20 } });
    expect(await ensure()).toBe('whole');
    await expectRollupsMatchFacts(store);
  });
});
