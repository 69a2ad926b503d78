/**
 * 环比: this period against the previous one, per summary row and column (metrics, computed
 * fields, the score): both values, the change (a live formula), and ↑/↓ coloured green when the
 * move is good and red when bad, by the metric's direction in the catalog (the score: higher is
 * better; a computed field has no direction, so its arrow is not judged).
 */
import type { ReportRow } from '../../metrics/report.ts';
import type { ComputedValues, ReportBundle } from '../types.ts';
import { keyColumns, rowKey, type ValueColumn, valueColumns } from './columns.ts';
import { type BuiltSheet, buildSheet, rowXml } from './sheet.ts';
import { S, toCellValue, unitStyle } from './styles.ts';
import { cellRef, emptyCell, formulaCell, textCell, valueCell } from './xml.ts';

export const COMPARISON_SHEET = '环比';

export function comparisonSheet(bundle: ReportBundle, sheetIndex: number): BuiltSheet {
  const keys = keyColumns(bundle);
  const cols = valueColumns(bundle);
  /** A row with its computed fields, from the current or the previous period. */
  type Side = { row: ReportRow; computed: Record<string, number | null> | undefined };
  const side = (row: ReportRow, values: ComputedValues, i: number): Side => ({
    row,
    computed: i < 0 ? values.total : values.rows[i],
  });
  const prev = new Map(
    bundle.previous.rows.map((r, i) => [rowKey(bundle, r), side(r, bundle.computed.previous, i)]),
  );
  const seen = new Set<string>();
  const pairs: [Side | undefined, Side | undefined, string][] = [];
  for (const [i, r] of bundle.current.rows.entries()) {
    const k = rowKey(bundle, r);
    seen.add(k);
    pairs.push([side(r, bundle.computed, i), prev.get(k), k]);
  }
  for (const [k, p] of prev) if (!seen.has(k)) pairs.push([undefined, p, k]);
  pairs.push([
    side(bundle.current.total, bundle.computed, -1),
    side(bundle.previous.total, bundle.computed.previous, -1),
    '\u0000total',
  ]);
  const value = (s: Side | undefined, col: ValueColumn): number | null =>
    !s ? null : col.kind === 'computed' ? (s.computed?.[col.id] ?? null) : (s.row.metrics[col.id] ?? null);

  const k = keys.length;
  const head = [...keys.map((c) => c.header), '指标', '本期', '上期', '变化', '趋势'];
  const rows: string[] = [
    rowXml(
      1,
      head.map((h, i) => textCell(h, S.header, cellRef(i, 1))),
      30,
    ),
  ];
  let r = 1;
  for (const [cur, before, key] of pairs) {
    const total = key === '\u0000total';
    const label = (cur ?? before)!.row;
    for (const col of cols) {
      r++;
      const a = value(cur, col);
      const b = value(before, col);
      const style = unitStyle(col.unit, total);
      const cells = keys.map((kc, i) =>
        textCell(total ? (i === 0 ? '合计' : '') : kc.value(label), total ? S.bold : S.text, cellRef(i, r)),
      );
      cells.push(textCell(col.header, total ? S.bold : S.text, cellRef(k, r)));
      cells.push(valueCell(toCellValue(col.unit, a), style, cellRef(k + 1, r)));
      cells.push(valueCell(toCellValue(col.unit, b), style, cellRef(k + 2, r)));
      const [ca, cb] = [cellRef(k + 1, r), cellRef(k + 2, r)];
      const change = a === null || b === null ? null : toCellValue(col.unit, a - b);
      cells.push(
        formulaCell(
          `IF(OR(${ca}="",${cb}=""),"",${ca}-${cb})`,
          change === null ? null : round(change),
          col.unit === 'seconds' ? S.duration : col.unit === 'rate' ? S.percent : S.change,
          cellRef(k + 3, r),
        ),
      );
      const dir = col.kind === 'score' ? 'higher' : col.kind === 'computed' ? 'neutral' : col.def.direction;
      let arrow = '';
      let arrowStyle: number = S.flat;
      if (a !== null && b !== null && a !== b) {
        arrow = a > b ? '↑' : '↓';
        if (dir !== 'neutral') arrowStyle = a > b === (dir === 'higher') ? S.up : S.down;
      } else if (a !== null && b !== null) arrow = '→';
      cells.push(
        arrow ? textCell(arrow, arrowStyle, cellRef(k + 4, r)) : emptyCell(arrowStyle, cellRef(k + 4, r)),
      );
      rows.push(rowXml(r, cells));
    }
  }
  return buildSheet(
    COMPARISON_SHEET,
    sheetIndex,
    {
      widths: [...keys.map((c) => c.width), 16, 12, 12, 12, 8],
      freezeRows: 1,
      autoFilter: `A1:${cellRef(k + 4, r)}`,
    },
    rows,
  );
}

/** The cached value of a difference as a spreadsheet computes it, without float noise in the last digits. */
function round(v: number): number {
  return Number(v.toPrecision(15));
}
