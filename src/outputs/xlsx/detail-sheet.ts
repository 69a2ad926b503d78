/**
 * 明细: one row per conversation, streamed into the zip page by page. Customer data is masked
 * unless the viewer may see it; columns tied to a hidden metric are left out. Times are Excel
 * dates in the reporting timezone; durations are days under [mm]:ss like the summary's.
 */
import { tzOffset } from '../../model/time.ts';
import type { DetailRow } from '../detail.ts';
import { maskName, maskText } from '../masking.ts';
import type { ReportBundle } from '../types.ts';
import { isHidden, NO_GROUP } from './columns.ts';
import { rowXml, type SheetLayout, sheetHead, sheetTail } from './sheet.ts';
import { S } from './styles.ts';
import type { StreamedEntry } from './zip.ts';
import { colName, emptyCell, esc, excelDate, numberCell, textCell } from './xml.ts';

export const DETAIL_SHEET = '明细';
/** Bytes of sheet XML handed to the deflater at a time. */
const CHUNK = 1 << 20;

interface Ctx {
  tz: string;
  pii: boolean;
  /** A shared-string cell for a value that repeats (channel, region, agent names). */
  shared: (v: string | null) => string;
}

export interface DetailColumn {
  key: string;
  header: string;
  width: number;
  /** Metric ids whose hiding hides this column too. */
  linked: string[];
  /** 'text' columns are strings in the pivot cache; the rest numbers. */
  kind: 'text' | 'number';
  cell: (r: DetailRow, c: Ctx) => string;
}

// Plain text needs no style attribute (style 0 is plain); the sheet is most of the file's bytes.
const text = (v: string | null | undefined): string =>
  v ? `<c t="inlineStr"><is><t>${esc(v.length > 32_000 ? v.slice(0, 32_000) : v)}</t></is></c>` : '<c/>';
const num = (v: number | null, style: number): string =>
  v === null || !Number.isFinite(v) ? emptyCell(style) : numberCell(v, style);
/** Dates to 1e-8 of a day (under a millisecond): shorter numbers than the full double. */
const when = (ts: number, c: Ctx): string =>
  numberCell(Math.round(excelDate(ts + tzOffset(ts, c.tz)) * 1e8) / 1e8, S.datetime);
/** Durations to the millisecond, as days. */
const days = (s: number | null): number | null => (s === null ? null : Number((s / 86_400).toPrecision(9)));

export const DETAIL_COLUMNS: DetailColumn[] = [
  {
    key: 'conversation',
    header: '会话ID',
    width: 18,
    linked: [],
    kind: 'text',
    cell: (r, c) => text(c.pii ? r.id : maskText(r.id)),
  },
  {
    key: 'channel',
    header: '渠道',
    width: 12,
    linked: [],
    kind: 'text',
    cell: (r, c) => c.shared(r.channel),
  },
  {
    key: 'customer',
    header: '客户',
    width: 16,
    linked: [],
    kind: 'text',
    cell: (r, c) => text(r.customer === null ? null : c.pii ? r.customer : maskName(r.customer)),
  },
  { key: 'region', header: '地区', width: 10, linked: [], kind: 'text', cell: (r, c) => c.shared(r.region) },
  {
    key: 'agent',
    header: '负责客服',
    width: 12,
    linked: [],
    kind: 'text',
    cell: (r, c) => c.shared(r.agent),
  },
  {
    key: 'group',
    header: '客服组',
    width: 12,
    linked: [],
    kind: 'text',
    cell: (r, c) => c.shared(r.group ?? NO_GROUP),
  },
  {
    key: 'agents',
    header: '接待客服',
    width: 18,
    linked: [],
    kind: 'text',
    cell: (r, c) => c.shared(r.agents.join(' → ')),
  },
  {
    key: 'start',
    header: '开始时间',
    width: 20,
    linked: [],
    kind: 'number',
    cell: (r, c) => when(r.startTs, c),
  },
  { key: 'end', header: '结束时间', width: 20, linked: [], kind: 'number', cell: (r, c) => when(r.endTs, c) },
  {
    key: 'wait',
    header: '排队时长',
    width: 10,
    linked: ['wait_avg_s'],
    kind: 'number',
    cell: (r) => num(days(r.waitS), S.duration),
  },
  {
    key: 'frt',
    header: '首次响应时长',
    width: 12,
    linked: ['frt_avg_s', 'frt_median_s', 'frt_p90_s', 'frt_timeout_rate'],
    kind: 'number',
    cell: (r) => num(days(r.frtS), S.duration),
  },
  {
    key: 'handle',
    header: '处理时长',
    width: 10,
    linked: ['handle_avg_s', 'handle_median_s', 'handle_p90_s'],
    kind: 'number',
    cell: (r) => num(days(r.handleS), S.duration),
  },
  {
    key: 'messages_in',
    header: '客户消息数',
    width: 10,
    linked: ['messages_in'],
    kind: 'number',
    cell: (r) => num(r.messagesIn, S.number),
  },
  {
    key: 'messages_out',
    header: '客服消息数',
    width: 10,
    linked: ['messages_out'],
    kind: 'number',
    cell: (r) => num(r.messagesOut, S.number),
  },
  {
    key: 'rating',
    header: '评分',
    width: 8,
    linked: ['csat_avg', 'csat_pct', 'rating_rate'],
    kind: 'number',
    cell: (r) => num(r.rating, S.number),
  },
  {
    key: 'resolved',
    header: '已解决',
    width: 8,
    linked: ['resolved', 'resolution_rate', 'fcr_rate'],
    kind: 'number',
    cell: (r) => num(r.resolved, S.yesNo),
  },
  {
    key: 'missed',
    header: '漏接',
    width: 8,
    linked: ['missed', 'missed_rate'],
    kind: 'number',
    cell: (r) => num(r.missed, S.yesNo),
  },
  {
    key: 'tags',
    header: '标签',
    width: 16,
    linked: [],
    kind: 'text',
    cell: (r, c) => text(c.pii ? r.tags.join('、') : maskText(r.tags.join('、'))),
  },
];

/** The detail columns this viewer may see. */
export function detailColumns(bundle: ReportBundle): DetailColumn[] {
  const v = bundle.viewer;
  return DETAIL_COLUMNS.filter(
    (c) => !isHidden(v, c.key) && !isHidden(v, c.header) && !c.linked.some((id) => isHidden(v, id)),
  );
}

/** The column a pivot groups by: the summary's own dimension. */
export function pivotRowKey(bundle: ReportBundle): 'agent' | 'group' | 'channel' {
  return bundle.template.by;
}

/** Totals per pivot row label, computed while the rows stream: the pivot's values before any refresh. */
export interface PivotTotals {
  labels: Map<string, { count: number; sums: Map<string, number> }>;
}

export interface DetailPart {
  rows: number;
  totals: PivotTotals;
  /** The part's shared strings (xl/sharedStrings.xml), in index order. */
  sharedStrings: string[];
  /** Cells that refer to them. */
  sharedRefs: number;
}

/** Past this many distinct values a column's new values are written inline (customers repeat little). */
const MAX_SHARED = 100_000;

export const detailRange = (cols: number, rows: number): string => `A1:${colName(cols - 1)}${rows + 1}`;

/** Streams one part's detail sheet into a zip entry. */
export class DetailSheetWriter {
  private rows = 0;
  private readonly sst = new Map<string, number>();
  private sharedRefs = 0;
  private readonly totals: PivotTotals = { labels: new Map() };
  private readonly ctx: Ctx;
  private readonly layout: SheetLayout;
  private readonly labelOf: (r: DetailRow) => string;
  private readonly summed: DetailColumn[];

  constructor(
    private readonly entry: StreamedEntry,
    private readonly cols: DetailColumn[],
    bundle: ReportBundle,
  ) {
    const sst = this.sst;
    this.ctx = {
      tz: bundle.settings.timezone,
      pii: bundle.viewer.canSeePii,
      shared: (v) => {
        if (!v) return '<c/>';
        let i = sst.get(v);
        if (i === undefined) {
          if (sst.size >= MAX_SHARED) return text(v);
          i = sst.size;
          sst.set(v, i);
        }
        this.sharedRefs++;
        return `<c t="s"><v>${i}</v></c>`;
      },
    };
    this.layout = {
      widths: cols.map((c) => c.width),
      freezeRows: 1,
    };
    const by = pivotRowKey(bundle);
    this.labelOf =
      by === 'agent' ? (r) => r.agent : by === 'group' ? (r) => r.group ?? NO_GROUP : (r) => r.channel;
    this.summed = cols.filter((c) => PIVOT_SUMS.includes(c.key));
  }

  async start(): Promise<void> {
    const header = rowXml(
      1,
      this.cols.map((c) => textCell(c.header, S.header)),
      30,
    );
    await this.entry.write(sheetHead(this.layout) + header);
  }

  /**
   * Each row goes straight into a byte buffer: a page's rows joined into one string first kept
   * every cell's string alive until the page was written, and the garbage collector took a third
   * of the time (measured).
   */
  async add(rows: DetailRow[]): Promise<void> {
    const n = this.cols.length;
    const ctx = this.ctx;
    for (const r of rows) {
      let line = `<row r="${this.rows + 2}">`;
      for (let i = 0; i < n; i++) line += this.cols[i]!.cell(r, ctx);
      line += '</row>';
      this.rows++;
      if (this.off + line.length * 3 > this.buf.length) await this.flush(line.length * 3);
      this.off += this.buf.write(line, this.off, 'utf8');
      const label = this.labelOf(r);
      let t = this.totals.labels.get(label);
      if (!t) {
        t = { count: 0, sums: new Map() };
        this.totals.labels.set(label, t);
      }
      t.count++;
      for (const c of this.summed) {
        const v = SUM_VALUE[c.key]!(r);
        if (v !== null) t.sums.set(c.key, (t.sums.get(c.key) ?? 0) + v);
      }
    }
  }

  /**
   * Two buffers in turn: one is filled while the deflater consumes the other. Fresh buffers each
   * time left tens of MB of consumed ones waiting for a full garbage collection (measured).
   */
  private buf = Buffer.allocUnsafe(CHUNK);
  private spare = Buffer.allocUnsafe(CHUNK);
  private off = 0;
  private consuming: Promise<void> | null = null;

  private async flush(atLeast = 0): Promise<void> {
    const full = this.buf;
    const written = this.off > 0 ? this.entry.write(full.subarray(0, this.off)) : null;
    if (this.consuming) await this.consuming;
    this.consuming = written;
    this.buf = this.spare.length >= atLeast ? this.spare : Buffer.allocUnsafe(atLeast);
    this.spare = full;
    this.off = 0;
  }

  async end(): Promise<DetailPart> {
    await this.flush();
    if (this.consuming) await this.consuming;
    const autoFilter = `A1:${colName(this.cols.length - 1)}${this.rows + 1}`;
    await this.entry.write(sheetTail({ ...this.layout, autoFilter }));
    await this.entry.end();
    return {
      rows: this.rows,
      totals: this.totals,
      sharedStrings: [...this.sst.keys()],
      sharedRefs: this.sharedRefs,
    };
  }
}

/** Detail columns the pivot sums (each the per-conversation form of a summary metric). */
export const PIVOT_SUMS = ['missed', 'resolved', 'messages_in'];
const SUM_VALUE: Record<string, (r: DetailRow) => number | null> = {
  missed: (r) => r.missed,
  resolved: (r) => r.resolved,
  messages_in: (r) => r.messagesIn,
};
