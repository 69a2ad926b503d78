/**
 * 汇总: one row per summary row of the bundle and a 合计 row; frozen header, autofilter, number
 * formats by unit, the score and computed fields as live formulas over the metric cells (cached
 * values are the bundle's), the template's conditional formats, and a note on each anomalous cell.
 */
import { formatValue } from '../../metrics/format.ts';
import { compileFormula, type Formula } from '../../metrics/formula.ts';
import { scoreToFormula } from '../../metrics/scores.ts';
import type { ReportBundle } from '../types.ts';
import { columnValue, keyColumns, metricDef, rowKey, type ValueColumn, valueColumns } from './columns.ts';
import { type BuiltSheet, buildSheet, type Note, rowXml } from './sheet.ts';
import { type Dxfs, S, toCellValue, unitStyle } from './styles.ts';
import { cellRef, colName, formulaCell, textCell, valueCell } from './xml.ts';

export const SUMMARY_SHEET = '汇总';

/** A formula column's formula over the cells of one row, or null when it needs a column the sheet lacks. */
function formulaFor(col: ValueColumn, bundle: ReportBundle, available: ReadonlySet<string>): Formula | null {
  let f: Formula;
  if (col.kind === 'score') f = compileFormula(scoreToFormula(bundle.template.score!));
  else if (col.kind === 'computed') {
    const others = bundle.template.computed.map((c) => c.name).filter((n) => n !== col.id);
    f = compileFormula(col.formula, { names: others });
  } else return null;
  return f.references.every((r) => available.has(r)) ? f : null;
}

export function summarySheet(bundle: ReportBundle, sheetIndex: number, dxfs: Dxfs): BuiltSheet {
  const keys = keyColumns(bundle);
  const values = valueColumns(bundle);
  const firstValue = keys.length;
  const colOf = new Map(values.map((c, i) => [c.id, firstValue + i]));
  const formulas = new Map(values.map((c) => [c.id, formulaFor(c, bundle, new Set(colOf.keys()))]));
  const rows = bundle.current.rows;
  const lastData = rows.length + 1;
  const totalRow = lastData + 1;
  const out: string[] = [];
  const notes: Note[] = [];

  out.push(
    rowXml(
      1,
      [
        ...keys.map((k, i) => textCell(k.header, S.header, cellRef(i, 1))),
        ...values.map((c, i) => textCell(c.header, S.header, cellRef(firstValue + i, 1))),
      ],
      32,
    ),
  );

  // Duration cells hold days (for [mm]:ss); formulas are written over seconds, as the catalog's values are.
  const operand = (name: string, r: number): string => {
    const ref = cellRef(colOf.get(name)!, r);
    return values[colOf.get(name)! - firstValue]!.unit === 'seconds' ? `IF(${ref}="","",${ref}*86400)` : ref;
  };
  const line = (r: number, row: (typeof rows)[number], i: number, bold: boolean): string => {
    const cells = keys.map((k, c) =>
      i < 0
        ? textCell(c === 0 ? '合计' : '', S.bold, cellRef(c, r))
        : textCell(k.value(row), S.text, cellRef(c, r)),
    );
    values.forEach((col, j) => {
      const ref = cellRef(firstValue + j, r);
      const v = columnValue(bundle, col, row, i);
      const style = unitStyle(col.unit, bold);
      const f = formulas.get(col.id);
      if (f) {
        const text = f.toExcel((name) => operand(name, r));
        cells.push(formulaCell(text, v, style, ref));
      } else cells.push(valueCell(toCellValue(col.unit, v), style, ref));
    });
    return rowXml(r, cells);
  };
  rows.forEach((row, i) => {
    out.push(line(i + 2, row, i, false));
  });
  out.push(line(totalRow, bundle.current.total, -1, true));

  // Formula columns that cannot be live (an input column is hidden or absent) say why.
  for (const col of values) {
    if ((col.kind === 'score' || col.kind === 'computed') && !formulas.get(col.id)) {
      notes.push({
        ref: cellRef(colOf.get(col.id)!, 1),
        text: '此列为数值而非公式:公式用到的指标不在本表中。\nValues, not formulas: an input metric is not a column of this sheet.',
      });
    }
  }

  const byKey = new Map(rows.map((r, i) => [rowKey(bundle, r), i]));
  const noteAt = new Map<string, string[]>();
  for (const a of bundle.anomalies) {
    const i = byKey.get(a.key);
    if (i === undefined) continue;
    const col = colOf.get(metricDef(a.metric)?.id ?? a.metric);
    // A hidden metric's anomaly would reveal it: left out.
    if (col === undefined) continue;
    const def = metricDef(a.metric);
    const fmt = (v: number | null) => (def ? formatValue(def, v) : String(v ?? ''));
    const text =
      `【异常】${a.reason.zh}\n${a.context.zh}\n本期 ${fmt(a.value)},基线 ${fmt(a.baseline)}` +
      (a.z === undefined ? '' : `,z = ${a.z.toFixed(1)}`) +
      `\n${a.reason.en}. ${a.context.en}`;
    const ref = cellRef(col, i + 2);
    noteAt.set(ref, [...(noteAt.get(ref) ?? []), text]);
  }
  for (const [ref, texts] of noteAt) notes.push({ ref, text: texts.join('\n\n') });

  const conditional: string[] = [];
  let priority = 1;
  for (const cf of bundle.template.conditionalFormats) {
    const def = metricDef(cf.metric);
    const col = colOf.get(def?.id ?? cf.metric);
    if (col === undefined || rows.length === 0) continue;
    const range = `${colName(col)}2:${colName(col)}${lastData}`;
    const top = cellRef(col, 2);
    if (cf.kind === 'threshold') {
      let dxf: number;
      try {
        dxf = dxfs.fill(cf.fill);
      } catch (e) {
        throw new Error(`模板 “${bundle.template.name}” 的条件格式(${cf.metric}):${(e as Error).message}`);
      }
      const unit = values[col - firstValue]!.unit;
      const v = toCellValue(unit, cf.value);
      conditional.push(
        `<conditionalFormatting sqref="${range}"><cfRule type="expression" dxfId="${dxf}" priority="${priority++}">` +
          `<formula>AND(${top}&lt;&gt;"",${top}${cf.op.replace('<', '&lt;').replace('>', '&gt;')}${v})</formula></cfRule></conditionalFormatting>`,
      );
    } else {
      const lowerBetter = def?.direction === 'lower';
      const [worst, best] = lowerBetter ? ['FF63BE7B', 'FFF8696B'] : ['FFF8696B', 'FF63BE7B'];
      conditional.push(
        `<conditionalFormatting sqref="${range}"><cfRule type="colorScale" priority="${priority++}"><colorScale>` +
          '<cfvo type="min"/><cfvo type="percentile" val="50"/><cfvo type="max"/>' +
          `<color rgb="${worst}"/><color rgb="FFFFEB84"/><color rgb="${best}"/></colorScale></cfRule></conditionalFormatting>`,
      );
    }
  }

  const lastCol = colName(firstValue + values.length - 1);
  return buildSheet(
    SUMMARY_SHEET,
    sheetIndex,
    {
      widths: [
        ...keys.map((k) => k.width),
        ...values.map((c) => Math.max(10, Math.min(24, c.header.length * 2 + 2))),
      ],
      freezeRows: 1,
      freezeCols: keys.length,
      autoFilter: `A1:${lastCol}${lastData}`,
      conditional,
      notes,
    },
    out,
  );
}
