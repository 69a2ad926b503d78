/**
 * When the live facts are refreshed. A refresh recomputes every thread of each customer touched
 * since the last one, so its cost grows with the customers touched, not the events — under a
 * burst, refreshing less often does the same work for many more events. Facts are refreshed
 * shortly after an accept, coalescing a burst into one refresh, so that a report sees an accepted
 * event within `visibleWithinMs` (1 s). The wait before the next refresh follows the last
 * refresh's duration (see `refreshDelay`), capped so that every accepted event still shows within
 * the budget.
 *
 * A refresh clears only the dirty marks as it read them (src/store/bulk.ts `clearMarks`), so it
 * may run beside the accepts: in the server it has a thread and a connection of its own
 * (refresh-worker.ts); with the writer in the HTTP thread, it takes turns with the accepts.
 */
import { LiveThreads } from '../ingest/live-threads.ts';
import { refreshFacts } from '../ingest/pipeline.ts';
import type { Store } from '../store/db.ts';
import type { RefreshGate } from './gate.ts';

export interface RefreshStats {
  refreshes: number;
  /** Duration of the last refresh (ms). */
  lastMs: number;
  /** When the last refresh ended (epoch ms), null before the first. */
  lastAt: number | null;
  /** All refreshes since the start (ms): against the elapsed time, the share spent on them. */
  totalMs: number;
  /** The wait now used between an accept and the refresh that shows it (ms). */
  delayMs: number;
  lastError: string | null;
}

export interface RefreshPolicy {
  /** The shortest wait between an accept and the refresh (ms); also the wait when idle. */
  refreshDelayMs?: number;
  /** An accepted event shows in reports within this (ms). */
  visibleWithinMs?: number;
}

/** Time kept for the report itself when deciding the wait (ms). */
const REPORT_MARGIN_MS = 150;

/**
 * Under load, the wait is this many times the last refresh: refreshes take at most a third of
 * their thread, and their write transactions hold the accepts back that long at most.
 */
const REFRESH_SPACING = 2;

/**
 * The wait before the next refresh, given how long the last one took: `REFRESH_SPACING` times
 * it, never under `minMs`, and never so long that an event committed just as a refresh began
 * misses the budget: it waits that refresh, the delay, then its own refresh, and the report that
 * shows it may wait out the next refresh (reports and refreshes take turns, gate.ts) — three
 * refreshes, the delay and the report itself.
 */
export function refreshDelay(lastMs: number, minMs: number, visibleWithinMs: number): number {
  const cap = visibleWithinMs - 3 * lastMs - REPORT_MARGIN_MS;
  return Math.round(Math.max(minMs, Math.min(REFRESH_SPACING * lastMs, cap)));
}

export function idleStats(policy: RefreshPolicy): RefreshStats {
  return {
    refreshes: 0,
    lastMs: 0,
    lastAt: null,
    totalMs: 0,
    delayMs: policy.refreshDelayMs ?? 100,
    lastError: null,
  };
}

type Turn = <T>(fn: () => Promise<T>) => Promise<T>;

export class Refresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly minDelayMs: number;
  private readonly visibleWithinMs: number;
  private stats: RefreshStats;
  private recentMs = 0;
  /** The events of the threads refreshed lately (SQLite): a refresh reads only what came since. */
  private readonly threads: LiveThreads | undefined;
  private readonly turn: Turn;

  /**
   * `gate`: the reports that refreshes take turns with. `onRefresh`: told after each refresh.
   * `turn`: what else a refresh takes turns with (the accepts, on a shared connection); by
   * default only the other refreshes.
   */
  constructor(
    private readonly store: Store,
    policy: RefreshPolicy,
    private readonly gate: RefreshGate,
    private readonly onRefresh?: (s: RefreshStats) => void,
    turn?: Turn,
  ) {
    this.minDelayMs = policy.refreshDelayMs ?? 100;
    this.visibleWithinMs = policy.visibleWithinMs ?? 1000;
    this.threads = store.sqlite && new LiveThreads(store.sqlite);
    this.stats = idleStats(policy);
    this.turn = turn ?? ((fn) => this.serial(fn));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /** Events were accepted: refresh after the current wait, unless a refresh is already due. */
  poke(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.turn(() => this.refresh());
    }, this.stats.delayMs);
  }

  /** Refresh now what is due (or, with `always`, whatever is marked), and wait for it. */
  async drain(always = false): Promise<void> {
    if (this.timer || always) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.turn(() => this.refresh());
    }
    await this.running;
  }

  refreshStats(): RefreshStats {
    return { ...this.stats, totalMs: Math.round(this.stats.totalMs) };
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
}
