import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metricById } from './catalog.ts';
import { compileFormula } from './formula.ts';
import {
  computeScore,
  copyPreset,
  type Normalisation,
  normaliseValue,
  parseScoreModel,
  SCORE_PRESETS,
  type ScoreModel,
  ScoreModelError,
  scoreToFormula,
} from './scores.ts';

const modelError = (input: unknown): ScoreModelError => {
  try {
    parseScoreModel(input);
  } catch (e) {
    if (e instanceof ScoreModelError) return e;
    throw e;
  }
  throw new Error('expected a ScoreModelError');
};

const pct = { kind: 'pct' } as const;

describe('normaliseValue', () => {
  it.each<[Normalisation, number, number]>([
    [pct, 0.8, 80],
    [pct, 1.2, 100],
    [{ kind: 'linear', best: 15, worst: 120 }, 10, 100],
    [{ kind: 'linear', best: 15, worst: 120 }, 15, 100],
    [{ kind: 'linear', best: 15, worst: 120 }, 67.5, 50],
    [{ kind: 'linear', best: 15, worst: 120 }, 200, 0],
    [{ kind: 'linear', best: 0.3, worst: 0 }, 0.15, 50],
    [{ kind: 'linear', best: 0.3, worst: 0 }, 0.6, 100],
    [{ kind: 'scale', min: 1, max: 5 }, 4.5, 87.5],
    [{ kind: 'scale', min: 1, max: 5 }, 1, 0],
    [{ kind: 'formula', expr: 'value * 50' }, 1.5, 75],
    [{ kind: 'formula', expr: '100 - value' }, 130, 0],
  ])('%j of %d → %d', (n, raw, expected) => {
    expect(normaliseValue(n, raw)).toBeCloseTo(expected, 10);
  });

  it('is empty for empty values and formulas that come out empty', () => {
    expect(normaliseValue(pct, null)).toBeNull();
    expect(normaliseValue(pct, Number.NaN)).toBeNull();
    expect(normaliseValue({ kind: 'formula', expr: '100 / value' }, 0)).toBeNull();
    expect(
      normaliseValue({ kind: 'formula', expr: 'value / 接待会话数 * 100' }, 5, (n) =>
        n === 'received' ? 10 : null,
      ),
    ).toBe(50);
  });

  it('always lands in 0–100', () => {
    const arbNormalisation = fc.oneof(
      fc.constant<Normalisation>(pct),
      fc
        .tuple(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        )
        .filter(([a, b]) => a !== b)
        .map(([best, worst]): Normalisation => ({ kind: 'linear', best, worst })),
      fc
        .tuple(fc.integer({ min: -10, max: 10 }), fc.integer({ min: 1, max: 10 }))
        .map(([min, span]): Normalisation => ({ kind: 'scale', min, max: min + span })),
      fc.constantFrom<Normalisation>(
        { kind: 'formula', expr: 'value * 100' },
        { kind: 'formula', expr: '1 / value' },
        { kind: 'formula', expr: 'IF(value > 1, -value, value ^ 2)' },
      ),
    );
    fc.assert(
      fc.property(arbNormalisation, fc.oneof(fc.double(), fc.constant(null)), (n, raw) => {
        const v = normaliseValue(n, raw);
        return v === null || (v >= 0 && v <= 100);
      }),
      { numRuns: 1000 },
    );
  });
});

const good = {
  frt_avg_s: 15,
  resolution_rate: 0.8,
  csat_avg: 4.5,
  conversion_rate: 0.15,
  ticket_overdue_rate: 0.1,
};

describe('computeScore', () => {
  it('weights the normalised components (电商零售, by hand)', () => {
    const r = computeScore(SCORE_PRESETS.ecommerce, good);
    // 25×100 + 35×80 + 20×87.5 + 15×50 + 5×80 = 8200
    expect(r.score).toBeCloseTo(82, 10);
    expect(r.missing).toEqual([]);
    expect(r.components.map((c) => [c.metric, c.label, c.normalised, c.effectiveWeight])).toEqual([
      ['frt_avg_s', '响应速度', 100, 25],
      ['resolution_rate', '解决率', 80, 35],
      ['csat_avg', '客户满意度', 87.5, 20],
      ['conversion_rate', '营销转化', 50, 15],
      ['ticket_overdue_rate', '工单协同', 80, 5],
    ]);
  });

  it('leaves empty components out and renormalises the other weights', () => {
    // 金融保险: compliance_rate is not computed yet.
    const r = computeScore(SCORE_PRESETS.finance, {
      frt_avg_s: 20,
      resolution_rate: 0.5,
      csat_avg: 5,
      inquiry_rate: 0.25,
    });
    expect(r.missing).toEqual(['compliance_rate']);
    // (15×100 + 30×50 + 15×100 + 10×50) / 70
    expect(r.score).toBeCloseTo(5000 / 70, 10);
    expect(r.components.find((c) => c.metric === 'resolution_rate')?.effectiveWeight).toBeCloseTo(
      300 / 7,
      10,
    );
    expect(r.components.find((c) => c.metric === 'compliance_rate')).toMatchObject({
      raw: null,
      normalised: null,
      effectiveWeight: 0,
    });
  });

  it('is empty when every component is', () => {
    expect(computeScore(SCORE_PRESETS.education, {})).toMatchObject({
      score: null,
      missing: SCORE_PRESETS.education.components.map((c) => c.metric),
    });
    const zero: ScoreModel = {
      name: 'z',
      components: [
        { metric: 'csat_avg', weight: 0, normalise: pct },
        { metric: 'resolution_rate', weight: 100, normalise: pct },
      ],
    };
    expect(computeScore(zero, { csat_avg: 0.5 }).score).toBeNull();
  });

  it('resolves components given by display name', () => {
    const model = parseScoreModel({
      name: '简单',
      components: [
        { metric: '解决率', weight: 60, normalise: pct },
        { metric: 'CSAT (average)', weight: 40, normalise: { kind: 'scale', min: 1, max: 5 } },
      ],
    });
    const r = computeScore(model, { resolution_rate: 0.9, csat_avg: 3 });
    expect(r.components.map((c) => [c.metric, c.label])).toEqual([
      ['resolution_rate', '解决率'],
      ['csat_avg', '平均满意度'],
    ]);
    expect(r.score).toBeCloseTo(0.6 * 90 + 0.4 * 50, 10);
  });

  it('ignores non-finite values', () => {
    expect(computeScore(SCORE_PRESETS.ecommerce, { ...good, csat_avg: Number.NaN }).missing).toEqual([
      'csat_avg',
    ]);
  });
});

describe('score models: validation', () => {
  it('accepts the presets, whose weights follow seed 000', () => {
    expect(Object.keys(SCORE_PRESETS)).toEqual(['ecommerce', 'finance', 'education']);
    const weights = Object.fromEntries(
      Object.entries(SCORE_PRESETS).map(([id, m]) => [id, m.components.map((c) => c.weight)]),
    );
    expect(weights).toEqual({
      ecommerce: [25, 35, 20, 15, 5],
      finance: [15, 30, 15, 30, 10],
      education: [20, 25, 25, 20, 10],
    });
    expect(Object.values(SCORE_PRESETS).map((m) => m.name)).toEqual(['电商零售', '金融保险', '在线教育']);
    for (const m of Object.values(SCORE_PRESETS)) {
      expect(parseScoreModel(m)).toEqual(m);
      for (const c of m.components) expect(metricById(c.metric), c.metric).toBeDefined();
    }
  });

  it('rejects weights that do not sum to 100, naming the model', () => {
    const m = copyPreset('ecommerce', '我的电商');
    m.components[0].weight = 20;
    const e = modelError(m);
    expect(e.message).toContain('我的电商');
    expect(e.message).toContain('权重合计为 95');
    expect(e.message).toContain('weights sum to 95, not 100');
  });

  it('reports unknown metrics, degenerate ranges and bad formulas with where they are', () => {
    const e = modelError({
      name: '坏模型',
      components: [
        { metric: '响应速率', weight: 25, normalise: pct },
        { metric: 'frt_avg_s', weight: 25, normalise: { kind: 'linear', best: 60, worst: 60 } },
        { metric: 'csat_avg', weight: 25, normalise: { kind: 'scale', min: 5, max: 5 } },
        { metric: 'csat_avg', weight: 25, normalise: { kind: 'formula', expr: 'value * 满意度系数' } },
      ],
    });
    expect(e.issues).toEqual([
      'components.0.metric: 未知指标 “响应速率” / unknown metric "响应速率"',
      'components.1.normalise: best 与 worst 不能相同 / best and worst must differ',
      'components.2.normalise: min 与 max 不能相同 / min and max must differ',
      'components.3.normalise: 第 9 个字符:未知名称 “满意度系数” / at character 9: unknown name "满意度系数"',
    ]);
  });

  it('rejects malformed input', () => {
    expect(modelError({ name: 'x', components: [] }).issues[0]).toMatch(/^components:/);
    expect(
      modelError({ name: 'x', components: [{ metric: 'csat_avg', weight: 100, normalise: { kind: 'log' } }] })
        .message,
    ).toContain('“x”');
    expect(modelError(null).message).toContain('“?”');
  });
});

describe('copyPreset', () => {
  it('copies deeply, renamed and without the preset id', () => {
    const m = copyPreset('finance', '理财客服');
    expect(m.name).toBe('理财客服');
    expect(m.id).toBeUndefined();
    m.components[3] = { metric: 'qa_score', weight: 30, normalise: pct };
    (m.components[0].normalise as { best: number }).best = 5;
    expect(SCORE_PRESETS.finance.components[3].metric).toBe('compliance_rate');
    expect(SCORE_PRESETS.finance.components[0].normalise).toEqual({ kind: 'linear', best: 20, worst: 180 });
    expect(parseScoreModel(m).components[3].metric).toBe('qa_score');
  });

  it('rejects unknown presets', () => {
    expect(() => copyPreset('retail', 'x')).toThrow(
      /unknown preset "retail" \(ecommerce, finance, education\)/,
    );
    expect(() => copyPreset('toString', 'x')).toThrow(/unknown preset/);
  });
});

describe('scoreToFormula', () => {
  it('writes the model as a formula over catalog ids', () => {
    const model: ScoreModel = {
      name: '小模型',
      components: [
        { metric: '首次响应时长', weight: 50, normalise: { kind: 'linear', best: 15, worst: 120 } },
        { metric: 'csat_avg', weight: 30, normalise: { kind: 'scale', min: 1, max: 5 } },
        {
          metric: 'conversion_rate',
          weight: 20,
          normalise: { kind: 'formula', expr: 'value / 有效工作率 * 100' },
        },
      ],
    };
    expect(scoreToFormula(model)).toBe(
      '小模型 = (IF(ISBLANK(frt_avg_s), 0, 50 * MAX(0, MIN(100, (120 - frt_avg_s) / 105 * 100)))' +
        ' + IF(ISBLANK(csat_avg), 0, 30 * MAX(0, MIN(100, (csat_avg - 1) / 4 * 100)))' +
        ' + IF(ISBLANK(conversion_rate), 0, IF(ISBLANK(conversion_rate / effective_rate * 100), 0, 20 * MAX(0, MIN(100, conversion_rate / effective_rate * 100)))))' +
        ' / (IF(ISBLANK(frt_avg_s), 0, 50) + IF(ISBLANK(csat_avg), 0, 30)' +
        ' + IF(ISBLANK(conversion_rate), 0, IF(ISBLANK(conversion_rate / effective_rate * 100), 0, 20)))',
    );
    const cells: Record<string, string> = {
      frt_avg_s: 'B2',
      csat_avg: 'C2',
      conversion_rate: 'D2',
      effective_rate: 'E2',
    };
    expect(compileFormula(scoreToFormula(model)).toExcel((n) => cells[n])).toBe(
      'IF(IF(B2="",0,50)+IF(C2="",0,30)+IF(D2="",0,IF(OR(E2="",E2=0),0,20))=0,"",' +
        '(IF(B2="",0,50*MAX(0,MIN(100,(120-B2)/105*100)))+IF(C2="",0,30*MAX(0,MIN(100,(C2-1)/4*100)))' +
        '+IF(D2="",0,IF(OR(E2="",E2=0),0,20*MAX(0,MIN(100,D2/E2*100)))))' +
        '/(IF(B2="",0,50)+IF(C2="",0,30)+IF(D2="",0,IF(OR(E2="",E2=0),0,20))))',
    );
  });

  const arbMetricValue = fc.oneof(
    fc.constant(null),
    fc.double({ min: -10, max: 500, noNaN: true }),
    fc.constantFrom(0, 1, 0.5, 15, 120),
  );

  it('evaluates to computeScore for the presets', () => {
    const ids = [...new Set(Object.values(SCORE_PRESETS).flatMap((m) => m.components.map((c) => c.metric)))];
    const formulas = Object.values(SCORE_PRESETS).map((m) => [m, compileFormula(scoreToFormula(m))] as const);
    fc.assert(
      fc.property(fc.array(arbMetricValue, { minLength: ids.length, maxLength: ids.length }), (vs) => {
        const metrics = Object.fromEntries(ids.map((id, i) => [id, vs[i]]));
        for (const [model, f] of formulas) {
          expect(f.name).toBe(model.name);
          const want = computeScore(model, metrics).score;
          const got = f.evaluate((n) => metrics[n]);
          if (want === null) expect(got).toBeNull();
          else expect(got).toBeCloseTo(want, 8);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('evaluates to computeScore for random models', () => {
    const metricIds = ['frt_avg_s', 'resolution_rate', 'csat_avg', 'conversion_rate', 'received'];
    const arbComponent = fc.record({
      metric: fc.constantFrom(...metricIds),
      weight: fc.integer({ min: 0, max: 50 }),
      normalise: fc.oneof(
        fc.constant<Normalisation>(pct),
        fc
          .tuple(fc.integer({ min: -5, max: 200 }), fc.integer({ min: -5, max: 200 }))
          .filter(([a, b]) => a !== b)
          .map(([best, worst]): Normalisation => ({ kind: 'linear', best, worst })),
        fc
          .tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: 1, max: 10 }))
          .map(([min, span]): Normalisation => ({ kind: 'scale', min, max: min + span })),
        fc.constantFrom<Normalisation>(
          { kind: 'formula', expr: '100 / value' },
          { kind: 'formula', expr: 'value / 接待会话数 * 100' },
          { kind: 'formula', expr: 'IF(ISBLANK(value), 50, value)' },
        ),
      ),
    });
    fc.assert(
      fc.property(
        fc.array(arbComponent, { minLength: 1, maxLength: 5 }),
        fc.array(arbMetricValue, { minLength: 5, maxLength: 5 }),
        (components, vs) => {
          const model: ScoreModel = { name: '随机', components };
          const metrics = Object.fromEntries(metricIds.map((id, i) => [id, vs[i]]));
          const want = computeScore(model, metrics).score;
          const got = compileFormula(scoreToFormula(model)).evaluate((n) => metrics[n]);
          if (want === null) expect(got).toBeNull();
          else expect(got).toBeCloseTo(want, 8);
        },
      ),
      { numRuns: 500 },
    );
  });
});
