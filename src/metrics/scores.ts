/**
 * Composite scores (绩效得分, METRICS.md): a weighted mean of metrics, each normalised to 0–100.
 * A component whose value is empty is left out and the other weights scaled up, so an agent is
 * scored on what was measured (an empty compliance rate does not count as 0).
 */
import { z } from 'zod';
import { resolveMetric } from './catalog.ts';
import { compileFormula, type Formula, FormulaError, formatName } from './formula.ts';

const normaliseSchema = z.discriminatedUnion('kind', [
  /** A 0–1 rate, ×100. */
  z.object({ kind: z.literal('pct') }),
  /** 100 at or better than best, 0 at or worse than worst; best < worst for times. */
  z.object({ kind: z.literal('linear'), best: z.number(), worst: z.number() }),
  /** min → 0, max → 100 (CSAT 1–5). */
  z.object({ kind: z.literal('scale'), min: z.number(), max: z.number() }),
  /** A formula in which `value` is the metric's raw value; may name other metrics too. */
  z.object({ kind: z.literal('formula'), expr: z.string().trim().min(1) }),
]);

export const scoreComponentSchema = z.object({
  /** Catalog id, or a zh/en name resolved through the catalog. */
  metric: z.string().trim().min(1),
  /** Percent; a model's weights sum to 100. */
  weight: z.number().min(0),
  normalise: normaliseSchema,
  label: z.string().trim().min(1).optional(),
});

export const scoreModelSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().trim().min(1),
    components: z.array(scoreComponentSchema).min(1),
  })
  .superRefine((model, ctx) => {
    model.components.forEach((c, i) => {
      const issue = (message: string, field: string) =>
        ctx.addIssue({ code: 'custom', message, path: ['components', i, field] });
      if (!resolveMetric(c.metric)) issue(`未知指标 “${c.metric}” / unknown metric "${c.metric}"`, 'metric');
      const n = c.normalise;
      if (n.kind === 'linear' && n.best === n.worst)
        issue('best 与 worst 不能相同 / best and worst must differ', 'normalise');
      if (n.kind === 'scale' && n.min === n.max)
        issue('min 与 max 不能相同 / min and max must differ', 'normalise');
      if (n.kind === 'formula') {
        try {
          formulaFor(n.expr);
        } catch (e) {
          if (!(e instanceof FormulaError)) throw e;
          issue(e.message, 'normalise');
        }
      }
    });
    const total = model.components.reduce((s, c) => s + c.weight, 0);
    if (Math.abs(total - 100) > 1e-6) {
      const t = +total.toFixed(6);
      ctx.addIssue({
        code: 'custom',
        path: ['components'],
        message: `评分模型 “${model.name}” 的权重合计为 ${t},应为 100 / score model "${model.name}": weights sum to ${t}, not 100`,
      });
    }
  });

export type Normalisation = z.infer<typeof normaliseSchema>;
export type ScoreComponent = z.infer<typeof scoreComponentSchema>;
export type ScoreModel = z.infer<typeof scoreModelSchema>;

export class ScoreModelError extends Error {
  readonly issues: readonly string[];
  constructor(modelName: string, issues: string[]) {
    super(`评分模型 “${modelName}” 无效 / invalid score model "${modelName}": ${issues.join('; ')}`);
    this.name = 'ScoreModelError';
    this.issues = issues;
  }
}

/** Validates a model (from settings or the UI); throws ScoreModelError naming the model. */
export function parseScoreModel(input: unknown): ScoreModel {
  const r = scoreModelSchema.safeParse(input);
  if (r.success) return r.data;
  const name = (input as { name?: unknown } | null)?.name;
  const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message);
  throw new ScoreModelError(typeof name === 'string' ? name : '?', issues);
}

const formulas = new Map<string, Formula>();

function formulaFor(expr: string): Formula {
  let f = formulas.get(expr);
  if (!f) {
    f = compileFormula(expr, { names: ['value'] });
    formulas.set(expr, f);
  }
  return f;
}

const metricId = (name: string): string => resolveMetric(name)?.id ?? name;
const clamp = (v: number | null): number | null =>
  v === null || !Number.isFinite(v) ? null : Math.min(100, Math.max(0, v));

/**
 * A raw value on 0–100, or null when it is empty or the normalisation cannot place it. `lookup`
 * serves the other metrics a formula normalisation names.
 */
export function normaliseValue(
  n: Normalisation,
  raw: number | null,
  lookup: (name: string) => number | null = () => null,
): number | null {
  if (raw === null || !Number.isFinite(raw)) return null;
  switch (n.kind) {
    case 'pct':
      return clamp(raw * 100);
    case 'linear':
      return clamp(((raw - n.worst) / (n.best - n.worst)) * 100);
    case 'scale':
      return clamp(((raw - n.min) / (n.max - n.min)) * 100);
    case 'formula':
      return clamp(formulaFor(n.expr).evaluate((name) => (name === 'value' ? raw : lookup(name))));
  }
}

export interface ComponentScore {
  /** Catalog id. */
  metric: string;
  label: string;
  raw: number | null;
  normalised: number | null;
  /** As configured, %. */
  weight: number;
  /** After leaving out the missing components, %; 0 for them. */
  effectiveWeight: number;
}

export interface ScoreResult {
  score: number | null;
  components: ComponentScore[];
  /** Ids of the components left out because they are empty. */
  missing: string[];
}

/** `metrics` by catalog id; absent, null and non-finite values are empty. */
export function computeScore(
  model: ScoreModel,
  metrics: Readonly<Record<string, number | null | undefined>>,
): ScoreResult {
  const get = (name: string): number | null => {
    const v = metrics[metricId(name)];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const components = model.components.map((c): ComponentScore => {
    const metric = metricId(c.metric);
    const raw = get(metric);
    return {
      metric,
      label: c.label ?? resolveMetric(metric)?.zh ?? metric,
      raw,
      normalised: normaliseValue(c.normalise, raw, get),
      weight: c.weight,
      effectiveWeight: 0,
    };
  });
  const present = components.filter((c) => c.normalised !== null);
  const total = present.reduce((s, c) => s + c.weight, 0);
  let score: number | null = null;
  if (total > 0) {
    for (const c of present) c.effectiveWeight = (c.weight / total) * 100;
    score = clamp(present.reduce((s, c) => s + c.normalised! * c.weight, 0) / total);
  }
  return { score, components, missing: components.filter((c) => c.normalised === null).map((c) => c.metric) };
}

const num = (v: number): string => String(+v.toPrecision(12));

/**
 * The model as one formula over catalog ids, equal to computeScore (renormalisation included):
 * Σ IF(ISBLANK(x), 0, weight × normalised) / Σ IF(ISBLANK(x), 0, weight). `Formula.toExcel` turns
 * it into the workbook's live score column.
 */
export function scoreToFormula(model: ScoreModel): string {
  const nums: string[] = [];
  const dens: string[] = [];
  for (const c of model.components) {
    const id = metricId(c.metric);
    const x = formatName(id);
    const n = c.normalise;
    const shift = (from: number) => (from === 0 ? x : `(${x} - ${num(from)})`);
    const v =
      n.kind === 'pct'
        ? `${x} * 100`
        : n.kind === 'linear' && n.best < n.worst
          ? `(${num(n.worst)} - ${x}) / ${num(n.worst - n.best)} * 100`
          : n.kind === 'linear'
            ? `${shift(n.worst)} / ${num(n.best - n.worst)} * 100`
            : n.kind === 'scale'
              ? `${shift(n.min)} / ${num(n.max - n.min)} * 100`
              : formulaFor(n.expr).expression((name) => (name === 'value' ? id : name));
    const w = num(c.weight);
    const term = `${w} * MAX(0, MIN(100, ${v}))`;
    // A formula may be empty although the value is not (a division by zero): computeScore leaves it out.
    const [numer, denom] =
      n.kind === 'formula'
        ? [
            `IF(ISBLANK(${x}), 0, IF(ISBLANK(${v}), 0, ${term}))`,
            `IF(ISBLANK(${x}), 0, IF(ISBLANK(${v}), 0, ${w}))`,
          ]
        : [`IF(ISBLANK(${x}), 0, ${term})`, `IF(ISBLANK(${x}), 0, ${w})`];
    nums.push(numer);
    dens.push(denom);
  }
  return `${formatName(model.name)} = (${nums.join(' + ')}) / (${dens.join(' + ')})`;
}

// ---- Presets (seed 000) -------------------------------------------------------------------

export type ScorePresetId = 'ecommerce' | 'finance' | 'education';

const speed = (weight: number, best: number, worst: number): ScoreComponent => ({
  metric: 'frt_avg_s',
  weight,
  label: '响应速度',
  normalise: { kind: 'linear', best, worst },
});
const resolution = (weight: number): ScoreComponent => ({
  metric: 'resolution_rate',
  weight,
  label: '解决率',
  normalise: { kind: 'pct' },
});
const satisfaction = (weight: number): ScoreComponent => ({
  metric: 'csat_avg',
  weight,
  label: '客户满意度',
  normalise: { kind: 'scale', min: 1, max: 5 },
});

export const SCORE_PRESETS: Readonly<Record<ScorePresetId, ScoreModel>> = {
  ecommerce: {
    id: 'ecommerce',
    name: '电商零售',
    components: [
      speed(25, 15, 120),
      resolution(35),
      satisfaction(20),
      // Conversion rates are small: ×100 would score a good 30% as 30.
      {
        metric: 'conversion_rate',
        weight: 15,
        label: '营销转化',
        normalise: { kind: 'linear', best: 0.3, worst: 0 },
      },
      {
        metric: 'ticket_overdue_rate',
        weight: 5,
        label: '工单协同',
        normalise: { kind: 'linear', best: 0, worst: 0.5 },
      },
    ],
  },
  finance: {
    id: 'finance',
    name: '金融保险',
    components: [
      speed(15, 20, 180),
      resolution(30),
      satisfaction(15),
      // Needs text analytics, not collected yet: empty, so left out until it is.
      { metric: 'compliance_rate', weight: 30, label: '合规执行', normalise: { kind: 'pct' } },
      // No completeness metric yet; a lead form (留资) is the customer leaving their details.
      {
        metric: 'inquiry_rate',
        weight: 10,
        label: '客户信息完整度',
        normalise: { kind: 'linear', best: 0.5, worst: 0 },
      },
    ],
  },
  education: {
    id: 'education',
    name: '在线教育',
    components: [
      speed(20, 20, 180),
      resolution(25),
      satisfaction(25),
      // No follow-up (回访) metric yet; the rating rate measures the post-service contact that exists.
      {
        metric: 'rating_rate',
        weight: 20,
        label: '回访率',
        normalise: { kind: 'linear', best: 0.5, worst: 0 },
      },
      // No intent metric yet; a renewal shows up as an order within the conversion window.
      {
        metric: 'conversion_rate',
        weight: 10,
        label: '续费意向',
        normalise: { kind: 'linear', best: 0.3, worst: 0 },
      },
    ],
  },
};

/** A preset to modify and save under a new name (without the preset's id). */
export function copyPreset(id: string, newName: string): ScoreModel {
  const preset = SCORE_PRESETS[id as ScorePresetId];
  if (!Object.hasOwn(SCORE_PRESETS, id)) {
    throw new Error(`未知预设 “${id}” / unknown preset "${id}" (${Object.keys(SCORE_PRESETS).join(', ')})`);
  }
  const { id: _, ...rest } = structuredClone(preset);
  return { ...rest, name: newName };
}
