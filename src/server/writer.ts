/**
 * The one writer of a server process. Accepting events and refreshing facts take turns: a refresh
 * clears the dirty marks it read, so an accept in the middle of it would lose its mark. Facts are
 * refreshed shortly after each accept (coalescing a burst into one refresh), so a report sees an
 * accepted event within a fraction of a second.
 */
import { accept, type AcceptResult } from '../ingest/pipeline.ts';
import { refreshFacts } from '../ingest/pipeline.ts';
import type { Store } from '../store/db.ts';

export class Writer {
  private tail: Promise<unknown> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** Waiting or running writes: the server refuses new work above its limit. */
  pending = 0;
  lastRefreshError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly refreshDelayMs = 100,
  ) {}

  /** Run `fn` after every write queued before it. */
  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  async accept(
    items: { line: number; raw: unknown }[],
    origin: string,
    sourceId: string,
  ): Promise<AcceptResult> {
    this.pending++;
    try {
      const r = await this.turn(() => accept(this.store, items, origin, sourceId));
      if (r.accepted) this.scheduleRefresh();
      return r;
    } finally {
      this.pending--;
    }
  }

  /** Any other write (counters, rejects) in the same order as the accepts. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.turn(fn);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshing = this.turn(() => refreshFacts(this.store)).then(
        () => {
          this.lastRefreshError = undefined;
        },
        (e: Error) => {
          // The marks stay: the next refresh tries again. Nothing accepted is lost.
          this.lastRefreshError = e.message;
        },
      );
    }, this.refreshDelayMs);
  }

  /** Wait for queued writes and a pending refresh: before closing the store. */
  async drain(): Promise<void> {
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
      await this.turn(() => refreshFacts(this.store)).catch(() => {});
    }
    await this.refreshing;
    await this.tail;
  }
}
