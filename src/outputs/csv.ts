/**
 * The summary table as CSV: one row per bundle.current row, then the 合计 row; the template's metrics,
 * computed fields and score, minus the viewer's hidden columns.
 *
 * Values are written as the JSON report has them — seconds as numbers, rates as fractions 0–1, an
 * empty cell where there is nothing to measure — not as the formatted text of the PDF ("1:05",
 * "85.3%"). Decided so because CSV is what people feed into other tools and formulas: Excel reads a
 * typed "1:05" as 1 hour 5 minutes and a "85.3%" as text in some locales, and rounding for display
 * loses precision. Whoever wants formatted cells takes the workbook, which keeps the numbers and
 * formats them. Headers say 中文名 (id) so the unit is one `cspulse metrics` away.
 *
 * For Excel specifically: UTF-8 with a BOM (without it Excel reads Chinese as GBK mojibake), CRLF line
 * ends, and text cells that start with = + - @ are prefixed with ' so a name like "=HYPERLINK(…)"
 * is shown, never run as a formula (CSV injection).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricById } from '../metrics/catalog.ts';
import type { ReportRow } from '../metrics/report.ts';
import type { ExportResult, ReportBundle } from './types.ts';

export interface CsvColumn {
  header: string;
  value: (row: ReportRow, index: number | 'total') => string | number | null;
}

/** The columns of the summary for this bundle and viewer, in order. */
export function csvColumns(b: ReportBundle): CsvColumn[] {
  const hidden = new Set(b.viewer.hidden);
  const key =
    (k: string) =>
    (r: ReportRow): string | null => {
      const v = r.key[k];
      return v === null || v === undefined ? null : String(v);
    };
  const cols: CsvColumn[] = [];
  if (b.template.by === 'agent')
    cols.push(
      { header: '客服 (agent)', value: (r, i) => (i === 'total' ? '合计' : key('agent')(r)) },
      { header: '客服ID (agent_id)', value: key('agent_id') },
      { header: '客服组 (group)', value: key('group') },
    );
  else if (b.template.by === 'group')
    cols.push({ header: '客服组 (group)', value: (r, i) => (i === 'total' ? '合计' : key('group')(r)) });
  else cols.push({ header: '渠道 (channel)', value: (r, i) => (i === 'total' ? '合计' : key('channel')(r)) });

  for (const id of b.template.metrics) {
    if (hidden.has(id)) continue;
    const def = metricById(id);
    if (!def) throw new Error(`CSV: template "${b.template.name}" lists unknown metric "${id}"`);
    cols.push({ header: `${def.zh} (${id})`, value: (r) => r.metrics[id] ?? null });
  }
  for (const c of b.template.computed) {
    if (hidden.has(c.name)) continue;
    cols.push({
      header: `${c.name} (= ${c.formula})`,
      value: (_r, i) => (i === 'total' ? b.computed.total[c.name] : b.computed.rows[i]?.[c.name]) ?? null,
    });
  }
  if (b.template.score && !hidden.has('score') && 'score' in b.current.definitions)
    cols.push({ header: `绩效得分·${b.template.score.name} (score)`, value: (r) => r.metrics.score ?? null });
  return cols;
}

/** One CSV field: numbers as JavaScript prints them, empty for null, text quoted when it must be. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The whole file's text, BOM included. */
export function summaryCsv(b: ReportBundle): string {
  const cols = csvColumns(b);
  const lines = [cols.map((c) => csvField(c.header)).join(',')];
  b.current.rows.forEach((r, i) => {
    lines.push(cols.map((c) => csvField(c.value(r, i))).join(','));
  });
  lines.push(cols.map((c) => csvField(c.value(b.current.total, 'total'))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export async function writeCsv(
  b: ReportBundle,
  o: { outDir: string; baseName: string },
): Promise<ExportResult> {
  mkdirSync(o.outDir, { recursive: true });
  const file = join(o.outDir, `${o.baseName}.csv`);
  // Renamed into place: a reader never sees half a file.
  writeFileSync(`${file}.partial`, summaryCsv(b), 'utf8');
  renameSync(`${file}.partial`, file);
  return { files: [file], detailRows: 0 };
}
