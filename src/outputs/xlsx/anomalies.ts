/** 异常提醒: the bundle's anomalies as a table, the agents and metrics that need attention. */
import type { ReportBundle } from '../types.ts';
import { isHidden, metricDef } from './columns.ts';
import { type BuiltSheet, buildSheet, rowXml } from './sheet.ts';
import { S, toCellValue, unitStyle } from './styles.ts';
import { cellRef, textCell, valueCell } from './xml.ts';

export const ANOMALIES_SHEET = '异常提醒';

export function anomaliesSheet(bundle: ReportBundle, sheetIndex: number): BuiltSheet {
  const head = ['对象', '指标', '本期值', '基线', 'z 值', '原因', '背景', 'Reason', 'Context'];
  const rows: string[] = [
    rowXml(
      1,
      head.map((h, i) => textCell(h, S.header, cellRef(i, 1))),
      30,
    ),
  ];
  // An anomaly on a hidden metric would reveal it.
  const shown = bundle.anomalies.filter((a) => !isHidden(bundle.viewer, metricDef(a.metric)?.id ?? a.metric));
  shown.forEach((a, i) => {
    const r = i + 2;
    const def = metricDef(a.metric);
    const unit = def?.unit ?? 'count';
    rows.push(
      rowXml(r, [
        textCell(a.name, S.text, cellRef(0, r)),
        textCell(def?.zh ?? a.metric, S.text, cellRef(1, r)),
        valueCell(toCellValue(unit, a.value), unitStyle(unit), cellRef(2, r)),
        valueCell(toCellValue(unit, a.baseline), unitStyle(unit), cellRef(3, r)),
        valueCell(a.z ?? null, S.rating, cellRef(4, r)),
        textCell(a.reason.zh, S.wrap, cellRef(5, r)),
        textCell(a.context.zh, S.wrap, cellRef(6, r)),
        textCell(a.reason.en, S.wrap, cellRef(7, r)),
        textCell(a.context.en, S.wrap, cellRef(8, r)),
      ]),
    );
  });
  if (!shown.length)
    rows.push(rowXml(2, [textCell('本期没有异常 / No anomalies this period', S.note, 'A2')]));
  return buildSheet(
    ANOMALIES_SHEET,
    sheetIndex,
    {
      widths: [14, 16, 12, 12, 8, 30, 40, 30, 40],
      freezeRows: 1,
      autoFilter: shown.length ? `A1:I${shown.length + 1}` : undefined,
      tab: shown.length ? 'FFC00000' : undefined,
    },
    rows,
  );
}
