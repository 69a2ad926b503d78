/**
 * Pull connectors: platforms whose messages are read with an API rather than pushed (微信客服
 * sync_msg). A pass reads pages from the saved cursor until the platform says there is no more;
 * every page's events are stored (pipeline `accept`) before the cursor moves past it, so a crash
 * re-reads a page — its events then count as duplicates — and never skips one. Calls go through
 * the platform's rate limit, shared by all sources of one account, and failures that may pass
 * are retried with backoff.
 */
import { type AcceptResult, accept, recordRejects, safeRaw } from '../../ingest/pipeline.ts';
import {
  countActivity,
  findSource,
  recordSourceAccounts,
  rejectOrigin,
  SeenAccounts,
  sourceCredentials,
} from '../../ingest/sources.ts';
import type { Reject } from '../../model/events.ts';
import type { Store } from '../../store/db.ts';
import { type SourceCredentials, webhookConnector } from '../webhooks.ts';
import { loadCursor, recordPullError, saveCursor } from './cursor.ts';
import { type Clock, realClock, sharedBucket, type TokenBucket } from './rate-limit.ts';
import { DEFAULT_RETRY, PullError, type RetryPolicy, withRetry } from './retry.ts';
import { WECOM_CALLS_PER_MINUTE, wecomKfClient, wecomKfStream } from './wecom-kf.ts';

export interface PullPage {
  /** The platform's answer, read by the platform connector's `parse`. */
  doc: unknown;
  /** The cursor after this page. */
  next: string | null;
  /** Whether the platform has more right now. */
  more: boolean;
}

export interface PullClient {
  /** One page after `cursor`; `hint.token` is what a callback gave to read sooner (微信客服). */
  page(cursor: string | null, hint?: { token?: string }): Promise<PullPage>;
}

export interface PullConnector {
  platform: string;
  ratePerMinute: number;
  /** The account whose rate limit a source spends (sources of one corp share it). */
  account(creds: SourceCredentials): string;
  /** A source's stream: cursors are kept per (source, stream). */
  stream(creds: SourceCredentials): string;
  client(creds: SourceCredentials, limiter: TokenBucket): PullClient;
}

const seenAccounts = new SeenAccounts();

export const PULL_CONNECTORS: Record<string, PullConnector> = {
  wecom_kf: {
    platform: 'wecom_kf',
    ratePerMinute: WECOM_CALLS_PER_MINUTE,
    account: (c) => `wecom:${c.options.corpId ?? ''}`,
    stream: wecomKfStream,
    client: wecomKfClient,
  },
};

export interface PullOptions {
  /** Overrides the platform's limit (tests; a corp with a lower quota). */
  limiter?: TokenBucket;
  retry?: RetryPolicy;
  clock?: Clock;
  /** What a callback gave to read sooner (微信客服's 10-minute token), for every page of the pass. */
  hint?: { token?: string };
  /** Stop after this many pages (a bounded pass). */
  maxPages?: number;
  log?: (line: string) => void;
  /**
   * How a page's events are stored. Default: in this process, directly. Inside `cspulse serve`,
   * the server's writer, which orders every accept with the fact refreshes.
   */
  accept?: Acceptor;
}

export type Acceptor = (
  items: { line: number; raw: unknown }[],
  origin: string,
  sourceId: string,
  extraRejects: Reject[],
) => Promise<AcceptResult>;

/** Store a page as the server's writer would: events, the parser's rejects, the monitor's counters. */
export function acceptDirectly(store: Store): Acceptor {
  return async (items, origin, sourceId, extraRejects) => {
    const r = await accept(store, items, origin, sourceId);
    if (extraRejects.length) await recordRejects(store, extraRejects);
    let last: number | null = null;
    for (const { raw } of items) {
      const ts = (raw as { ts?: unknown }).ts;
      if (typeof ts === 'number' && (last === null || ts > last)) last = ts;
    }
    await countActivity(
      store.db,
      sourceId,
      { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejects.length + extraRejects.length },
      last,
    );
    return r;
  };
}

export interface PullResult {
  sourceId: string;
  stream: string;
  pages: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  cursor: string | null;
}

/** One pass over a pull source: from its saved cursor to the end of what the platform has. */
export async function pullOnce(store: Store, sourceId: string, o: PullOptions = {}): Promise<PullResult> {
  const source = await findSource(store, sourceId);
  if (!source) throw new Error(`no source ${sourceId}`);
  const pull = Object.hasOwn(PULL_CONNECTORS, source.platform) ? PULL_CONNECTORS[source.platform] : undefined;
  const parser = webhookConnector(source.platform);
  if (!pull || !parser)
    throw new Error(
      `${source.platform} sources are not pulled; platforms with a pull: ${Object.keys(PULL_CONNECTORS).join(', ')}`,
    );
  const creds = sourceCredentials(source);
  const stream = pull.stream(creds);
  const limiter = o.limiter ?? sharedBucket(`${pull.platform}|${pull.account(creds)}`, pull.ratePerMinute);
  const clock = o.clock ?? realClock;
  const origin = rejectOrigin(sourceId);
  const result: PullResult = {
    sourceId,
    stream,
    pages: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    cursor: null,
  };
  let cursor = (await loadCursor(store, sourceId, stream))?.cursor ?? null;
  result.cursor = cursor;
  try {
    const client = pull.client(creds, limiter);
    for (;;) {
      const from = cursor;
      const page = await withRetry(
        `${source.platform} ${sourceId} page after ${from ?? '(start)'}`,
        () => client.page(from, o.hint),
        o.retry ?? DEFAULT_RETRY,
        clock,
        (attempt, e, wait) => o.log?.(`retry ${attempt} in ${wait} ms: ${e.message}`),
      );
      const parsed = parser.parse(page.doc);
      const extra = parsed.rejects.map((p) => ({
        file: origin,
        line: 0,
        reason: `${p.at}: ${p.reason}`,
        raw: safeRaw(p.raw),
      }));
      const r = await (o.accept ?? acceptDirectly(store))(
        parsed.events.map((raw, i) => ({ line: i + 1, raw })),
        origin,
        sourceId,
        extra,
      );
      // The monitor lists agent accounts no roster claims, as it does for webhooks.
      const fresh = seenAccounts.fresh(sourceId, parsed.events, r.outcomes);
      await recordSourceAccounts(store.db, sourceId, fresh).catch(() => seenAccounts.forget(sourceId, fresh));
      // Only now, with the page's events stored, does the cursor move past it.
      await saveCursor(store, sourceId, stream, page.next);
      cursor = page.next;
      result.pages++;
      result.accepted += r.accepted;
      result.duplicates += r.duplicates;
      result.rejected += r.rejects.length + extra.length;
      result.cursor = cursor;
      o.log?.(
        `page ${result.pages}: ${r.accepted} accepted, ${r.duplicates} duplicates, ${r.rejects.length + extra.length} rejected`,
      );
      if (!page.more || (o.maxPages !== undefined && result.pages >= o.maxPages)) return result;
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await recordPullError(store, sourceId, stream, message);
    throw e instanceof PullError ? e : new PullError(message, false);
  }
}
