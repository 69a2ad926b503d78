/**
 * The same demo data reported from SQLite and from PostgreSQL: one set of migrations and queries,
 * so every number of every grouping must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src/demo/load.ts';
import { METRICS } from '../../src/metrics/catalog.ts';
import { runReport } from '../../src/metrics/report.ts';
import type { Dimension, Filters } from '../../src/metrics/queries/scope.ts';
import { SCORE_PRESETS } from '../../src/metrics/scores.ts';
import type { Store } from '../../src/store/db.ts';
import { expectSameReport } from '../support/reports.ts';
import { freshStore } from '../support/stores.ts';

// Across a month's end, so that rollup reports mix whole months (monthly rollup) and edge days.
const OPTS = { agents: 4, days: 8, seed: 11, end: '2025-12-03' };
const ALL = METRICS.filter((m) => m.compute).map((m) => m.id);

async function load(store: Store) {
  await loadDemo(store, OPTS);
  expect(await store.db.selectFrom('rejects').selectAll().execute()).toEqual([]);
}

describe('SQLite and PostgreSQL agree on the demo data', () => {
  let sqlite: Store;
  let postgres: Store;
  beforeAll(async () => {
    [sqlite, postgres] = await Promise.all([freshStore('sqlite'), freshStore('postgres')]);
    await load(sqlite);
    await load(postgres);
  });
  afterAll(async () => {
    await sqlite?.close();
    await postgres?.close();
  });

  const groupings: Dimension[][] = [
    ['agent'],
    ['group'],
    ['channel'],
    ['region'],
    ['day'],
    ['week'],
    ['hour'],
    ['weekday'],
    ['agent', 'channel'],
  ];
  it.each(groupings.map((g) => [g.join('+'), g] as const))(
    'by %s, every metric and the score',
    async (_, by) => {
      const req = {
        by,
        metrics: ALL,
        score: SCORE_PRESETS.ecommerce,
        now: Date.parse('2025-12-01T00:00:00Z'),
      };
      const [a, b] = await Promise.all([runReport(sqlite, req), runReport(postgres, req)]);
      expect(a.rows.length).toBeGreaterThan(0);
      expect(b.rows.map((r) => r.key)).toEqual(a.rows.map((r) => r.key));
      a.rows.forEach((row, i) => {
        for (const [id, v] of Object.entries(row.metrics)) {
          const w = b.rows[i]!.metrics[id];
          if (v === null) expect(w, `${JSON.stringify(row.key)} ${id}`).toBeNull();
          else expect(w, `${JSON.stringify(row.key)} ${id}`).toBeCloseTo(v, 4);
        }
      });
    },
  );

  // Edge days only; a whole month and edge days; only whole months; everything (monthly only).
  const periods = [
    { from: '2025-11-26', to: '2025-11-29' },
    { from: '2025-11-01', to: '2025-12-02' },
    { from: '2025-10-01', to: '2025-11-30' },
    {},
  ];
  it.each(groupings.slice(0, 8).map((g) => [g.join('+'), g] as const))(
    'daily and monthly rollups give the same numbers as the facts, by %s',
    async (_, by) => {
      for (const [store, period] of [sqlite, postgres].flatMap((s) => periods.map((p) => [s, p] as const))) {
        const cases: [boolean, Filters][] = [
          [false, {}],
          [true, {}],
          [false, { channel: ['web', 'wecom_kf', 'feishu'] }],
          [true, { agent: ['emp-KF001'] }],
        ];
        for (const [businessHours, filters] of cases) {
          const req = {
            by,
            metrics: ALL.filter((id) => !id.startsWith('concurrency_')),
            businessHours,
            filters,
            ...period,
          };
          const [rolled, facts] = await Promise.all([
            runReport(store, req),
            runReport(store, { ...req, useRollups: false }),
          ]);
          expect(rolled.rows.length, JSON.stringify(period)).toBeGreaterThan(0);
          expectSameReport(rolled, facts, JSON.stringify(period));
        }
      }
    },
  );

  it('with filters and business hours', async () => {
    const req = {
      by: ['agent'] as Dimension[],
      metrics: ALL,
      businessHours: true,
      filters: { channel: ['web', 'wecom_kf'], tag: ['退款', '物流'] },
    };
    const [a, b] = await Promise.all([runReport(sqlite, req), runReport(postgres, req)]);
    expect(b.rows).toHaveLength(a.rows.length);
    a.rows.forEach((row, i) => {
      for (const [id, v] of Object.entries(row.metrics)) {
        if (v === null) expect(b.rows[i]!.metrics[id]).toBeNull();
        else expect(b.rows[i]!.metrics[id]).toBeCloseTo(v, 4);
      }
    });
  });
});
