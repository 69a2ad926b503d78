/**
 * What a viewer may see of a bundle: the metric, computed-field and score columns left after
 * viewer.hidden, and the key of each summary row. Every sheet takes its columns from here, so a
 * hidden column cannot appear on one sheet and not on another.
 */
import { type MetricDef, type MetricUnit, metricById, resolveMetric } from '../../metrics/catalog.ts';
import type { ReportRow } from '../../metrics/report.ts';
import type { ReportBundle, Viewer } from '../types.ts';

export interface MetricColumn {
  kind: 'metric';
  id: string;
  def: MetricDef;
  header: string;
  unit: MetricUnit;
}
export interface ComputedColumn {
  kind: 'computed';
  id: string;
  header: string;
  formula: string;
  unit: MetricUnit;
}
export interface ScoreColumn {
  kind: 'score';
  id: 'score';
  header: string;
  unit: MetricUnit;
}
export type ValueColumn = MetricColumn | ComputedColumn | ScoreColumn;

export const NO_GROUP = '未分组';

/** Whether the viewer may see a column named by metric id, zh/en name, computed-field name or 'score'. */
export function isHidden(viewer: Pick<Viewer, 'hidden'>, name: string): boolean {
  if (!viewer.hidden.length) return false;
  const id = resolveMetric(name)?.id ?? name;
  return viewer.hidden.some((h) => h === name || h === id || (resolveMetric(h)?.id ?? h) === id);
}

export function valueColumns(bundle: ReportBundle): ValueColumn[] {
  const { template, viewer, current } = bundle;
  const cols: ValueColumn[] = [];
  for (const id of template.metrics) {
    const def = resolveMetric(id);
    if (!def)
      throw new Error(
        `模板 “${template.name}” 的指标 “${id}” 不在指标目录中 / template "${template.name}": unknown metric "${id}"`,
      );
    if (isHidden(viewer, def.id) || cols.some((c) => c.id === def.id)) continue;
    cols.push({ kind: 'metric', id: def.id, def, header: def.zh, unit: def.unit });
  }
  for (const c of template.computed) {
    if (isHidden(viewer, c.name)) continue;
    cols.push({ kind: 'computed', id: c.name, header: c.name, formula: c.formula, unit: 'score' });
  }
  const hasScore =
    !!template.score && (current.rows.some((r) => 'score' in r.metrics) || 'score' in current.total.metrics);
  if (hasScore && !isHidden(viewer, 'score'))
    cols.push({ kind: 'score', id: 'score', header: `绩效得分(${template.score!.name})`, unit: 'score' });
  return cols;
}

/** A column's value in a row of the report (index into bundle.computed.rows), or the total when i is -1. */
export function columnValue(
  bundle: ReportBundle,
  col: ValueColumn,
  row: ReportRow,
  i: number,
): number | null {
  if (col.kind === 'computed') {
    const src = i < 0 ? bundle.computed.total : bundle.computed.rows[i];
    return src?.[col.id] ?? null;
  }
  return row.metrics[col.id] ?? null;
}

export interface KeyColumn {
  header: string;
  width: number;
  value: (row: ReportRow) => string;
}

/** The label columns of a summary row: 客服 and 组, or 组, or 渠道. */
export function keyColumns(bundle: ReportBundle): KeyColumn[] {
  switch (bundle.template.by) {
    case 'agent':
      return [
        { header: '客服', width: 14, value: (r) => String(r.key.agent ?? '') },
        { header: '组', width: 12, value: (r) => String(r.key.group ?? '') },
      ];
    case 'group':
      return [
        {
          header: '组',
          width: 14,
          value: (r) => (r.key.group === null || r.key.group === undefined ? NO_GROUP : String(r.key.group)),
        },
      ];
    case 'channel':
      return [{ header: '渠道', width: 14, value: (r) => String(r.key.channel ?? '') }];
  }
}

/** The identity of a summary row, as Anomaly.key names it: agent id, group or channel. */
export function rowKey(bundle: ReportBundle, row: ReportRow): string {
  switch (bundle.template.by) {
    case 'agent':
      return String(row.key.agent_id ?? '');
    case 'group':
      return String(row.key.group ?? '');
    case 'channel':
      return String(row.key.channel ?? '');
  }
}

/** The row's label (name) as the pivot table's row field shows it. */
export function rowLabel(bundle: ReportBundle, row: ReportRow): string {
  return keyColumns(bundle)[0]!.value(row);
}

export function metricDef(id: string): MetricDef | undefined {
  return metricById(id) ?? resolveMetric(id);
}
