/**
 * 透视表: a real pivot table over the detail sheet (exceljs has none; DESIGN.md). Our own parts:
 * a cache definition over the detail range with refreshOnLoad and no records (Excel and
 * LibreOffice rebuild it from the sheet on open), the pivot table, and their relationships. The
 * table groups by the summary's dimension and counts conversations and sums the per-conversation
 * forms of summary metrics, so its totals are the summary's. Its cells are also written with the
 * values computed while the detail streamed, for readers that never refresh.
 */
import type { ReportBundle } from '../types.ts';
import { type DetailColumn, type DetailPart, detailRange, PIVOT_SUMS } from './detail-sheet.ts';
import { type BuiltSheet, buildSheet, type Part, rowXml } from './sheet.ts';
import { S } from './styles.ts';
import { cellRef, colName, esc, NS_MAIN, NS_R, numberCell, REL, textCell, XML_HEAD } from './xml.ts';

export const PIVOT_SHEET = '透视表';
const TOP = 3;

export interface PivotSpec {
  rowField: number;
  data: { name: string; field: number; subtotal: 'count' | 'sum'; key: string }[];
  labels: string[];
}

const ROW_FIELD_KEY = { agent: 'agent', group: 'group', channel: 'channel' } as const;

export function pivotSpec(bundle: ReportBundle, cols: DetailColumn[], part: DetailPart): PivotSpec | null {
  const rowField = cols.findIndex((c) => c.key === ROW_FIELD_KEY[bundle.template.by]);
  if (rowField < 0 || part.rows === 0) return null;
  const counted = cols.findIndex((c) => c.key === 'conversation');
  const data: PivotSpec['data'] = [
    {
      name: `计数项:${cols[counted >= 0 ? counted : rowField]!.header}`,
      field: counted >= 0 ? counted : rowField,
      subtotal: 'count',
      key: 'count',
    },
  ];
  for (const key of PIVOT_SUMS) {
    const i = cols.findIndex((c) => c.key === key);
    if (i >= 0) data.push({ name: `求和项:${cols[i]!.header}`, field: i, subtotal: 'sum', key });
  }
  const labels = [...part.totals.labels.keys()].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  return { rowField, data, labels };
}

/** The pivot sheet, its table and cache parts; `n` numbers the parts (one pivot per workbook). */
export function pivotParts(
  bundle: ReportBundle,
  sheetIndex: number,
  cols: DetailColumn[],
  part: DetailPart,
  detailSheetName: string,
): { sheet: BuiltSheet; workbookRel?: { id: string; target: string; type: string } } {
  const spec = pivotSpec(bundle, cols, part);
  const title = textCell(
    spec
      ? `按${cols[spec.rowField]!.header}汇总明细(打开时自动刷新)/ Detail by ${bundle.template.by}, refreshed on open`
      : '本期没有会话,无透视表 / No conversations in this period: no pivot table',
    S.title,
    'A1',
  );
  if (!spec) {
    return { sheet: buildSheet(PIVOT_SHEET, sheetIndex, { widths: [20] }, [rowXml(1, [title])]) };
  }
  const { rowField, data, labels } = spec;
  const m = data.length;
  const lastRow = TOP + labels.length + 1;
  const lastCol = colName(m);

  // Cells as a refresh lays them out (compact form, values across): header, one row per label, 总计.
  const rows: string[] = [rowXml(1, [title])];
  rows.push(
    rowXml(TOP, [
      textCell(cols[rowField]!.header, S.header, cellRef(0, TOP)),
      ...data.map((d, j) => textCell(d.name, S.header, cellRef(j + 1, TOP))),
    ]),
  );
  const value = (label: string | null, d: PivotSpec['data'][number]): number => {
    const list = label === null ? [...part.totals.labels.values()] : [part.totals.labels.get(label)!];
    return list.reduce((s, t) => s + (d.key === 'count' ? t.count : (t.sums.get(d.key) ?? 0)), 0);
  };
  labels.forEach((label, i) => {
    const r = TOP + 1 + i;
    rows.push(
      rowXml(r, [
        textCell(label, S.text, cellRef(0, r)),
        ...data.map((d, j) => numberCell(value(label, d), S.number, cellRef(j + 1, r))),
      ]),
    );
  });
  rows.push(
    rowXml(lastRow, [
      textCell('总计', S.bold, cellRef(0, lastRow)),
      ...data.map((d, j) => numberCell(value(null, d), S.boldNumber, cellRef(j + 1, lastRow))),
    ]),
  );

  const n = sheetIndex;
  const cacheFields = cols
    .map((c, i) => {
      if (i === rowField)
        return `<cacheField name="${esc(c.header)}" numFmtId="0"><sharedItems count="${labels.length}">${labels.map((l) => `<s v="${esc(l)}"/>`).join('')}</sharedItems></cacheField>`;
      return c.kind === 'number'
        ? `<cacheField name="${esc(c.header)}" numFmtId="0"><sharedItems containsString="0" containsBlank="1" containsNumber="1"/></cacheField>`
        : `<cacheField name="${esc(c.header)}" numFmtId="0"><sharedItems containsBlank="1"/></cacheField>`;
    })
    .join('');
  const cacheDefinition =
    `${XML_HEAD}<pivotCacheDefinition xmlns="${NS_MAIN}" xmlns:r="${NS_R}" r:id="rId1" refreshOnLoad="1" refreshedBy="CS Pulse" ` +
    `refreshedDate="${(bundle.generatedAt / 86_400_000 + 25_569).toFixed(6)}" createdVersion="6" refreshedVersion="6" minRefreshableVersion="3" recordCount="0">` +
    `<cacheSource type="worksheet"><worksheetSource ref="${detailRange(cols.length, part.rows)}" sheet="${esc(detailSheetName)}"/></cacheSource>` +
    `<cacheFields count="${cols.length}">${cacheFields}</cacheFields></pivotCacheDefinition>`;
  const records = `${XML_HEAD}<pivotCacheRecords xmlns="${NS_MAIN}" xmlns:r="${NS_R}" count="0"/>`;

  const dataFields = new Set(data.map((d) => d.field));
  const pivotFields = cols
    .map((_, i) => {
      if (i === rowField) {
        const items = labels.map((_, x) => `<item x="${x}"/>`).join('');
        return `<pivotField axis="axisRow"${dataFields.has(i) ? ' dataField="1"' : ''} showAll="0"><items count="${labels.length + 1}">${items}<item t="default"/></items></pivotField>`;
      }
      return `<pivotField${dataFields.has(i) ? ' dataField="1"' : ''} showAll="0"/>`;
    })
    .join('');
  const rowItems =
    labels.map((_, x) => (x === 0 ? '<i><x/></i>' : `<i><x v="${x}"/></i>`)).join('') +
    '<i t="grand"><x/></i>';
  const colItems = data.map((_, j) => (j === 0 ? '<i><x/></i>' : `<i i="${j}"><x v="${j}"/></i>`)).join('');
  const table =
    `${XML_HEAD}<pivotTableDefinition xmlns="${NS_MAIN}" name="透视表1" cacheId="${n}" applyNumberFormats="0" applyBorderFormats="0" ` +
    'applyFontFormats="0" applyPatternFormats="0" applyAlignmentFormats="0" applyWidthHeightFormats="1" dataCaption="值" ' +
    'updatedVersion="6" minRefreshableVersion="3" useAutoFormatting="1" itemPrintTitles="1" createdVersion="6" indent="0" ' +
    `outline="1" outlineData="1" multipleFieldFilters="0" rowHeaderCaption="${esc(cols[rowField]!.header)}" grandTotalCaption="总计">` +
    `<location ref="A${TOP}:${lastCol}${lastRow}" firstHeaderRow="${m > 1 ? 0 : 1}" firstDataRow="1" firstDataCol="1"/>` +
    `<pivotFields count="${cols.length}">${pivotFields}</pivotFields>` +
    `<rowFields count="1"><field x="${rowField}"/></rowFields><rowItems count="${labels.length + 1}">${rowItems}</rowItems>` +
    (m > 1
      ? `<colFields count="1"><field x="-2"/></colFields><colItems count="${m}">${colItems}</colItems>`
      : '<colItems count="1"><i/></colItems>') +
    `<dataFields count="${m}">${data.map((d) => `<dataField name="${esc(d.name)}" fld="${d.field}" subtotal="${d.subtotal}" baseField="0" baseItem="0"/>`).join('')}</dataFields>` +
    '<pivotTableStyleInfo name="PivotStyleLight16" showRowHeaders="1" showColHeaders="1" showRowStripes="0" showColStripes="0" showLastColumn="1"/>' +
    '</pivotTableDefinition>';

  const parts: Part[] = [
    {
      path: `xl/pivotTables/pivotTable${n}.xml`,
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml',
      content: table,
    },
    {
      path: `xl/pivotTables/_rels/pivotTable${n}.xml.rels`,
      contentType: '',
      content: rels([
        {
          id: 'rId1',
          type: `${REL}/pivotCacheDefinition`,
          target: `../pivotCache/pivotCacheDefinition${n}.xml`,
        },
      ]),
    },
    {
      path: `xl/pivotCache/pivotCacheDefinition${n}.xml`,
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml',
      content: cacheDefinition,
    },
    {
      path: `xl/pivotCache/_rels/pivotCacheDefinition${n}.xml.rels`,
      contentType: '',
      content: rels([{ id: 'rId1', type: `${REL}/pivotCacheRecords`, target: `pivotCacheRecords${n}.xml` }]),
    },
    {
      path: `xl/pivotCache/pivotCacheRecords${n}.xml`,
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheRecords+xml',
      content: records,
    },
  ];
  return {
    sheet: {
      ...buildSheet(PIVOT_SHEET, sheetIndex, { widths: [16, ...data.map(() => 18)] }, rows),
      rels: [{ id: 'rIdPivot', type: `${REL}/pivotTable`, target: `../pivotTables/pivotTable${n}.xml` }],
      parts,
    },
    workbookRel: {
      id: `rIdPc${n}`,
      target: `pivotCache/pivotCacheDefinition${n}.xml`,
      type: `${REL}/pivotCacheDefinition`,
    },
  };
}

export function rels(list: { id: string; type: string; target: string }[]): string {
  return (
    `${XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    list.map((r) => `<Relationship Id="${r.id}" Type="${r.type}" Target="${esc(r.target)}"/>`).join('') +
    '</Relationships>'
  );
}
