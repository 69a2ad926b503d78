/** 异常提醒 on hand-computed numbers (the arithmetic beside each expectation). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnomalyRow, detectAnomalies, median, robustZ } from '../../src/metrics/anomalies.ts';

const row = (key: string, metrics: Record<string, number | null>, volume = 20): AnomalyRow => ({
  key,
  name: key.toUpperCase(),
  metrics,
  volume,
});
const ctx = (r: AnomalyRow, m: string) => ({ zh: `${r.key}/${m}`, en: `${r.key}/${m}` });
const LABELS = ['W7', 'W6', 'W5', 'W4', 'W3', 'W2', 'W1'];

/** Six past periods, most recent first, each agent with the given frt_avg_s values. */
function history(values: Record<string, number[]>, volume = 20): AnomalyRow[][] {
  return [0, 1, 2, 3, 4, 5].map((i) =>
    Object.entries(values).map(([k, v]) => row(k, { frt_avg_s: v[i] ?? null, resolution_rate: 0.9 }, volume)),
  );
}

describe('robust z-score', () => {
  it('is (x − median) / (1.4826 · MAD), MAD floored at 5% of the median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    // median 30; |x − 30| = 0,2,2,1,1,0 → MAD 1 → 1.4826, floored to 1.5 (5% of 30); (200 − 30) / 1.5.
    expect(robustZ(200, [30, 32, 28, 31, 29, 30])).toEqual({ z: 170 / 1.5, median: 30 });
    // median 110; |x − 110| = 30,10,10,30 → MAD 20 → 29.652; (160 − 110) / 29.652 = 1.686.
    expect(robustZ(160, [80, 100, 120, 140])!.z).toBeCloseTo(50 / 29.652, 10);
    expect(robustZ(5, [1, 2])).toBeNull(); // fewer than 3 values: no baseline
    expect(robustZ(5, [0, 0, 0])).toBeNull(); // no spread and a zero median: nothing to scale by
  });
});

describe('detectAnomalies', () => {
  const past = history({
    a: [30, 32, 28, 31, 29, 30],
    b: [40, 41, 39, 40, 42, 38],
    c: [100, 98, 102, 99, 101, 100],
    d: [45, 44, 46, 45, 44, 46],
  });
  const current = [
    row('a', { frt_avg_s: 200, resolution_rate: 0.9 }),
    row('b', { frt_avg_s: 40, resolution_rate: 0.9 }),
    // c got faster: better, not a problem.
    row('c', { frt_avg_s: 50, resolution_rate: 0.9 }),
    row('d', { frt_avg_s: 45, resolution_rate: 0.5 }),
    // Too few conversations to judge, however extreme.
    row('e', { frt_avg_s: 900, resolution_rate: 0 }, 3),
  ];

  it('flags a worse move away from the own baseline and from the team, with both in the reason', () => {
    const found = detectAnomalies({
      settings: {},
      defaultMetrics: ['frt_avg_s', 'resolution_rate'],
      current,
      history: past,
      labels: LABELS,
      context: ctx,
    });
    expect(found.map((a) => `${a.key}:${a.metric}`).sort()).toEqual(['a:frt_avg_s', 'd:resolution_rate']);
    const a = found.find((x) => x.key === 'a')!;
    // Own: median 30, z = 170 / 1.5 = 113.3333. Team (b, c, d: 40, 50, 45): median 45, MAD 5,
    // z = 155 / 7.413 = 20.9.
    expect(a).toMatchObject({
      name: 'A',
      value: 200,
      baseline: 30,
      z: 113.3333,
      context: { zh: 'a/frt_avg_s' },
    });
    expect(a.reason.zh).toContain('偏离本人近 6 期中位数 30');
    expect(a.reason.zh).toContain('偏离团队中位数 45(稳健 z = 20.91)');
    // d's resolution rate: the own history is 0.9 each time (MAD 0, floored to 0.045):
    // z = (0.5 − 0.9) / 0.045 = −8.89, and higher is better.
    const d = found.find((x) => x.key === 'd')!;
    expect(d.baseline).toBe(0.9);
    expect(d.z).toBeCloseTo(-8.8889, 4);
  });

  it('honours the thresholds and the minimum volume', () => {
    const lenient = detectAnomalies({
      settings: { z: 200, teamZ: 200, minVolume: 1 },
      defaultMetrics: ['frt_avg_s'],
      current,
      history: past,
      labels: LABELS,
      context: ctx,
    });
    expect(lenient).toEqual([]);
    const strictVolume = detectAnomalies({
      settings: { minVolume: 1, metrics: ['首次响应时长'] },
      defaultMetrics: [],
      current,
      history: past,
      labels: LABELS,
      context: ctx,
    });
    // e is judged now (volume 3 ≥ 1) but has no history: only the team check can flag it.
    expect(strictVolume.map((x) => x.key).sort()).toEqual(['a', 'e']);
    expect(strictVolume.find((x) => x.key === 'e')!.reason.zh).not.toContain('本人');
  });

  it('applies plain rules over consecutive periods', () => {
    const rules = history({ f: [125, 90], g: [110, 130], h: [121, 122] });
    const found = detectAnomalies({
      settings: { z: 1e9, teamZ: 1e9, rules: [{ metric: 'frt_avg_s', op: '>', value: 120, periods: 2 }] },
      defaultMetrics: [],
      current: [row('f', { frt_avg_s: 130 }), row('g', { frt_avg_s: 130 }), row('h', { frt_avg_s: 119 })],
      history: rules,
      labels: LABELS,
      context: ctx,
    });
    // f: 125 then 130 → both > 120. g: 110 then 130 → not. h: 122 then 119 → not.
    expect(found.map((a) => a.key)).toEqual(['f']);
    expect(found[0]).toMatchObject({ metric: 'frt_avg_s', value: 130, baseline: 120 });
    expect(found[0]!.z).toBeUndefined();
    expect(found[0]!.reason.zh).toBe('首次响应时长 连续 2 期 > 120(W6、W7:125、130)');
    const three = detectAnomalies({
      settings: { z: 1e9, teamZ: 1e9, rules: [{ metric: 'frt_avg_s', op: '>', value: 120, periods: 3 }] },
      defaultMetrics: [],
      current: [row('f', { frt_avg_s: 130 }), row('h', { frt_avg_s: 123 })],
      history: rules,
      labels: LABELS,
      context: ctx,
    });
    // h: 122, 121, 123 over three periods → flagged; f: 90 two periods ago → not.
    expect(three.map((a) => a.key)).toEqual(['h']);
  });
});

describe('anomaly invariants (property)', () => {
  const team = fc
    .array(
      fc.record({
        current: fc.integer({ min: 1, max: 600 }),
        past: fc.array(fc.option(fc.integer({ min: 1, max: 600 }), { nil: null }), {
          minLength: 6,
          maxLength: 6,
        }),
      }),
      { minLength: 3, maxLength: 8 },
    )
    .map((agents) => ({
      current: agents.map((a, i) => row(`k${i}`, { frt_avg_s: a.current })),
      history: [0, 1, 2, 3, 4, 5].map((p) => agents.map((a, i) => row(`k${i}`, { frt_avg_s: a.past[p]! }))),
    }));
  const detect = (t: { current: AnomalyRow[]; history: AnomalyRow[][] }) =>
    detectAnomalies({
      settings: {},
      defaultMetrics: ['frt_avg_s'],
      current: t.current,
      history: t.history,
      labels: LABELS,
      context: ctx,
    });
  const scaled = (rows: AnomalyRow[], c: number) =>
    rows.map((r) => ({
      ...r,
      metrics: { frt_avg_s: r.metrics.frt_avg_s === null ? null : r.metrics.frt_avg_s! * c },
    }));

  it('flags the same rows whatever the unit (seconds or minutes: a change of scale)', () => {
    fc.assert(
      fc.property(team, fc.constantFrom(0.25, 0.5, 2, 4, 1024), (t, c) => {
        const a = detect(t).map((x) => x.key);
        const b = detect({ current: scaled(t.current, c), history: t.history.map((h) => scaled(h, c)) }).map(
          (x) => x.key,
        );
        expect(b).toEqual(a);
      }),
    );
  });

  it('never flags a value no worse than both its own and the team median', () => {
    fc.assert(
      fc.property(team, (t) => {
        for (const a of detect(t)) {
          const own = t.history
            .map((h) => h.find((r) => r.key === a.key)!.metrics.frt_avg_s)
            .filter((v) => v !== null) as number[];
          const others = t.current.filter((r) => r.key !== a.key).map((r) => r.metrics.frt_avg_s!);
          const worseThanOwn = own.length >= 3 && a.value! > median(own)!;
          const worseThanTeam = a.value! > median(others)!;
          expect(worseThanOwn || worseThanTeam).toBe(true);
        }
      }),
    );
  });
});
