/**
 * One bundle, written in each requested format. `cspulse export` and scheduled delivery both come
 * through here, so a pushed file and a file exported by hand are the same file.
 */
import { mkdirSync } from 'node:fs';
import type { Store } from '../store/db.ts';
import type { ExportResult, ReportBundle } from './types.ts';
import { viewerSuffix } from './viewer.ts';

export const FORMATS = ['xlsx', 'pdf', 'csv'] as const;
export type ExportFormat = (typeof FORMATS)[number];

export interface ExportOptions {
  outDir: string;
  /** Default: 客服绩效_<period>[_<viewer>]. */
  baseName?: string;
}

type Writer = (
  store: Store,
  bundle: ReportBundle,
  o: { outDir: string; baseName: string },
) => Promise<ExportResult>;

/**
 * The renderers, by format, loaded when first asked for: echarts and pdfkit alone hold ~30 MB and
 * take a second to load, which a workbook export (300k rows within 200 MB) should not pay.
 */
const WRITERS: Record<ExportFormat, () => Promise<Writer>> = {
  xlsx: async () => (await import('./xlsx/workbook.ts')).writeWorkbook,
  // The PDF and the CSV need no more than the bundle: no detail rows from the store.
  pdf: async () => {
    const { writePdf } = await import('./pdf/report.ts');
    return (_store, bundle, o) => writePdf(bundle, o);
  },
  csv: async () => {
    const { writeCsv } = await import('./csv.ts');
    return (_store, bundle, o) => writeCsv(bundle, o);
  },
};

/** 客服绩效_2025-11.xlsx; a scoped viewer's files carry the scope so they never overwrite the team's. */
export function baseNameFor(bundle: ReportBundle): string {
  const label = bundle.period.label.replace(/[\\/:*?"<>|]/g, '-');
  return `客服绩效_${label}${viewerSuffix(bundle.viewer)}`;
}

export function parseFormats(input: string | string[]): ExportFormat[] {
  const list = (Array.isArray(input) ? input : input.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (!list.length) throw new Error(`没有格式 / no format given (${FORMATS.join('|')})`);
  for (const f of list)
    if (!FORMATS.includes(f as ExportFormat))
      throw new Error(`未知格式 “${f}” / unknown format "${f}" (expected ${FORMATS.join('|')})`);
  return [...new Set(list)] as ExportFormat[];
}

export async function exportBundle(
  store: Store,
  bundle: ReportBundle,
  formats: ExportFormat[],
  o: ExportOptions,
): Promise<ExportResult> {
  mkdirSync(o.outDir, { recursive: true });
  const baseName = o.baseName ?? baseNameFor(bundle);
  const out: ExportResult = { files: [], detailRows: 0 };
  for (const f of formats) {
    const write = await WRITERS[f]();
    const r = await write(store, bundle, { outDir: o.outDir, baseName });
    out.files.push(...r.files);
    out.detailRows += r.detailRows;
  }
  return out;
}
