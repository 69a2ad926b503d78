/** Printing a report: an aligned table for people, JSON and CSV for machines and spreadsheets. */
import { metricById } from '../metrics/catalog.ts';
import { formatValue } from '../metrics/format.ts';
import type { Report, ReportRow } from '../metrics/report.ts';

export type ReportFormat = 'table' | 'json' | 'csv';

const KEY_NAMES: Record<string, { zh: string; en: string }> = {
  agent: { zh: '客服', en: 'Agent' },
  agent_id: { zh: '客服ID', en: 'Agent id' },
  group: { zh: '客服组', en: 'Group' },
  channel: { zh: '渠道', en: 'Channel' },
  region: { zh: '地区', en: 'Region' },
  day: { zh: '日期', en: 'Day' },
  week: { zh: '周', en: 'Week' },
  month: { zh: '月', en: 'Month' },
  hour: { zh: '小时', en: 'Hour' },
  weekday: { zh: '星期', en: 'Weekday' },
};

export function printReport(report: Report, format: ReportFormat, lang: 'zh' | 'en'): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const keyCols = report.rows[0] ? Object.keys(report.rows[0].key) : report.by;
  const metricIds = Object.keys(report.definitions);
  const header = [
    ...keyCols.map((k) => KEY_NAMES[k]?.[lang] ?? k),
    ...metricIds.map((id) => report.definitions[id]![lang]),
  ];
  const cell = (row: ReportRow, id: string, raw: boolean) => {
    const v = row.metrics[id];
    if (raw) return v === null || v === undefined ? '' : String(v);
    return formatValue(metricById(id) ?? { unit: report.definitions[id]!.unit as 'score' }, v);
  };
  const total: ReportRow = {
    key: Object.fromEntries(keyCols.map((k, i) => [k, i === 0 ? (lang === 'zh' ? '合计' : 'Total') : ''])),
    metrics: report.total.metrics,
  };
  const rows = [...report.rows, total];
  if (format === 'csv') {
    const lines = [
      header,
      ...rows.map((r) => [
        ...keyCols.map((k) => String(r.key[k] ?? '')),
        ...metricIds.map((id) => cell(r, id, true)),
      ]),
    ];
    process.stdout.write(`\uFEFF${lines.map((l) => l.map(csvField).join(',')).join('\r\n')}\r\n`);
    return;
  }
  const body = rows.map((r) => [
    ...keyCols.map((k) => String(r.key[k] ?? '')),
    ...metricIds.map((id) => cell(r, id, false)),
  ]);
  const widths = header.map((h, i) => Math.max(width(h), ...body.map((b) => width(b[i]!))));
  const line = (cols: string[]) =>
    cols.map((c, i) => (i < keyCols.length ? padEnd(c, widths[i]!) : padStart(c, widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  body.forEach((b, i) => {
    if (i === body.length - 1) console.log(widths.map((w) => '─'.repeat(w)).join('  '));
    console.log(line(b));
  });
  console.log(
    `\n${lang === 'zh' ? '时区' : 'Timezone'}: ${report.timezone}; ${report.businessHours ? (lang === 'zh' ? '按工作时间计' : 'business hours') : lang === 'zh' ? '按自然时间计' : 'calendar time'}`,
  );
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Display width: CJK characters take two columns in a terminal. */
function width(s: string): number {
  let w = 0;
  for (const ch of s)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(
      ch,
    )
      ? 2
      : 1;
  return w;
}
const padEnd = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - width(s)));
const padStart = (s: string, w: number) => ' '.repeat(Math.max(0, w - width(s))) + s;
