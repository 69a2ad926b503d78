/**
 * Customer Support on Twitter (twcs.csv and samples of it), mapped as METRICS.md "The twcs mapping"
 * says. The whole file is read before anything is emitted, because a thread's brand and customer
 * depend on tweets anywhere in the file.
 *
 * Decisions (../README.md has the longer form):
 * - Thread root: follow in_response_to_tweet_id while the parent is in the file; a gap (the parent
 *   was not sampled) starts a new thread. conversationId = root tweet id.
 * - "First" tweet of a thread = earliest created_at, ties by tweet id.
 * - Brand (= channel) = author of the first non-inbound tweet; else the first @mention in the root's
 *   text that is a known brand (an author of some non-inbound row, matched case-insensitively as
 *   Twitter handles are); else the thread is skipped with one reject on the root's line.
 * - Customer of the thread = author of its first inbound tweet that is not the brand; failing that,
 *   the first @mention in the first brand tweet that is not a brand (the brand is answering someone).
 *   Inbound rows carry their own author as customer.id; agent rows the thread's customer.
 * - An inbound tweet by the thread's own brand account is the brand speaking (role agent); by another
 *   brand account it is that brand asking as a customer (role customer). The fixtures have none, the
 *   full dataset has a few brand-to-brand exchanges.
 * - Tweet ids written as floats ("3.0") are integers; a duplicate tweet_id is a reject.
 */
import type { Reject } from '../../model/events.ts';
import { parseTimestamp as parseTime } from '../../model/time.ts';
import { openInput } from '../shared/input.ts';
import { cellText, readCsvTable } from '../shared/table.ts';
import { clip, checkOptions, DEFAULT_BATCH_SIZE, quote, type ReadBatch, type ReadOptions } from '../types.ts';
import { agentAccount } from './signature.ts';

export const TWCS_COLUMNS = [
  'tweet_id',
  'author_id',
  'inbound',
  'created_at',
  'text',
  'response_tweet_id',
  'in_response_to_tweet_id',
] as const;
const REQUIRED = ['tweet_id', 'author_id', 'inbound', 'created_at', 'text'] as const;

export interface TwcsTweet {
  line: number;
  id: string;
  author: string;
  inbound: boolean;
  ts: number;
  text: string;
  parent?: string;
}

export interface TwcsStats {
  rows: number;
  /** Message events emitted. */
  messages: number;
  /** Threads emitted (with a brand). */
  threads: number;
  skippedThreads: number;
  /** Tweets in skipped threads. */
  skippedMessages: number;
  /** Rows rejected before threading (bad id, date, inbound flag, duplicates, broken CSV). */
  rejectedRows: number;
  brands: number;
}

export interface TwcsResult {
  items: { line: number; raw: Record<string, unknown> }[];
  rejects: Reject[];
  stats: TwcsStats;
  totalBytes: number;
}

/** Whether a header row is the twcs header (used by format detection too). */
export function isTwcsHeader(cells: readonly string[]): boolean {
  const names = new Set(cells.map((c) => c.trim().toLowerCase()));
  return REQUIRED.every((c) => names.has(c)) && names.has('in_response_to_tweet_id');
}

export function normaliseTweetId(s: string): string | null {
  const v = s.trim();
  if (/^\d{1,30}$/.test(v)) return v.replace(/^0+(?=\d)/, '');
  // pandas writes integer columns that have blanks as floats: "3.0".
  const m = /^(\d{1,30})\.0*$/.exec(v);
  if (m) return m[1]!.replace(/^0+(?=\d)/, '');
  if (/^\d+(\.\d+)?e\+?\d+$/i.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n) && n >= 0) return String(n);
  }
  return null;
}

function parseInbound(s: string): boolean | null {
  switch (s.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return null;
  }
}

export async function readTwcsFile(path: string): Promise<TwcsResult> {
  const opened = await openInput(path);
  const rejects: Reject[] = [];
  const tweets: TwcsTweet[] = [];
  let col: Record<string, number> | null = null;
  let rows = 0;
  const seen = new Map<string, number>();
  // Always a comma: tweets are full of commas, tabs and semicolons that could fool a sniffer.
  for await (const block of readCsvTable(opened, { delimiter: ',' })) {
    for (const row of block.rows) {
      if ('error' in row) {
        if (col) rows++;
        rejects.push({ file: path, line: row.line, reason: row.error });
        continue;
      }
      const cells = row.cells.map(cellText);
      if (!col) {
        if (cells.every((c) => c === '')) continue;
        if (!isTwcsHeader(cells)) {
          const names = new Set(cells.map((c) => c.trim().toLowerCase()));
          const missing = [...REQUIRED, 'in_response_to_tweet_id'].filter((c) => !names.has(c));
          throw new Error(
            `${path}: not a twcs file: missing column(s) ${missing.join(', ')} on line ${row.line} (expected ${TWCS_COLUMNS.join(',')})`,
          );
        }
        col = {};
        // A leading unnamed pandas index column has an empty header and is simply not looked up.
        cells.forEach((c, i) => {
          const k = c.trim().toLowerCase();
          if (k && col![k] === undefined) col![k] = i;
        });
        continue;
      }
      if (cells.every((c) => c === '')) continue;
      rows++;
      const raw = row.cells as string[];
      const get = (name: string): string => {
        const i = col![name];
        return i === undefined ? '' : (raw[i] ?? '');
      };
      const r = parseTweet(get, row.line);
      if ('reason' in r) {
        rejects.push({ file: path, line: row.line, reason: r.reason, raw: clip(raw.join(',')) });
        continue;
      }
      const prev = seen.get(r.id);
      if (prev !== undefined) {
        rejects.push({
          file: path,
          line: row.line,
          reason: `tweet_id: duplicate of the tweet on line ${prev}`,
          raw: clip(raw.join(',')),
        });
        continue;
      }
      seen.set(r.id, row.line);
      tweets.push(r);
    }
  }
  if (!col) throw new Error(`${path}: no data (no header row)`);
  const rejectedRows = rejects.length;
  const built = buildThreads(path, tweets);
  const all = [...rejects, ...built.rejects].sort((a, b) => a.line - b.line);
  return {
    items: built.items,
    rejects: all,
    stats: { ...built.stats, rows, rejectedRows },
    totalBytes: opened.size,
  };
}

function parseTweet(get: (name: string) => string, line: number): TwcsTweet | { reason: string } {
  const idRaw = get('tweet_id');
  const id = normaliseTweetId(idRaw);
  if (id === null)
    return { reason: `tweet_id: expected a tweet id like "119237" or "3.0", got ${quote(idRaw)}` };
  const author = get('author_id').trim();
  if (author === '') return { reason: 'author_id: missing' };
  const inboundRaw = get('inbound');
  const inbound = parseInbound(inboundRaw);
  if (inbound === null) return { reason: `inbound: expected True or False, got ${quote(inboundRaw)}` };
  const createdRaw = get('created_at');
  const ts = parseTime(createdRaw);
  if (ts === null) {
    return {
      reason: `created_at: expected a date like "Tue Oct 31 22:10:47 +0000 2017", got ${quote(createdRaw)}`,
    };
  }
  const t: TwcsTweet = { line, id, author, inbound, ts, text: get('text') };
  // A malformed parent id is treated as no parent: the tweet itself is still a valid message.
  const parentRaw = get('in_response_to_tweet_id');
  const parent = parentRaw.trim() === '' ? null : normaliseTweetId(parentRaw);
  if (parent !== null && parent !== id) t.parent = parent;
  return t;
}

const MENTION = /@(\w{1,15})/g;

function byTime(a: TwcsTweet, b: TwcsTweet): number {
  return a.ts - b.ts || a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Threads, brands, customers and message events from parsed tweets (exported for tests). */
export function buildThreads(
  path: string,
  tweets: readonly TwcsTweet[],
): { items: TwcsResult['items']; rejects: Reject[]; stats: Omit<TwcsStats, 'rows' | 'rejectedRows'> } {
  const byId = new Map<string, TwcsTweet>();
  for (const t of tweets) byId.set(t.id, t);
  const brands = new Map<string, string>();
  for (const t of tweets) if (!t.inbound) brands.set(t.author.toLowerCase(), t.author);

  // Roots, iteratively and memoised: reply chains can be long, and a corrupt file can contain a cycle.
  const rootOf = new Map<string, string>();
  for (const t of tweets) {
    if (rootOf.has(t.id)) continue;
    const chain: string[] = [];
    const onPath = new Set<string>();
    let cur = t;
    let root: string | undefined;
    for (;;) {
      const known = rootOf.get(cur.id);
      if (known !== undefined) {
        root = known;
        break;
      }
      chain.push(cur.id);
      onPath.add(cur.id);
      const parent = cur.parent === undefined ? undefined : byId.get(cur.parent);
      if (!parent || onPath.has(parent.id)) {
        root = cur.id;
        break;
      }
      cur = parent;
    }
    for (const id of chain) rootOf.set(id, root);
  }

  const threads = new Map<string, TwcsTweet[]>();
  for (const t of tweets) {
    const r = rootOf.get(t.id)!;
    const list = threads.get(r);
    if (list) list.push(t);
    else threads.set(r, [t]);
  }

  const rejects: Reject[] = [];
  const items: TwcsResult['items'] = [];
  let threadCount = 0;
  let skippedThreads = 0;
  let skippedMessages = 0;
  const usedBrands = new Set<string>();
  for (const [rootId, list] of threads) {
    const root = byId.get(rootId)!;
    const sorted = [...list].sort(byTime);
    let brand = sorted.find((t) => !t.inbound)?.author;
    if (brand === undefined) {
      for (const m of root.text.matchAll(MENTION)) {
        const b = brands.get(m[1]!.toLowerCase());
        if (b) {
          brand = b;
          break;
        }
      }
    }
    if (brand === undefined) {
      skippedThreads++;
      skippedMessages += list.length;
      rejects.push({
        file: path,
        line: root.line,
        reason:
          `thread ${rootId} skipped (${list.length} tweet${list.length === 1 ? '' : 's'}): no brand reply in the file ` +
          'and no @mention of a known brand account in its first tweet',
      });
      continue;
    }
    threadCount++;
    usedBrands.add(brand);
    const customer = threadCustomer(sorted, brand, brands);
    for (const t of list) {
      const agent = !t.inbound || t.author === brand;
      const ev: Record<string, unknown> = {
        kind: 'message',
        source: 'twcs',
        id: t.id,
        ts: t.ts,
        channel: brand,
        conversationId: rootId,
        role: agent ? 'agent' : 'customer',
        text: t.text,
      };
      if (agent) {
        const account = agentAccount(t.author, t.text);
        ev.account = account;
        ev.accountName = account;
        if (customer) ev.customer = { id: customer };
      } else {
        ev.customer = { id: t.author };
      }
      items.push({ line: t.line, raw: ev });
    }
  }
  items.sort((a, b) => a.line - b.line);
  return {
    items,
    rejects,
    stats: {
      messages: items.length,
      threads: threadCount,
      skippedThreads,
      skippedMessages,
      brands: usedBrands.size,
    },
  };
}

function threadCustomer(sorted: TwcsTweet[], brand: string, brands: Map<string, string>): string | undefined {
  const first = sorted.find((t) => t.inbound && t.author !== brand);
  if (first) return first.author;
  const brandTweet = sorted.find((t) => !t.inbound);
  if (!brandTweet) return undefined;
  for (const m of brandTweet.text.matchAll(MENTION)) {
    if (!brands.has(m[1]!.toLowerCase())) return m[1]!;
  }
  return undefined;
}

export async function* readTwcs(path: string, opts: ReadOptions = {}): AsyncGenerator<ReadBatch> {
  checkOptions(opts);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const r = await readTwcsFile(path);
  const total = r.totalBytes;
  let i = 0;
  let j = 0;
  // Items and rejects in file order, so a batch covers a contiguous stretch of the file.
  while (i < r.items.length || j < r.rejects.length || (i === 0 && j === 0)) {
    const batch: ReadBatch = { items: [], rejects: [], bytesRead: total, totalBytes: total };
    while (
      batch.items.length + batch.rejects.length < batchSize &&
      (i < r.items.length || j < r.rejects.length)
    ) {
      if (j >= r.rejects.length || (i < r.items.length && r.items[i]!.line <= r.rejects[j]!.line))
        batch.items.push(r.items[i++]!);
      else batch.rejects.push(r.rejects[j++]!);
    }
    yield batch;
    if (i >= r.items.length && j >= r.rejects.length) break;
  }
}
