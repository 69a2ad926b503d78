/**
 * Generic CSV/XLSX import: one row = one message, or another event when a kind (事件类型) column
 * says so. Columns are found through the header dictionary; values are normalised here (timestamps to
 * epoch ms in the import timezone, role words to roles) and the ingest validates the result.
 *
 * Decisions (see also ../README.md):
 * - Without an id column the id is a hash of (kind, channel, conversationId, customer, ts, role,
 *   account, text, …): importing the same file twice gives the same ids, and two rows identical in all
 *   of these are one message (an export overlap), stored once.
 * - Without a channel column the channel is 'import'. The source is 'csv' for CSV and XLSX alike, so
 *   the same export saved both ways is one set of facts.
 * - `account` is kept on agent and bot rows only: on a customer row it names the assigned agent, not
 *   the sender, and would credit the customer's words to the agent.
 * - A rating value on a message row adds a rating event, one per conversation (its id is derived from
 *   the conversation), since session exports repeat the session's rating on every message row.
 */
import { createHash } from 'node:crypto';
import type { Reject } from '../../model/events.ts';
import { wallToUtc } from '../../model/time.ts';
import { openInput } from '../shared/input.ts';
import { type Cell, cellText, readCsvTable, readXlsxTable, type TableBlock } from '../shared/table.ts';
import { parseTimestamp as parseTime } from '../../model/time.ts';
import {
  clip,
  checkOptions,
  DEFAULT_BATCH_SIZE,
  DEFAULT_TIMEZONE,
  quote,
  type ReadBatch,
  type ReadOptions,
} from '../types.ts';
import { aggregateRows } from './aggregates.ts';
import {
  type ColumnBinding,
  type ColumnOptions,
  type ColumnReport,
  headerScore,
  matchColumns,
  normaliseHeader,
} from './columns.ts';
import {
  BOOLEAN_WORDS,
  type CanonicalField,
  FIELD_DICTIONARY,
  KIND_WORDS,
  MSGTYPE_WORDS,
  PRESENCE_WORDS,
  ROLE_WORDS,
  TICKET_STATUS_WORDS,
} from './field-dictionary.ts';

export type TableKind = 'csv' | 'xlsx';

/** Rows scanned for the header: exports sometimes put a title or filter summary above it. */
const HEADER_SCAN_ROWS = 20;

export async function openTable(path: string, kind: TableKind): Promise<AsyncGenerator<TableBlock>> {
  const opened = await openInput(path);
  return kind === 'xlsx' ? readXlsxTable(opened) : readCsvTable(opened);
}

interface HeaderFound {
  header: string[];
  headerLine: number;
  /** Rows read after the header while looking for it. */
  pending: TableBlock['rows'];
}

/**
 * Find the header row: the first of the first rows with at least two recognised headers, else the first
 * non-empty row. Rows above it (titles) are dropped.
 */
export async function findHeader(
  blocks: AsyncGenerator<TableBlock>,
  score: (cells: string[]) => number,
  minScore: number,
): Promise<{ found: HeaderFound | null; last: TableBlock | null }> {
  const seen: TableBlock['rows'] = [];
  let last: TableBlock | null = null;
  let nonEmpty = 0;
  while (nonEmpty < HEADER_SCAN_ROWS) {
    const r = await blocks.next();
    if (r.done) break;
    last = r.value;
    for (const row of r.value.rows) {
      seen.push(row);
      if ('cells' in row && row.cells.some((c) => cellText(c) !== '')) nonEmpty++;
    }
  }
  let firstIdx = -1;
  let count = 0;
  for (let i = 0; i < seen.length && count < HEADER_SCAN_ROWS; i++) {
    const row = seen[i]!;
    if (!('cells' in row) || !row.cells.some((c) => cellText(c) !== '')) continue;
    count++;
    if (firstIdx === -1) firstIdx = i;
    if (score(row.cells.map(cellText)) >= minScore) return { found: make(seen, i), last };
  }
  return { found: firstIdx === -1 ? null : make(seen, firstIdx), last };
}

function make(rows: TableBlock['rows'], i: number): HeaderFound {
  const row = rows[i] as { line: number; cells: Cell[] };
  return { header: row.cells.map(cellText), headerLine: row.line, pending: rows.slice(i + 1) };
}

/** Read the header of a CSV/XLSX file and say which columns would be imported as what. */
export async function inspectColumns(
  path: string,
  kind: TableKind,
  o?: ColumnOptions,
): Promise<ColumnReport> {
  const blocks = await openTable(path, kind);
  try {
    const { found } = await findHeader(blocks, (cells) => headerScore(cells, o), 2);
    if (!found) throw new Error(`${path}: no header row found`);
    return matchColumns(found.header, o);
  } finally {
    await blocks.return(undefined);
  }
}

export async function* readTableEvents(
  path: string,
  kind: TableKind,
  opts: ReadOptions = {},
): AsyncGenerator<ReadBatch> {
  checkOptions(opts);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const ctx: RowContext = {
    timezone: opts.timezone ?? DEFAULT_TIMEZONE,
    xlsx: kind === 'xlsx',
    columns: undefined!,
  };
  const blocks = await openTable(path, kind);
  try {
    const { found, last } = await findHeader(blocks, (cells) => headerScore(cells, opts.columns), 2);
    if (!found) throw new Error(`${path}: no data (only empty rows)`);
    const columns = matchColumns(found.header, opts.columns);
    const mapping = opts.columns?.mapping;
    if (
      mapping &&
      !found.header.some((h) => Object.keys(mapping).some((k) => normaliseHeader(k) === normaliseHeader(h)))
    )
      throw new Error(
        `${path}: none of the mapping's columns (${Object.keys(mapping)
          .slice(0, 10)
          .map((h) => quote(h))
          .join(', ')}) is in the header on line ${found.headerLine} (${found.header
          .slice(0, 10)
          .map((h) => quote(h))
          .join(', ')})`,
      );
    // 企业微信客服 statistics and the like: every row a reject that says it is an aggregate.
    const aggregate = aggregateRows(found.header);
    if (columns.recognised.length === 0 && !aggregate) {
      throw new Error(
        `${path}: no column header recognised on line ${found.headerLine} (expected headers such as 时间/timestamp, ` +
          `发送方/role, 客服/agent, 内容/text); found ${found.header
            .slice(0, 10)
            .map((h) => quote(h))
            .join(', ')}`,
      );
    }
    ctx.columns = columns;
    let batch: ReadBatch = {
      items: [],
      rejects: [],
      bytesRead: 0,
      totalBytes: last?.totalBytes ?? 0,
      columns,
    };
    const ready: ReadBatch[] = [];
    const full = (): void => {
      if (batch.items.length + batch.rejects.length < batchSize) return;
      ready.push(batch);
      batch = { items: [], rejects: [], bytesRead: batch.bytesRead, totalBytes: batch.totalBytes };
    };
    const consume = (rows: TableBlock['rows'], bytesRead: number): void => {
      batch.bytesRead = bytesRead;
      for (const row of rows) {
        if ('error' in row) {
          batch.rejects.push({ file: path, line: row.line, reason: row.error });
          full();
          continue;
        }
        const r = aggregate ? { reject: aggregate(row.cells.map(cellText)) } : mapRow(row.cells, ctx);
        if (r === null) continue;
        if ('reject' in r) {
          batch.rejects.push({ file: path, line: row.line, reason: r.reject, raw: clip(rowRaw(row.cells)) });
          full();
          continue;
        }
        // The events of one row stay in one batch, so a batch may exceed batchSize by one rating.
        for (const raw of r.events) batch.items.push({ line: row.line, raw });
        full();
      }
    };
    consume(found.pending, last?.bytesRead ?? 0);
    for (;;) {
      while (ready.length > 0) yield ready.shift()!;
      const r = await blocks.next();
      if (r.done) break;
      batch.totalBytes = r.value.totalBytes;
      consume(r.value.rows, r.value.bytesRead);
    }
    batch.bytesRead = batch.totalBytes;
    yield batch;
  } finally {
    await blocks.return(undefined);
  }
}

function rowRaw(cells: Cell[]): string {
  return cells.map(cellText).join(',');
}

export interface RowContext {
  timezone: string;
  /** XLSX cells can be Dates and Excel serial numbers. */
  xlsx: boolean;
  columns: ColumnReport;
}

type Role = 'customer' | 'agent' | 'bot' | 'system';

/**
 * Map one row to raw canonical events; null for an empty row; a reject reason naming the field when
 * the row cannot be an event.
 */
export function mapRow(
  cells: readonly Cell[],
  ctx: RowContext,
): { events: Record<string, unknown>[] } | { reject: string } | null {
  const f = ctx.columns.fields;
  if (!cells.some((c) => cellText(c) !== '')) return null;
  const cell = (field: CanonicalField): Cell | undefined => {
    const b = f[field];
    return b ? cells[b.index] : undefined;
  };
  const str = (field: CanonicalField): string => cellText(cell(field));
  const coded = (field: CanonicalField): string => {
    const v = str(field);
    const codes = f[field]?.codes;
    return codes && v in codes ? codes[v]! : v;
  };

  // Kind
  const kindRaw = str('kind');
  let kind = 'message';
  if (kindRaw !== '') {
    const k = KIND_WORDS[kindRaw.toLowerCase()] ?? KIND_WORDS[kindRaw.replace(/\s+/g, '')];
    if (!k) {
      return {
        reject: `kind (column "${f.kind!.header}"): expected message, assignment, transfer, close, rating, ticket, order, inquiry or presence, got ${quote(kindRaw)}`,
      };
    }
    kind = k;
  }

  // Timestamp
  const tsCell = cell('ts');
  if (!f.ts)
    return { reject: `ts: missing (no timestamp column; expected a header such as ${examples('ts')})` };
  if (cellText(tsCell) === '') return { reject: `ts: missing (column "${f.ts.header}" is empty)` };
  const ts = toEpochMs(tsCell!, ctx);
  if (ts === null) {
    return {
      reject: `ts (column "${f.ts.header}"): expected a date like "2025-11-05 14:30:00", an ISO time or epoch seconds/ms, got ${quote(cellText(tsCell))}`,
    };
  }

  const channel = str('channel') || 'import';
  const conversationId = str('conversationId');
  const customerId = str('customer.id') || str('customer.name');
  const base: Record<string, unknown> = { source: str('source') || 'csv', ts, channel };
  if (conversationId) base.conversationId = conversationId;
  if (customerId) {
    const customer: Record<string, unknown> = { id: customerId };
    const name = str('customer.name');
    if (name && name !== customerId) customer.name = name;
    const region = str('customer.region');
    if (region) customer.region = region;
    const ctags = splitList(str('customer.tags'));
    if (ctags.length) customer.tags = ctags;
    base.customer = customer;
  }
  const tags = splitList(str('tags'));
  if (tags.length) base.tags = tags;
  const explicitId = str('id');
  const account = str('account');
  const accountName = str('accountName');

  const events: Record<string, unknown>[] = [];
  const idOf = (extra: unknown[]): string =>
    explicitId || hashId([kind, channel, conversationId, customerId, ts, ...extra]);

  switch (kind) {
    case 'message': {
      const role = resolveRowRole(f, str, coded, account, accountName, customerId, str('customer.name'));
      if ('reject' in role) return role;
      // Message-level exports (Sobot chat detail) name the customer only as sender or receiver.
      if (!customerId) {
        const who = role.role === 'customer' ? str('sender') : str('receiver');
        if (who) base.customer = { id: who };
      }
      const text = rawText(cell('text'));
      let sender = account;
      if (!sender && (role.role === 'agent' || role.role === 'bot')) sender = str('sender');
      const ev: Record<string, unknown> = { kind: 'message', ...base, role: role.role };
      if ((role.role === 'agent' || role.role === 'bot') && sender) {
        ev.account = sender;
        if (accountName && accountName !== sender) ev.accountName = accountName;
      }
      const msgType = coded('msgType');
      if (msgType) ev.msgType = MSGTYPE_WORDS[msgType] ?? msgType.toLowerCase();
      if (text !== '') ev.text = text;
      ev.id = idOf([role.role, sender ?? '', text]);
      events.push(ev);
      const rating = ratingOf(cell('rating'), f.rating, str('ratingScale'));
      if (rating) {
        const rid = conversationId ? `rating:${conversationId}` : `${ev.id as string}:rating`;
        const rev: Record<string, unknown> = { kind: 'rating', ...base, id: rid, ...rating };
        const comment = rawText(cell('comment'));
        if (comment) rev.comment = comment;
        events.push(rev);
      }
      break;
    }
    case 'assignment':
    case 'transfer': {
      if (!account)
        return { reject: `account: missing (an ${kind} row needs the agent, e.g. column 客服/agent)` };
      const ev: Record<string, unknown> = { kind: 'assignment', ...base, account };
      if (accountName && accountName !== account) ev.accountName = accountName;
      const transfer = kind === 'transfer' ? true : toBool(coded('transfer'));
      if (transfer !== undefined) ev.transfer = transfer;
      ev.id = idOf([account, transfer ?? '']);
      events.push(ev);
      break;
    }
    case 'close': {
      const ev: Record<string, unknown> = { kind: 'close', ...base };
      const resolved = toBool(coded('resolved'));
      if (resolved !== undefined) ev.resolved = resolved;
      if (account) ev.account = account;
      ev.id = idOf([account, resolved ?? '']);
      events.push(ev);
      break;
    }
    case 'rating': {
      const rating = ratingOf(cell('rating'), f.rating, str('ratingScale'));
      if (!rating)
        return { reject: `rating: missing (a rating row needs a score, e.g. column 满意度/rating)` };
      const ev: Record<string, unknown> = { kind: 'rating', ...base, ...rating };
      const comment = rawText(cell('comment'));
      if (comment) ev.comment = comment;
      ev.id = idOf([String(rating.score), comment]);
      events.push(ev);
      break;
    }
    case 'ticket': {
      const ticketId = str('ticketId') || conversationId;
      if (!ticketId) return { reject: 'ticketId: missing (a ticket row needs column 工单ID/ticket_id)' };
      const statusRaw = coded('status');
      const status = TICKET_STATUS_WORDS[statusRaw.toLowerCase()] ?? statusRaw;
      if (!status) return { reject: 'status: missing (a ticket row needs column 工单状态/status)' };
      const ev: Record<string, unknown> = { kind: 'ticket', ...base, ticketId, status };
      const category = str('category');
      if (category) ev.category = category;
      if (str('dueTs')) {
        const due = toEpochMs(cell('dueTs')!, ctx);
        if (due === null)
          return {
            reject: `dueTs (column "${f.dueTs!.header}"): expected a date, got ${quote(str('dueTs'))}`,
          };
        ev.dueTs = due;
      }
      if (account) ev.account = account;
      ev.id = idOf([ticketId, status, account]);
      events.push(ev);
      break;
    }
    case 'order':
    case 'inquiry': {
      const typeRaw = str('orderType').toLowerCase();
      const type =
        kind === 'inquiry' || typeRaw === 'inquiry' || typeRaw === '询盘' || typeRaw === '留资'
          ? 'inquiry'
          : 'order';
      const ev: Record<string, unknown> = { kind: 'order', ...base, type };
      const amountRaw = str('amount');
      if (amountRaw) {
        const amount = Number(amountRaw.replace(/[¥￥$€£,，\s元]/g, ''));
        if (!Number.isFinite(amount))
          return {
            reject: `amount (column "${f.amount!.header}"): expected a number, got ${quote(amountRaw)}`,
          };
        ev.amount = amount;
      }
      ev.id = idOf([type, amountRaw]);
      events.push(ev);
      break;
    }
    case 'presence': {
      if (!account)
        return { reject: 'account: missing (a presence row needs the agent, e.g. column 客服/agent)' };
      const statusRaw = coded('status');
      const status = PRESENCE_WORDS[statusRaw.toLowerCase()] ?? statusRaw;
      if (!status) return { reject: 'status: missing (a presence row needs column 在线状态/status)' };
      const ev: Record<string, unknown> = { kind: 'presence', ...base, account, status };
      ev.id = idOf([account, status]);
      events.push(ev);
      break;
    }
  }
  return { events };
}

function examples(field: CanonicalField): string {
  const e = FIELD_DICTIONARY.find((x) => x.field === field)!;
  return [...e.zh.slice(0, 3), ...e.en.slice(0, 3)].join('/');
}

function resolveRowRole(
  f: ColumnReport['fields'],
  str: (field: CanonicalField) => string,
  coded: (field: CanonicalField) => string,
  account: string,
  accountName: string,
  customerId: string,
  customerName: string,
): { role: Role } | { reject: string } {
  if (f.role) {
    const raw = str('role');
    if (raw !== '') {
      const role = roleOf(coded('role'));
      if (role) return { role };
      return {
        reject: `role (column "${f.role.header}"): expected 客户/客服/机器人/系统 or customer/agent/bot/system, got ${quote(raw)}`,
      };
    }
  }
  // Infer from the sender: the agent column says who the agent is, so a sender equal to it is the agent.
  if (f.sender) {
    const sender = str('sender');
    if (sender !== '') {
      const byWord = roleOf(sender);
      if (byWord) return { role: byWord };
      const hasAgent = Boolean(f.account || f.accountName);
      const hasCustomer = Boolean(f['customer.id'] || f['customer.name']);
      if (hasAgent && (sender === account || sender === accountName)) return { role: 'agent' };
      if (hasCustomer && (sender === customerId || sender === customerName)) return { role: 'customer' };
      // With only one side named, a sender who is not that side is the other one.
      if (hasAgent && !hasCustomer) return { role: 'customer' };
      if (hasCustomer && !hasAgent) return { role: 'agent' };
      if (hasAgent && hasCustomer) {
        return {
          reject: `role: cannot infer: sender ${quote(sender)} is neither the agent ${quote(account || accountName)} nor the customer ${quote(customerId)}`,
        };
      }
      return {
        reject: `role: cannot infer from sender ${quote(sender)} without an agent or customer column`,
      };
    }
  }
  if (!f.role && !f.sender) {
    return {
      reject: 'role: missing (no role column such as 发送方/role, and no sender column to infer it from)',
    };
  }
  return {
    reject: `role: missing (column "${(f.role ?? f.sender)!.header}" is empty and the role cannot be inferred)`,
  };
}

/** The role a role cell means: exact words first, then a word inside ("人工客服", "智能机器人"). */
export function roleOf(v: string): Role | null {
  const s = v.trim().toLowerCase();
  if (s === '') return null;
  const exact = ROLE_WORDS[s] ?? ROLE_WORDS[s.replace(/[\s_-]+/g, '')];
  if (exact) return exact;
  if (/机器人|robot|\bbot\b|智能/.test(s)) return 'bot';
  if (/系统|system/.test(s)) return 'system';
  if (/客服|坐席|agent|staff/.test(s)) return 'agent';
  if (/客户|访客|用户|顾客|customer|visitor/.test(s)) return 'customer';
  return null;
}

function toBool(v: string): boolean | undefined {
  if (v === '') return undefined;
  return BOOLEAN_WORDS[v.trim().toLowerCase()];
}

const SCALES = new Set(['5', '10', '3', '100', 'good_bad']);

function ratingOf(
  c: Cell | undefined,
  binding: ColumnBinding | undefined,
  scaleCell: string,
): { score: number | string; scale?: string } | null {
  const s = cellText(c);
  if (s === '') return null;
  const coded = binding?.codes && s in binding.codes ? binding.codes[s]! : s;
  const n = Number(coded);
  const score: number | string = coded !== '' && Number.isFinite(n) ? n : coded;
  const explicit = scaleCell
    .replace(/分制?$|-?point$/i, '')
    .trim()
    .toLowerCase();
  let scale: string | undefined = SCALES.has(explicit) ? explicit : binding?.scale;
  // Without a declared scale, the value itself says which scale it cannot be on.
  if (!scale && typeof score === 'number') scale = score > 10 ? '100' : score > 5 ? '10' : undefined;
  return scale ? { score, scale } : { score };
}

function splitList(s: string): string[] {
  if (!s) return [];
  return [
    ...new Set(
      s
        .split(/[,;，；、|\n]+/)
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ].slice(0, 100);
}

function rawText(c: Cell | undefined): string {
  if (typeof c === 'string') return c.replace(/^\s+|\s+$/g, '');
  return cellText(c);
}

function hashId(parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

const EXCEL_EPOCH = 25569; // days from 1899-12-30 to 1970-01-01

/** Epoch ms of a timestamp cell; wall-clock values (XLSX dates, naive strings) are in ctx.timezone. */
export function toEpochMs(c: Cell, ctx: { timezone: string; xlsx: boolean }): number | null {
  if (c instanceof Date) return inRange(wallToUtc(c.getTime(), ctx.timezone));
  if (typeof c === 'number') {
    // An XLSX date cell without a date format arrives as an Excel serial day number.
    if (ctx.xlsx && c > 20000 && c < 80000)
      return inRange(wallToUtc(Math.round((c - EXCEL_EPOCH) * 86_400_000), ctx.timezone));
    return parseTime(c);
  }
  if (typeof c !== 'string') return null;
  const s = c
    .trim()
    .replace(/^(\d{4})年(\d{1,2})月(\d{1,2})日?/, '$1-$2-$3')
    .replace(/(\d{1,2})时(\d{1,2})分(?:(\d{1,2})秒)?$/, (_m, h, mi, se) => `${h}:${mi}:${se ?? '00'}`);
  return parseTime(s, ctx.timezone);
}

function inRange(ms: number): number | null {
  return Number.isFinite(ms) && ms >= 631_152_000_000 && ms < 4_102_444_800_000 ? ms : null;
}

export type { Reject };
