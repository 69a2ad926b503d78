/**
 * The report workbook (issue 4): sheets by template.sheets, named in Chinese, written as our own
 * SpreadsheetML into a zip stream. The detail is streamed from the facts page by page and split
 * into parts above template.rowLimit rows (<base>_part1.xlsx …), each part complete with its own
 * summary; one file without a suffix when it fits.
 *
 * Why not exceljs: its streaming writer took 18.9 s for 300k rows with number formats and has no
 * pivot tables (DESIGN.md); writing the XML ourselves is the bulk-sheet fast path the budget needs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import type { Store } from '../../store/db.ts';
import { detailPages } from '../detail.ts';
import type { ExportResult, ReportBundle, SheetId } from '../types.ts';
import { anomaliesSheet } from './anomalies.ts';
import { comparisonSheet } from './comparison.ts';
import { definitionsSheet, type PartInfo } from './definitions.ts';
import {
  DETAIL_SHEET,
  type DetailColumn,
  type DetailPart,
  DetailSheetWriter,
  detailColumns,
} from './detail-sheet.ts';
import { pivotParts, rels } from './pivot.ts';
import type { BuiltSheet, Part } from './sheet.ts';
import { argb, Dxfs, stylesXml } from './styles.ts';
import { summarySheet } from './summary.ts';
import { colName, esc, NS_MAIN, NS_R, quoteSheet, REL, XML_HEAD } from './xml.ts';
import { FAST_LEVEL, ZipWriter } from './zip.ts';

const SHEET_IDS: readonly SheetId[] = [
  'summary',
  'pivot',
  'detail',
  'definitions',
  'comparison',
  'anomalies',
];

export interface WorkbookOptions {
  outDir: string;
  baseName: string;
  /** Detail rows per page read from the facts (default 1,000). */
  pageSize?: number;
}

/** The sheets to write, in the template's order; a pivot needs the detail it reads. */
export function sheetsOf(bundle: ReportBundle): SheetId[] {
  const t = bundle.template;
  const out: SheetId[] = [];
  for (const s of t.sheets) {
    if (!SHEET_IDS.includes(s))
      throw new Error(
        `模板 “${t.name}” 的工作表 “${s}” 无法识别,应为 ${SHEET_IDS.join('、')} / template "${t.name}": unknown sheet "${s}"`,
      );
    if (!out.includes(s)) out.push(s);
  }
  if (!out.length)
    throw new Error(`模板 “${t.name}” 没有选择任何工作表 / template "${t.name}" selects no sheet`);
  if (out.includes('pivot') && !out.includes('detail')) out.splice(out.indexOf('pivot') + 1, 0, 'detail');
  return out;
}

interface OpenPart {
  index: number;
  tmp: string;
  file: ReturnType<typeof createWriteStream>;
  zip: ZipWriter;
  writer?: DetailSheetWriter;
  firstRow: number;
}

export async function writeWorkbook(
  store: Store,
  bundle: ReportBundle,
  o: WorkbookOptions,
): Promise<ExportResult> {
  const sheets = sheetsOf(bundle);
  const rowLimit = bundle.template.rowLimit;
  if (!Number.isInteger(rowLimit) || rowLimit < 1)
    throw new Error(
      `模板 “${bundle.template.name}” 的 rowLimit 应为正整数,实为 ${rowLimit} / rowLimit must be a positive integer`,
    );
  if (/[\\/]/.test(o.baseName) || !o.baseName.trim())
    throw new Error(`文件名 “${o.baseName}” 无效 / invalid file name "${o.baseName}"`);
  // Template mistakes are reported before any file is started.
  for (const cf of bundle.template.conditionalFormats) {
    if (cf.kind !== 'threshold') continue;
    try {
      argb(cf.fill);
    } catch (e) {
      throw new Error(`模板 “${bundle.template.name}” 的条件格式(${cf.metric}):${(e as Error).message}`);
    }
  }
  await mkdir(o.outDir, { recursive: true });
  const cols = sheets.includes('detail') ? detailColumns(bundle) : null;
  const detailIndex = sheets.indexOf('detail') + 1;

  const done: { tmp: string; index: number }[] = [];
  let total = 0;
  let current: OpenPart | null = null;

  const open = async (index: number): Promise<OpenPart> => {
    const tmp = join(o.outDir, `.${o.baseName}_part${index}.xlsx.tmp`);
    const file = createWriteStream(tmp);
    const part: OpenPart = {
      index,
      tmp,
      file,
      zip: new ZipWriter(file, new Date(bundle.generatedAt), FAST_LEVEL),
      firstRow: total + 1,
    };
    if (cols) {
      part.writer = new DetailSheetWriter(
        await part.zip.stream(`xl/worksheets/sheet${detailIndex}.xml`),
        cols,
        bundle,
      );
      await part.writer.start();
    }
    return part;
  };
  const close = async (part: OpenPart, split: boolean): Promise<void> => {
    const detail = part.writer ? await part.writer.end() : null;
    await finishPart(part.zip, bundle, sheets, cols, detail, {
      index: part.index,
      split,
      firstRow: part.firstRow,
      lastRow: part.firstRow + (detail?.rows ?? 0) - 1,
    });
    part.file.end();
    await finished(part.file);
    done.push({ tmp: part.tmp, index: part.index });
  };

  try {
    current = await open(1);
    if (cols) {
      let inPart = 0;
      for await (const page of detailPages(store, {
        period: bundle.period,
        viewer: bundle.viewer,
        filters: bundle.template.filters,
        settings: bundle.settings,
        businessHours: bundle.template.businessHours,
        pageSize: o.pageSize,
      })) {
        let at = 0;
        while (at < page.length) {
          if (inPart === rowLimit) {
            await close(current, true);
            current = await open(current.index + 1);
            inPart = 0;
          }
          const take = page.slice(at, at + (rowLimit - inPart));
          await current.writer!.add(take);
          at += take.length;
          inPart += take.length;
          total += take.length;
        }
      }
    }
    await close(current, current.index > 1);
    current = null;
  } catch (e) {
    if (current) {
      // Writes still queued fail once the stream is destroyed: they are part of this failure.
      current.file.on('error', () => {});
      current.file.destroy();
      done.push({ tmp: current.tmp, index: current.index });
    }
    await Promise.all(done.map((d) => rm(d.tmp, { force: true })));
    throw e;
  }

  const files: string[] = [];
  for (const d of done) {
    const name = done.length === 1 ? `${o.baseName}.xlsx` : `${o.baseName}_part${d.index}.xlsx`;
    const path = join(o.outDir, name);
    await rename(d.tmp, path);
    files.push(path);
  }
  return { files, detailRows: total };
}

/** Everything but the detail rows: the other sheets, the pivot, styles, workbook and package parts. */
async function finishPart(
  zip: ZipWriter,
  bundle: ReportBundle,
  sheets: SheetId[],
  cols: DetailColumn[] | null,
  detail: DetailPart | null,
  part: PartInfo,
): Promise<void> {
  const dxfs = new Dxfs();
  const built: (BuiltSheet | null)[] = [];
  const workbookRels: { id: string; type: string; target: string }[] = [];
  let pivotCacheId: number | null = null;
  for (const [i, id] of sheets.entries()) {
    const n = i + 1;
    switch (id) {
      case 'summary':
        built.push(summarySheet(bundle, n, dxfs));
        break;
      case 'definitions':
        built.push(definitionsSheet(bundle, n, cols, part));
        break;
      case 'comparison':
        built.push(comparisonSheet(bundle, n));
        break;
      case 'anomalies':
        built.push(anomaliesSheet(bundle, n));
        break;
      case 'detail':
        built.push(null);
        break;
      case 'pivot': {
        const p = pivotParts(bundle, n, cols!, detail!, DETAIL_SHEET);
        built.push(p.sheet);
        if (p.workbookRel) {
          workbookRels.push(p.workbookRel);
          pivotCacheId = n;
        }
        break;
      }
    }
  }
  const parts: Part[] = [];
  const names = sheets.map((id, i) => (id === 'detail' ? DETAIL_SHEET : built[i]!.name));
  for (const [i, b] of built.entries()) {
    const n = i + 1;
    if (!b) continue;
    await zip.add(`xl/worksheets/sheet${n}.xml`, b.xml!);
    if (b.rels.length) await zip.add(`xl/worksheets/_rels/sheet${n}.xml.rels`, rels(b.rels));
    parts.push(...b.parts);
  }
  if (detail?.sharedStrings.length) {
    const items = detail.sharedStrings.map((t) => `<si><t xml:space="preserve">${esc(t)}</t></si>`).join('');
    parts.push({
      path: 'xl/sharedStrings.xml',
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml',
      content: `${XML_HEAD}<sst xmlns="${NS_MAIN}" count="${detail.sharedRefs}" uniqueCount="${detail.sharedStrings.length}">${items}</sst>`,
    });
    workbookRels.push({ id: 'rIdStrings', type: `${REL}/sharedStrings`, target: 'sharedStrings.xml' });
  }
  for (const p of parts) await zip.add(p.path, p.content);

  const sheetRels = names.map((_, i) => ({
    id: `rId${i + 1}`,
    type: `${REL}/worksheet`,
    target: `worksheets/sheet${i + 1}.xml`,
  }));
  const filters = built
    .map((b, i) => (b?.autoFilter ? { i, ref: b.autoFilter } : null))
    .filter((x): x is { i: number; ref: string } => x !== null);
  if (detail && cols)
    filters.push({ i: sheets.indexOf('detail'), ref: `A1:${colName(cols.length - 1)}${detail.rows + 1}` });
  const definedNames = filters
    .sort((a, b) => a.i - b.i)
    .map(
      (f) =>
        `<definedName name="_xlnm._FilterDatabase" localSheetId="${f.i}" hidden="1">${esc(quoteSheet(names[f.i]!))}!${absolute(f.ref)}</definedName>`,
    )
    .join('');
  const workbook =
    `${XML_HEAD}<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_R}">` +
    '<workbookPr/><bookViews><workbookView xWindow="0" yWindow="0" windowWidth="28800" windowHeight="15000" activeTab="0"/></bookViews>' +
    `<sheets>${names.map((name, i) => `<sheet name="${esc(name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets>` +
    (definedNames ? `<definedNames>${definedNames}</definedNames>` : '') +
    '<calcPr calcId="191029" fullCalcOnLoad="1"/>' +
    (pivotCacheId !== null
      ? `<pivotCaches><pivotCache cacheId="${pivotCacheId}" r:id="rIdPc${pivotCacheId}"/></pivotCaches>`
      : '') +
    '</workbook>';
  const allWorkbookRels = [
    ...sheetRels,
    { id: 'rIdStyles', type: `${REL}/styles`, target: 'styles.xml' },
    ...workbookRels,
  ];
  await zip.add('xl/workbook.xml', workbook);
  await zip.add('xl/_rels/workbook.xml.rels', rels(allWorkbookRels));
  await zip.add('xl/styles.xml', stylesXml(dxfs));
  const t = bundle.template;
  const created = new Date(bundle.generatedAt).toISOString().replace(/\.\d+Z$/, 'Z');
  await zip.add(
    'docProps/core.xml',
    `${XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<dc:title>${esc(`${t.title.zh} ${bundle.period.label}`)}</dc:title><dc:creator>CS Pulse</dc:creator>` +
      `<dcterms:created xsi:type="dcterms:W3CDTF">${created}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">${created}</dcterms:modified></cp:coreProperties>`,
  );
  await zip.add(
    'docProps/app.xml',
    `${XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>CS Pulse</Application></Properties>`,
  );
  await zip.add(
    '_rels/.rels',
    rels([
      { id: 'rId1', type: `${REL}/officeDocument`, target: 'xl/workbook.xml' },
      {
        id: 'rId2',
        type: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties',
        target: 'docProps/core.xml',
      },
      { id: 'rId3', type: `${REL}/extended-properties`, target: 'docProps/app.xml' },
    ]),
  );
  const overrides = [
    ['/xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'],
    ['/xl/styles.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml'],
    ['/docProps/core.xml', 'application/vnd.openxmlformats-package.core-properties+xml'],
    ['/docProps/app.xml', 'application/vnd.openxmlformats-officedocument.extended-properties+xml'],
    ...names.map((_, i) => [
      `/xl/worksheets/sheet${i + 1}.xml`,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
    ]),
    ...parts
      .filter((p) => p.contentType && !p.path.endsWith('.vml'))
      .map((p) => [`/${p.path}`, p.contentType]),
  ];
  await zip.add(
    '[Content_Types].xml',
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>' +
      overrides.map(([p, c]) => `<Override PartName="${esc(p!)}" ContentType="${c}"/>`).join('') +
      '</Types>',
  );
  await zip.finish();
}

/** A1:R9 → $A$1:$R$9 */
function absolute(ref: string): string {
  return ref.replace(/([A-Z]+)(\d+)/g, '$$$1$$$2');
}
