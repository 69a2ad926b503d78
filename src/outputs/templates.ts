/**
 * Report templates: what an export shows, stored in the database (table report_templates) and
 * named 部门_周期_版本 (电商客服部_周报_v3, seed 000). Three built-ins are never edited in place:
 * they are copied and the copy modified (「复制并修改」), so an upgrade can improve a built-in without
 * overwriting anybody's choices. Every template is validated on the way in and on the way out:
 * metric names resolve through the catalog, computed fields parse with the formula language.
 */
import { z } from 'zod';
import { resolveMetric } from '../metrics/catalog.ts';
import { compileFormula, FormulaError } from '../metrics/formula.ts';
import { SCORE_PRESETS, scoreModelSchema } from '../metrics/scores.ts';
import type { Store } from '../store/db.ts';
import type { ReportTemplate, SheetId } from './types.ts';

export const SHEETS: readonly SheetId[] = [
  'summary',
  'pivot',
  'detail',
  'definitions',
  'comparison',
  'anomalies',
];
export const NAME_PATTERN = /^[^_\s]+_[^_\s]+_v\d+$/i;

const names = z.array(z.string().trim().min(1));
const filtersSchema = z
  .object({ channel: names, group: names, agent: names, tag: names, region: names })
  .partial()
  .strict();
const op = z.enum(['<', '<=', '>', '>=']);

const conditionalFormatSchema = z.discriminatedUnion('kind', [
  z
    .object({
      metric: z.string().trim().min(1),
      kind: z.literal('threshold'),
      op,
      value: z.number(),
      fill: z
        .string()
        .regex(/^[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/, '颜色应为 RRGGBB / expected a colour RRGGBB'),
    })
    .strict(),
  z.object({ metric: z.string().trim().min(1), kind: z.literal('colorScale') }).strict(),
]);

const anomalySchema = z
  .object({
    metrics: names.optional(),
    baselinePeriods: z.number().int().min(2).max(52).optional(),
    z: z.number().positive().optional(),
    teamZ: z.number().positive().optional(),
    minVolume: z.number().min(0).optional(),
    rules: z
      .array(
        z
          .object({
            metric: z.string().trim().min(1),
            op,
            value: z.number(),
            periods: z.number().int().min(1).max(12),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export const templateSchema = z
  .object({
    name: z.string().trim().min(1),
    title: z.object({ zh: z.string().trim().min(1), en: z.string().trim().min(1) }).strict(),
    by: z.enum(['agent', 'group', 'channel']).default('agent'),
    filters: filtersSchema.default({}),
    metrics: names.min(1, '至少选择一个指标 / choose at least one metric'),
    computed: z
      .array(z.object({ name: z.string().trim().min(1), formula: z.string().trim().min(1) }).strict())
      .default([]),
    score: scoreModelSchema.optional(),
    conditionalFormats: z.array(conditionalFormatSchema).default([]),
    sheets: z
      .array(z.enum(SHEETS as [SheetId, ...SheetId[]]))
      .min(1)
      .default(['summary', 'definitions']),
    rowLimit: z.number().int().min(1000).max(1_000_000).default(50_000),
    businessHours: z.boolean().default(false),
    hidden: names.optional(),
    anomalies: anomalySchema.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const metricIds = new Set<string>();
    t.metrics.forEach((m, i) => {
      const def = resolveMetric(m);
      if (!def) issue(['metrics', i], `未知指标 “${m}” / unknown metric "${m}" (cspulse metrics)`);
      else if (metricIds.has(def.id)) issue(['metrics', i], `指标重复 “${m}” / metric listed twice "${m}"`);
      else metricIds.add(def.id);
    });
    const computedNames: string[] = [];
    t.computed.forEach((c, i) => {
      if (computedNames.includes(c.name) || metricIds.has(resolveMetric(c.name)?.id ?? c.name))
        issue(['computed', i, 'name'], `列名重复 “${c.name}” / duplicate column "${c.name}"`);
      try {
        // Earlier computed fields may be used by later ones, never the other way round.
        compileFormula(c.formula, { names: computedNames });
      } catch (e) {
        if (!(e instanceof FormulaError)) throw e;
        issue(['computed', i, 'formula'], `“${c.formula}” ${e.message}`);
      }
      computedNames.push(c.name);
    });
    // Formats and hiding apply to the template's own columns only.
    const columns = (name: string) =>
      name === 'score'
        ? !!t.score
        : computedNames.includes(name) || metricIds.has(resolveMetric(name)?.id ?? '');
    t.conditionalFormats.forEach((f, i) => {
      if (!columns(f.metric))
        issue(['conditionalFormats', i, 'metric'], `没有这一列 “${f.metric}” / no column "${f.metric}"`);
    });
    t.hidden?.forEach((h, i) => {
      if (!columns(h)) issue(['hidden', i], `没有这一列 “${h}” / no column "${h}"`);
    });
    t.anomalies?.metrics?.forEach((m, i) => {
      if (!resolveMetric(m)) issue(['anomalies', 'metrics', i], `未知指标 “${m}” / unknown metric "${m}"`);
    });
    t.anomalies?.rules?.forEach((r, i) => {
      if (!resolveMetric(r.metric))
        issue(['anomalies', 'rules', i, 'metric'], `未知指标 “${r.metric}” / unknown metric "${r.metric}"`);
    });
  });

export class TemplateError extends Error {
  readonly issues: readonly string[];
  constructor(name: string, issues: string[]) {
    super(`模板 “${name}” 无效 / invalid template "${name}": ${issues.join('; ')}`);
    this.name = 'TemplateError';
    this.issues = issues;
  }
}

/** Validates a template; metric names come back as catalog ids. Throws TemplateError naming each field. */
export function parseTemplate(input: unknown): ReportTemplate {
  const r = templateSchema.safeParse(input);
  if (!r.success) {
    const name = (input as { name?: unknown } | null)?.name;
    throw new TemplateError(
      typeof name === 'string' ? name : '?',
      r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message),
    );
  }
  const t = r.data;
  const id = (m: string) => resolveMetric(m)?.id ?? m;
  return {
    ...t,
    metrics: t.metrics.map(id),
    conditionalFormats: t.conditionalFormats.map((f) => ({ ...f, metric: id(f.metric) })),
    ...(t.hidden ? { hidden: t.hidden.map(id) } : {}),
    ...(t.anomalies
      ? {
          anomalies: {
            ...t.anomalies,
            ...(t.anomalies.metrics ? { metrics: t.anomalies.metrics.map(id) } : {}),
            ...(t.anomalies.rules
              ? { rules: t.anomalies.rules.map((x) => ({ ...x, metric: id(x.metric) })) }
              : {}),
          },
        }
      : {}),
  } as ReportTemplate;
}

// ---- Built-ins ------------------------------------------------------------------------------

const RED = 'FFC7CE';

export const BUILTIN_TEMPLATES: readonly ReportTemplate[] = [
  parseTemplate({
    name: '团队周报',
    title: { zh: '客服团队周报', en: 'Weekly team report' },
    by: 'agent',
    metrics: [
      'received',
      'valid',
      'effective_rate',
      'missed_rate',
      'frt_avg_s',
      'frt_p90_s',
      'art_avg_s',
      'handle_avg_s',
      'concurrency_max',
      'resolution_rate',
      'csat_avg',
    ],
    conditionalFormats: [
      { metric: 'resolution_rate', kind: 'threshold', op: '<', value: 0.8, fill: RED },
      { metric: 'frt_avg_s', kind: 'colorScale' },
    ],
    sheets: ['summary', 'comparison', 'anomalies', 'definitions'],
    // Seed 000: two agents above 120 s for two weeks in a row was what the Monday mail caught.
    anomalies: { rules: [{ metric: 'frt_avg_s', op: '>', value: 120, periods: 2 }] },
  }),
  parseTemplate({
    name: 'HR月度考核',
    title: { zh: '客服绩效月度考核', en: 'Monthly performance review' },
    by: 'agent',
    metrics: [
      'received',
      'valid',
      'frt_avg_s',
      'art_avg_s',
      'handle_avg_s',
      'resolution_rate',
      'csat_avg',
      'rating_rate',
      'conversion_rate',
      'ticket_overdue_rate',
    ],
    computed: [{ name: '有效工作率', formula: '有效会话数 / 接待会话数 * 100' }],
    score: SCORE_PRESETS.ecommerce,
    conditionalFormats: [
      { metric: 'resolution_rate', kind: 'threshold', op: '<', value: 0.8, fill: RED },
      { metric: 'csat_avg', kind: 'colorScale' },
    ],
    sheets: ['summary', 'pivot', 'detail', 'definitions', 'comparison', 'anomalies'],
  }),
  parseTemplate({
    name: '客服个人视图',
    title: { zh: '我的服务数据', en: 'My numbers' },
    by: 'agent',
    metrics: ['received', 'valid', 'frt_avg_s', 'art_avg_s', 'handle_avg_s', 'resolution_rate', 'csat_avg'],
    score: SCORE_PRESETS.ecommerce,
    hidden: ['score'],
    sheets: ['summary', 'detail', 'comparison', 'definitions'],
  }),
];

const builtin = (name: string) => BUILTIN_TEMPLATES.find((t) => t.name === name);
export const isBuiltin = (name: string): boolean => !!builtin(name);

// ---- Storage --------------------------------------------------------------------------------

export interface TemplateEntry {
  template: ReportTemplate;
  builtin: boolean;
  updatedAt: number | null;
}

export async function listTemplates(store: Store): Promise<TemplateEntry[]> {
  const rows = await store.db.selectFrom('report_templates').selectAll().orderBy('name').execute();
  return [
    ...BUILTIN_TEMPLATES.map((template) => ({ template, builtin: true, updatedAt: null })),
    ...rows.map((r) => ({ template: stored(r.name, r.doc), builtin: false, updatedAt: r.updated_at })),
  ];
}

function stored(name: string, doc: string): ReportTemplate {
  try {
    return parseTemplate(JSON.parse(doc));
  } catch (e) {
    throw new Error(
      `数据库中的模板 “${name}” 已损坏 / stored template "${name}" is damaged: ${(e as Error).message}`,
    );
  }
}

export async function getTemplate(store: Store, name: string): Promise<ReportTemplate> {
  const b = builtin(name);
  if (b) return b;
  const row = await store.db
    .selectFrom('report_templates')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) {
    const all = (await listTemplates(store)).map((t) => t.template.name);
    throw new Error(`没有模板 “${name}” / no template "${name}" (有 / available: ${all.join(', ')})`);
  }
  return stored(row.name, row.doc);
}

function checkName(name: string): void {
  if (isBuiltin(name))
    throw new Error(
      `“${name}” 是内置模板,不能修改;请先复制 / "${name}" is built in and cannot be changed; copy it first: cspulse templates copy ${name} 部门_周期_v1`,
    );
  if (!NAME_PATTERN.test(name))
    throw new Error(
      `模板名 “${name}” 应为 部门_周期_版本,如 电商客服部_周报_v3 / template names are department_period_version, e.g. 电商客服部_周报_v3`,
    );
}

async function put(store: Store, t: ReportTemplate, insertOnly: boolean): Promise<void> {
  const doc = JSON.stringify(t);
  const now = Date.now();
  const q = store.db
    .insertInto('report_templates')
    .values({ name: t.name, doc, created_at: now, updated_at: now });
  if (insertOnly) {
    const r = await q.onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    if (!Number(r.numInsertedOrUpdatedRows ?? 0))
      throw new Error(`模板 “${t.name}” 已存在 / template "${t.name}" already exists`);
  } else await q.onConflict((oc) => oc.column('name').doUpdateSet({ doc, updated_at: now })).execute();
}

/** 复制并修改: a copy of any template under a new name. */
export async function copyTemplate(store: Store, from: string, to: string): Promise<ReportTemplate> {
  checkName(to);
  const t = parseTemplate({ ...(await getTemplate(store, from)), name: to });
  await put(store, t, true);
  return t;
}

/**
 * Merges `patch` over a stored template (objects merged key by key, arrays and values replaced,
 * null removes an optional field), validates the result and saves it. A new name creates the
 * template from the patch alone.
 */
export async function setTemplate(store: Store, name: string, patch: unknown): Promise<ReportTemplate> {
  checkName(name);
  if (!patch || typeof patch !== 'object' || Array.isArray(patch))
    throw new Error('模板内容应为 JSON 对象 / the template must be a JSON object');
  if ('name' in patch && (patch as { name: unknown }).name !== name)
    throw new Error(
      `名称不能在 set 中修改;请用 copy / the name cannot be changed by set; use copy (${name} → ${String((patch as { name: unknown }).name)})`,
    );
  const row = await store.db
    .selectFrom('report_templates')
    .select('doc')
    .where('name', '=', name)
    .executeTakeFirst();
  const base = row ? JSON.parse(row.doc) : {};
  const t = parseTemplate({ ...(merge(base, patch) as object), name });
  await put(store, t, false);
  return t;
}

export async function deleteTemplate(store: Store, name: string): Promise<void> {
  checkName(name);
  const used = await store.db.selectFrom('schedules').select('id').where('template', '=', name).execute();
  if (used.length)
    throw new Error(
      `模板 “${name}” 仍被定时任务使用 / template "${name}" is used by schedule(s) ${used.map((u) => u.id).join(', ')}`,
    );
  const r = await store.db.deleteFrom('report_templates').where('name', '=', name).executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw new Error(`没有模板 “${name}” / no template "${name}"`);
}

function merge(base: unknown, patch: unknown): unknown {
  if (isObject(patch) && isObject(base)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  }
  return patch;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
