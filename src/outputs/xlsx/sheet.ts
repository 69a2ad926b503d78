/**
 * One worksheet as the package sees it: its XML (held, or streamed for the detail), the parts it
 * owns (cell notes and their VML shapes, a pivot table) and the relationships to them.
 */
import { colName, esc, NS_MAIN, NS_R, REL, XML_HEAD } from './xml.ts';

export interface Note {
  /** A1 reference of the cell. */
  ref: string;
  text: string;
}

export interface SheetLayout {
  /** Column widths in characters. */
  widths: number[];
  /** Rows frozen at the top (the header). */
  freezeRows?: number;
  /** Columns frozen at the left. */
  freezeCols?: number;
  autoFilter?: string;
  /** <conditionalFormatting> elements. */
  conditional?: string[];
  notes?: Note[];
  tab?: string;
}

export interface Part {
  path: string;
  contentType: string;
  content: string;
}

export interface Relationship {
  id: string;
  type: string;
  target: string;
}

/** A sheet whose XML is complete; `streamed` sheets write their rows elsewhere and only use head/tail. */
export interface BuiltSheet {
  name: string;
  /** Full XML, or undefined when the sheet is streamed into the zip (the detail). */
  xml?: string;
  rels: Relationship[];
  parts: Part[];
  /** Cell range of a sheet-level autofilter, for the workbook's _FilterDatabase name. */
  autoFilter?: string;
}

export function sheetHead(layout: SheetLayout): string {
  const fr = layout.freezeRows ?? 0;
  const fc = layout.freezeCols ?? 0;
  let view = '<sheetView workbookViewId="0"';
  if (fr || fc) {
    const top = `${colName(fc)}${fr + 1}`;
    const pane = fr && fc ? 'bottomRight' : fr ? 'bottomLeft' : 'topRight';
    view +=
      `><pane${fc ? ` xSplit="${fc}"` : ''}${fr ? ` ySplit="${fr}"` : ''} topLeftCell="${top}" activePane="${pane}" state="frozen"/>` +
      `<selection pane="${pane}" activeCell="${top}" sqref="${top}"/></sheetView>`;
  } else view += '/>';
  const cols = layout.widths
    .map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`)
    .join('');
  return (
    `${XML_HEAD}<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_R}">` +
    (layout.tab ? `<sheetPr><tabColor rgb="${layout.tab}"/></sheetPr>` : '') +
    `<sheetViews>${view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>` +
    (cols ? `<cols>${cols}</cols>` : '') +
    '<sheetData>'
  );
}

export function sheetTail(layout: SheetLayout, legacyDrawingId?: string): string {
  return (
    '</sheetData>' +
    (layout.autoFilter ? `<autoFilter ref="${layout.autoFilter}"/>` : '') +
    (layout.conditional ?? []).join('') +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' +
    (legacyDrawingId ? `<legacyDrawing r:id="${legacyDrawingId}"/>` : '') +
    '</worksheet>'
  );
}

/** A row of ready cells. */
export const rowXml = (r: number, cells: string[], height?: number): string =>
  `<row r="${r}"${height ? ` ht="${height}" customHeight="1"` : ''}>${cells.join('')}</row>`;

/**
 * Notes (comments) of a sheet: the comments part that openpyxl and LibreOffice read, and the VML
 * shapes Excel needs to show them.
 */
export function noteParts(
  sheetIndex: number,
  notes: Note[],
): { parts: Part[]; rels: Relationship[]; legacyDrawingId: string } {
  const list = notes
    .map(
      (n) =>
        `<comment ref="${n.ref}" authorId="0"><text><r><rPr><sz val="9"/><rFont val="等线"/></rPr><t xml:space="preserve">${esc(n.text)}</t></r></text></comment>`,
    )
    .join('');
  const comments = `${XML_HEAD}<comments xmlns="${NS_MAIN}"><authors><author>CS Pulse</author></authors><commentList>${list}</commentList></comments>`;
  const shapes = notes
    .map((n, i) => {
      const m = /^([A-Z]+)(\d+)$/.exec(n.ref)!;
      let col = 0;
      for (const ch of m[1]) col = col * 26 + ch.charCodeAt(0) - 64;
      const row = Number(m[2]) - 1;
      return (
        `<v:shape id="_x0000_s${1025 + i}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;margin-top:2pt;width:220pt;height:90pt;z-index:${i + 1};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">` +
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>' +
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>' +
        `<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>${col}, 15, ${row}, 2, ${col + 3}, 15, ${row + 5}, 16</x:Anchor>` +
        `<x:AutoFill>False</x:AutoFill><x:Row>${row}</x:Row><x:Column>${col - 1}</x:Column></x:ClientData></v:shape>`
      );
    })
    .join('');
  const vml =
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">' +
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>' +
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' +
    `${shapes}</xml>`;
  return {
    parts: [
      {
        path: `xl/comments${sheetIndex}.xml`,
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml',
        content: comments,
      },
      {
        path: `xl/drawings/vmlDrawing${sheetIndex}.vml`,
        contentType: 'application/vnd.openxmlformats-officedocument.vmlDrawing',
        content: vml,
      },
    ],
    rels: [
      { id: 'rIdNotes', type: `${REL}/comments`, target: `../comments${sheetIndex}.xml` },
      { id: 'rIdVml', type: `${REL}/vmlDrawing`, target: `../drawings/vmlDrawing${sheetIndex}.vml` },
    ],
    legacyDrawingId: 'rIdVml',
  };
}

/** A whole in-memory sheet: head, rows, tail, and its notes' parts. */
export function buildSheet(
  name: string,
  sheetIndex: number,
  layout: SheetLayout,
  rows: string[],
): BuiltSheet {
  const notes = layout.notes ?? [];
  const n = notes.length ? noteParts(sheetIndex, notes) : undefined;
  return {
    name,
    xml: sheetHead(layout) + rows.join('') + sheetTail(layout, n?.legacyDrawingId),
    rels: n?.rels ?? [],
    parts: n?.parts ?? [],
    autoFilter: layout.autoFilter,
  };
}
