/**
 * A table on PDF pages: the header repeated on every page it continues to, and columns that do not fit
 * the page width split into column groups, each repeating the row-name columns — a report with 15
 * metrics stays readable in A4 portrait instead of shrinking to unreadable type.
 */
import type PDFDocument from 'pdfkit';

type Doc = InstanceType<typeof PDFDocument>;

export interface TableColumn {
  header: string;
  align: 'left' | 'right';
  /** Row-name columns (客服, 客服组): fixed width, repeated at the left of every column group. */
  key?: boolean;
  width?: number;
}

export interface TableCell {
  text: string;
  /** Background, e.g. a conditional format's red fill. */
  fill?: string;
}

export interface TableSpec {
  columns: TableColumn[];
  rows: TableCell[][];
  /** The 合计 row, drawn after the rows in bold on a grey band. */
  total?: TableCell[];
}

export interface TableStyle {
  x: number;
  width: number;
  font: string;
  fontSize: number;
  headerFontSize: number;
  rowHeight: number;
  /** Smallest width of a value column before the columns are split into groups. */
  minColumnWidth: number;
  /** Called before a group after the first, so the caller can print a caption. */
  groupCaption?: (group: number, groups: number) => string;
}

/** Value-column indices per group, so that each group fits the width beside the key columns. */
export function columnGroups(columns: TableColumn[], width: number, minColumnWidth: number): number[][] {
  const keyWidth = columns.filter((c) => c.key).reduce((s, c) => s + (c.width ?? 60), 0);
  const fit = Math.max(1, Math.floor((width - keyWidth) / minColumnWidth));
  const values = columns.flatMap((c, i) => (c.key ? [] : [i]));
  // Balanced: 12 columns that fit 8 to a page become 6 + 6, not 8 + 4.
  const perGroup = Math.ceil(values.length / Math.max(1, Math.ceil(values.length / fit)));
  const groups: number[][] = [];
  for (let i = 0; i < values.length; i += perGroup) groups.push(values.slice(i, i + perGroup));
  return groups.length ? groups : [[]];
}

/** Draws the table from doc.y on; adds pages as needed. Returns the number of column groups. */
export function drawTable(doc: Doc, spec: TableSpec, s: TableStyle): number {
  const keys = spec.columns.flatMap((c, i) => (c.key ? [i] : []));
  const groups = columnGroups(spec.columns, s.width, s.minColumnWidth);
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const pad = 2.5;
  groups.forEach((group, g) => {
    const cols = [...keys, ...group];
    const keyWidth = keys.reduce((sum, i) => sum + (spec.columns[i]!.width ?? 60), 0);
    const valueWidth = group.length ? (s.width - keyWidth) / group.length : 0;
    const widths = cols.map((i) => (spec.columns[i]!.key ? (spec.columns[i]!.width ?? 60) : valueWidth));
    doc.font(s.font).fontSize(s.headerFontSize);
    const headerHeight =
      Math.max(
        ...cols.map((i, k) => doc.heightOfString(spec.columns[i]!.header, { width: widths[k]! - 2 * pad })),
      ) +
      2 * pad;
    if (groups.length > 1 && s.groupCaption) {
      if (doc.y + 14 + headerHeight + s.rowHeight > bottom()) doc.addPage();
      doc
        .font(s.font)
        .fontSize(s.fontSize + 1)
        .fillColor('#555')
        .text(s.groupCaption(g + 1, groups.length), s.x, doc.y, { width: s.width });
      doc.y += 2;
    }
    const header = () => {
      const y = doc.y;
      doc.rect(s.x, y, s.width, headerHeight).fill('#2f4b7c');
      // Emphasis as a hairline outline of the glyphs: the table needs no second (bold) CJK font.
      doc.font(s.font).fontSize(s.headerFontSize).fillColor('#ffffff').strokeColor('#ffffff').lineWidth(0.25);
      let x = s.x;
      cols.forEach((i, k) => {
        const c = spec.columns[i]!;
        doc.text(c.header, x + pad, y + pad, {
          width: widths[k]! - 2 * pad,
          align: c.align,
          fill: true,
          stroke: true,
        });
        x += widths[k]!;
      });
      doc.y = y + headerHeight;
    };
    const row = (cells: TableCell[], n: number, total: boolean) => {
      if (doc.y + s.rowHeight > bottom()) {
        doc.addPage();
        header();
      }
      const y = doc.y;
      if (total) doc.rect(s.x, y, s.width, s.rowHeight).fill('#e4e7ee');
      else if (n % 2 === 1) doc.rect(s.x, y, s.width, s.rowHeight).fill('#f5f6f9');
      let x = s.x;
      cols.forEach((i, k) => {
        const cell = cells[i];
        if (cell?.fill) doc.rect(x, y, widths[k]!, s.rowHeight).fill(cell.fill);
        x += widths[k]!;
      });
      doc.font(s.font).fontSize(s.fontSize).fillColor('#222').strokeColor('#222').lineWidth(0.25);
      x = s.x;
      const textY = y + (s.rowHeight - s.fontSize) / 2 - 1;
      cols.forEach((i, k) => {
        const text = cells[i]?.text ?? '';
        if (text)
          doc.text(text, x + pad, textY, {
            width: widths[k]! - 2 * pad,
            // One line: a long name ends in … instead of spilling into the next row.
            height: s.fontSize * 1.2,
            align: spec.columns[i]!.align,
            ellipsis: true,
            fill: true,
            stroke: total,
          });
        x += widths[k]!;
      });
      doc.y = y + s.rowHeight;
    };
    if (doc.y + headerHeight + s.rowHeight > bottom()) doc.addPage();
    header();
    spec.rows.forEach((cells, n) => {
      row(cells, n, false);
    });
    if (spec.total) row(spec.total, 0, true);
    doc
      .moveTo(s.x, doc.y)
      .lineTo(s.x + s.width, doc.y)
      .lineWidth(0.5)
      .strokeColor('#2f4b7c')
      .stroke();
    doc.y += 10;
  });
  return groups.length;
}
