/**
 * The contract between the pieces of the outputs layer (issue 4): a template says what to report,
 * a period says when, a viewer says for whom; `buildBundle` (bundle.ts) turns them into one
 * ReportBundle, and every renderer (xlsx/, pdf/, csv.ts) and every delivery reads only that bundle,
 * so a workbook, a PDF and a Monday push of the same template always show the same numbers.
 */
import type { Report } from '../metrics/report.ts';
import type { Filters } from '../metrics/queries/scope.ts';
import type { ScoreModel } from '../metrics/scores.ts';
import type { Settings } from '../model/settings.ts';

/** Who an export is for. Every renderer applies it: rows in scope only, masking, hidden columns. */
export interface Viewer {
  /** In words, for file names and the 口径说明 sheet: 全部 / 组:电商一组 / 客服:张三. */
  label: string;
  scope: { kind: 'all' } | { kind: 'group'; group: string } | { kind: 'agent'; agentId: string };
  /** METRICS.md "pii:view": may see customers' personal data unmasked. */
  canSeePii: boolean;
  /** Columns hidden from this viewer: metric ids, computed-field names, or 'score'. */
  hidden: string[];
}

/** Local days of the reporting timezone, inclusive. */
export interface Period {
  from: string;
  to: string;
  /** For file and sheet names: 2025-11, 2025-W45, 2025-11-03..2025-11-09. */
  label: string;
}

export type SheetId = 'summary' | 'pivot' | 'detail' | 'definitions' | 'comparison' | 'anomalies';

export type ConditionalFormat =
  /** 解决率 < 80% red fill: value compared in the metric's own unit (rates as fractions 0–1). */
  | { metric: string; kind: 'threshold'; op: '<' | '<=' | '>' | '>='; value: number; fill: string }
  /** A colour scale over the column, red (worst) to green (best) by the metric's direction. */
  | { metric: string; kind: 'colorScale' };

export interface ComputedField {
  /** Column header, e.g. 有效工作率. */
  name: string;
  /** The formula language of METRICS.md over metric ids or names: 有效会话数 / 接待会话数 * 100. */
  formula: string;
}

/** A report template, stored in the database; named 部门_周期_版本 (电商客服部_周报_v3). */
export interface ReportTemplate {
  name: string;
  /** Title printed on sheets and PDFs. */
  title: { zh: string; en: string };
  /** One summary row per agent, group or channel. */
  by: 'agent' | 'group' | 'channel';
  filters: Filters;
  /** Catalog ids, in column order. */
  metrics: string[];
  computed: ComputedField[];
  score?: ScoreModel;
  conditionalFormats: ConditionalFormat[];
  sheets: SheetId[];
  /** Detail rows per workbook part; above it the export is split (default 50,000). */
  rowLimit: number;
  businessHours: boolean;
  /** Columns hidden from every viewer of this template (客服个人视图: 'score'), besides the viewer's own. */
  hidden?: string[];
  /** What 异常提醒 watches; defaults in src/metrics/anomalies.ts. */
  anomalies?: AnomalySettings;
}

/** METRICS.md "Anomalies": an own-baseline and a team check, and plain rules. */
export interface AnomalySettings {
  /** Metrics judged against the baselines; default: the template's metrics that have a better direction. */
  metrics?: string[];
  /** Periods of the row's own baseline, before the current one (default 6). */
  baselinePeriods?: number;
  /** |robust z| against the row's own baseline at or above which a value is anomalous (default 3). */
  z?: number;
  /** |robust z| against the team's values in the same period (default 3). */
  teamZ?: number;
  /** Rows with fewer conversations in the period are not judged (default 5). */
  minVolume?: number;
  /** Plain rules: frt_avg_s > 120 for 2 consecutive periods. */
  rules?: { metric: string; op: '<' | '<=' | '>' | '>='; value: number; periods: number }[];
}

export interface Anomaly {
  /** Key of the summary row (agent id, group or channel). */
  key: string;
  name: string;
  metric: string;
  value: number | null;
  /** What the value was compared with: the row's own median of recent periods, or the team's. */
  baseline: number | null;
  /** Robust z-score (MAD-based) when computed; absent for plain rules. */
  z?: number;
  reason: { zh: string; en: string };
  /** The context a manager needs: window, volume, concurrency, channel. */
  context: { zh: string; en: string };
}

export interface ReportBundle {
  template: ReportTemplate;
  period: Period;
  /** The period of equal length just before, for 环比. */
  previousPeriod: Period;
  viewer: Viewer;
  settings: Settings;
  generatedAt: number;
  /** Rows by template.by with template.metrics (and the score when the template has one), viewer scope applied. */
  current: Report;
  previous: Report;
  /** The same scope by local day (the trend charts) and by channel (channel share). */
  byDay: Report;
  byChannel: Report;
  /**
   * Computed fields per row key (same order as current.rows) and for the total; `previous` the
   * same for the previous period (same order as previous.rows), for 环比.
   */
  computed: ComputedValues & { previous: ComputedValues };
  anomalies: Anomaly[];
}

export interface ComputedValues {
  rows: Record<string, number | null>[];
  total: Record<string, number | null>;
}

/** What an export wrote. */
export interface ExportResult {
  files: string[];
  /** Detail rows written, over all parts (0 for formats without a detail). */
  detailRows: number;
}
