/**
 * The one writer of a server process. Accepting events and refreshing facts take turns: a refresh
 * clears the dirty marks it read, so an accept in the middle of it would lose its mark. Facts are
 * refreshed shortly after each accept (coalescing a burst into one refresh), so a report sees an
 * accepted event within a fraction of a second.
 */
import { accept, type AcceptResult, recordRejects, refreshFacts } from '../ingest/pipeline.ts';
import { countActivity } from '../ingest/sources.ts';
import type { Reject } from '../model/events.ts';
import { getOrInsert } from '../util/maps.ts';
import type { Store } from '../store/db.ts';

interface Job {
  items: { line: number; raw: unknown }[];
  origin: string;
  sourceId: string;
  extraRejects: Reject[];
  resolve(r: AcceptResult): void;
  reject(e: Error): void;
}

export class Writer {
  private queue: Job[] = [];
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
