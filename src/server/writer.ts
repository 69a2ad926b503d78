/**
 * The one writer of a server process. Accepting events and refreshing facts take turns: a refresh
 * clears the dirty marks it read, so an accept in the middle of it would lose its mark. Facts are
 * refreshed shortly after an accept, coalescing a burst into one refresh, so that a report sees an
 * accepted event within `visibleWithinMs` (1 s).
 *
 * How often: a refresh recomputes every thread of each customer touched since the last one, so
 * its cost grows with the customers touched, not the events — under a burst, refreshing less often
 * does the same work for many more events. The wait before the next refresh follows the last
 * refresh's duration (see `refreshDelay`), capped so that every accepted event still shows within
 * the budget.
 */
import { accept, type AcceptResult, recordRejects, refreshFacts } from '../ingest/pipeline.ts';
import { LiveThreads } from '../ingest/live-threads.ts';
import { countActivity } from '../ingest/sources.ts';
import type { Reject } from '../model/events.ts';
import type { Store } from '../store/db.ts';
import { getOrInsert } from '../util/maps.ts';
import { LocalGate, type ReadGate, type RefreshGate } from './gate.ts';

/** What a request that stores no events still records: its rejects and the source's counters. */
export interface Note {
  sourceId: string;
  rejects: Reject[];
  /** Counted as rejected events; a bad signature is counted apart and rejects no event. */
  rejected: number;
  badSignature?: boolean;
}

export interface RefreshStats {
  refreshes: number;
  /** Duration of the last refresh (ms). */
  lastMs: number;
  /** When the last refresh ended (epoch ms), null before the first. */
  lastAt: number | null;
  /** All refreshes since the start (ms): against the elapsed time, the writer's share spent on them. */
  totalMs: number;
  /** The wait now used between an accept and the refresh that shows it (ms). */
  delayMs: number;
  lastError: string | null;
}

/** The writer as the HTTP routes see it, whether it runs in their thread or in its own. */
export interface LiveWriter extends ReadGate {
  /** Requests waiting or being written: the server refuses new work above its limit. */
  readonly pending: number;
  accept(
    items: { line: number; raw: unknown }[],
    origin: string,
    sourceId: string,
    extraRejects?: Reject[],
  ): Promise<AcceptResult>;
  note(n: Note): Promise<void>;
  refreshStats(): RefreshStats;
  /** Set when the writer can store nothing more (its thread died): the server is unhealthy. */
  readonly failure: string | undefined;
  /** Finish the writes in hand and refresh the facts. */
  drain(): Promise<void>;
  /** Drain, then release what the writer owns (its thread and store; the caller's store stays open). */
  close(): Promise<void>;
}

export interface RefreshPolicy {
  /** The shortest wait between an accept and the refresh (ms); also the wait when idle. */
  refreshDelayMs?: number;
  /** An accepted event shows in reports within this (ms). */
  visibleWithinMs?: number;
}

/** Time kept for the report itself when deciding the wait (ms). */
const REPORT_MARGIN_MS = 150;

/** Under load, the wait is this many times the last refresh: at most a third of the writer's time. */
const REFRESH_SPACING = 2;

/**
 * The wait before the next refresh, given how long the last one took: `REFRESH_SPACING` times
 * it, never under `minMs`, and never so long that an event committed just as a refresh began
 * misses the budget (it waits that refresh, the delay, then its own refresh and the report).
 */
export function refreshDelay(lastMs: number, minMs: number, visibleWithinMs: number): number {
  const cap = visibleWithinMs - 2 * lastMs - REPORT_MARGIN_MS;
  return Math.round(Math.max(minMs, Math.min(REFRESH_SPACING * lastMs, cap)));
}

interface Job {
  items: { line: number; raw: unknown }[];
  origin: string;
  sourceId: string;
  extraRejects: Reject[];
  resolve(r: AcceptResult): void;
  reject(e: Error): void;
}

export class Writer implements LiveWriter {
  private queue: Job[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly minDelayMs: number;
  private readonly visibleWithinMs: number;
  private readonly gate: RefreshGate & Partial<ReadGate>;
  private stats: RefreshStats;
  private recentMs = 0;
  /** The events of the threads refreshed lately (SQLite): a refresh reads only what came since. */
  private readonly threads: LiveThreads | undefined;
  pending = 0;
  /** In the HTTP thread, the writer lives and dies with the server. */
  readonly failure: string | undefined = undefined;

  /**
   * `gate`: whom refreshes take turns with; by default the reports of this thread (`read`).
   * `onRefresh`: told after each refresh, e.g. the HTTP thread when the writer has its own.
   */
  constructor(
    private readonly store: Store,
    policy: RefreshPolicy = {},
    gate?: RefreshGate,
    private readonly onRefresh?: (s: RefreshStats) => void,
  ) {
    this.minDelayMs = policy.refreshDelayMs ?? 100;
    this.visibleWithinMs = policy.visibleWithinMs ?? 1000;
    this.gate = gate ?? new LocalGate();
    this.threads = store.sqlite && new LiveThreads(store.sqlite);
    this.stats = {
      refreshes: 0,
      lastMs: 0,
      lastAt: null,
      totalMs: 0,
      delayMs: this.minDelayMs,
      lastError: null,
    };
  }

  /** Run `fn` after every write queued before it. */
  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Store one request's events. Requests that arrive while the writer is busy are committed
   * together in one transaction (a group commit), and each is answered with its own outcome.
   * `extraRejects` (what the connector could not parse) are kept in the same turn.
   */
  accept(
    items: { line: number; raw: unknown }[],
    origin: string,
    sourceId: string,
    extraRejects: Reject[] = [],
  ): Promise<AcceptResult> {
    this.pending++;
    return new Promise<AcceptResult>((resolve, reject) => {
      this.queue.push({ items, origin, sourceId, extraRejects, resolve, reject });
      if (this.queue.length === 1) void this.turn(() => this.flush());
    }).finally(() => {
      this.pending--;
    });
  }

  private async flush(): Promise<void> {
    const jobs = this.queue.splice(0);
    const groups = new Map<string, Job[]>();
    for (const j of jobs) getOrInsert(groups, `${j.origin}\u0000${j.sourceId}`, () => []).push(j);
    for (const group of groups.values()) {
      const { origin, sourceId } = group[0]!;
      try {
        const r = await accept(
          this.store,
          group.flatMap((j) => j.items),
          origin,
          sourceId,
        );
        const extra = group.flatMap((j) => j.extraRejects);
        if (extra.length) await recordRejects(this.store, extra);
        await countActivity(
          this.store.db,
          sourceId,
          { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejects.length + extra.length },
          r.accepted ? Date.now() : null,
        );
        if (r.accepted) this.scheduleRefresh();
        let at = 0;
        let rejectAt = 0;
        for (const j of group) {
          const own: AcceptResult = { accepted: 0, duplicates: 0, rejects: [], outcomes: [] };
          for (let i = 0; i < j.items.length; i++, at++) {
            const outcome = r.outcomes[at]!;
            own.outcomes.push(outcome);
            if (outcome === 'accepted') own.accepted++;
            else if (outcome === 'duplicate') own.duplicates++;
            else own.rejects.push(r.rejects[rejectAt++]!);
          }
          own.rejects.push(...j.extraRejects);
          j.resolve(own);
        }
      } catch (e) {
        // Nothing of this group was committed: each sender is told so and will retry.
        for (const j of group) j.reject(e as Error);
      }
    }
  }

  /** Rejects and counters of a request that stores no events, in turn with the accepts. */
  note(n: Note): Promise<void> {
    return this.turn(async () => {
      if (n.rejects.length) await recordRejects(this.store, n.rejects);
      await countActivity(
        this.store.db,
        n.sourceId,
        { accepted: 0, duplicates: 0, rejected: n.rejected, badSignature: n.badSignature },
        null,
      );
    });
  }

  read<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.gate.read) throw new Error('reports of this writer take turns through the shared gate');
    return this.gate.read(fn);
  }

  refreshStats(): RefreshStats {
    return { ...this.stats, totalMs: Math.round(this.stats.totalMs) };
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshing = this.turn(() => this.refresh());
    }, this.stats.delayMs);
  }

  private async refresh(): Promise<void> {
    const t0 = performance.now();
    try {
      await this.gate.exclusive(() =>
        refreshFacts(this.store, undefined, undefined, undefined, this.threads),
      );
      this.stats.lastError = null;
    } catch (e) {
      // The marks stay: the next refresh tries again. Nothing accepted is lost.
      this.stats.lastError = (e as Error).message;
    }
    this.stats.refreshes++;
    const ms = performance.now() - t0;
    this.stats.lastMs = Math.round(ms);
    this.stats.lastAt = Date.now();
    this.stats.totalMs += ms;
    // A refresh's cost swings with what it finds to do (and, on PostgreSQL, with the round trips):
    // spacing follows a decaying maximum of the recent ones, not the last alone.
    this.recentMs = Math.max(ms, this.recentMs * 0.7);
    this.stats.delayMs = refreshDelay(this.recentMs, this.minDelayMs, this.visibleWithinMs);
    this.onRefresh?.(this.refreshStats());
  }

  async drain(): Promise<void> {
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
      await this.turn(() => this.refresh());
    }
    await this.refreshing;
    await this.tail;
  }

  close(): Promise<void> {
    return this.drain();
  }
}
