/**
 * The one writer of a server process: it stores each request's events (a group commit for the
 * requests that arrive together) and keeps each source's counters. Facts are refreshed after the
 * accepts by a `Refresher` (refresher.ts): in this thread, taking turns with the accepts, or in a
 * thread of its own beside them (writer-thread.ts).
 */
import { accept, type AcceptResult, recordRejects } from '../ingest/pipeline.ts';
import { countActivity } from '../ingest/sources.ts';
import type { Reject } from '../model/events.ts';
import type { Store } from '../store/db.ts';
import { getOrInsert } from '../util/maps.ts';
import { LocalGate, type ReadGate } from './gate.ts';
import { idleStats, type RefreshPolicy, Refresher, type RefreshStats } from './refresher.ts';

export type { RefreshPolicy, RefreshStats } from './refresher.ts';

/** What a request that stores no events still records: its rejects and the source's counters. */
export interface Note {
  sourceId: string;
  rejects: Reject[];
  /** Counted as rejected events; a bad signature is counted apart and rejects no event. */
  rejected: number;
  badSignature?: boolean;
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
  private readonly gate = new LocalGate();
  /** Undefined when the facts are refreshed elsewhere (the server's refresh thread). */
  private readonly refresher: Refresher | undefined;
  private readonly idle: RefreshStats;
  pending = 0;
  /** In the HTTP thread, the writer lives and dies with the server. */
  readonly failure: string | undefined = undefined;

  /**
   * `refreshElsewhere`: this writer only stores (in the writer thread, beside a refresh thread);
   * otherwise it refreshes the facts itself, in turn with the accepts.
   */
  constructor(
    private readonly store: Store,
    policy: RefreshPolicy = {},
    o: { refreshElsewhere?: boolean } = {},
  ) {
    this.idle = idleStats(policy);
    this.refresher = o.refreshElsewhere
      ? undefined
      : new Refresher(store, policy, this.gate, undefined, (fn) => this.turn(fn));
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
        if (r.accepted) this.refresher?.poke();
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
    return this.gate.read(fn);
  }

  refreshStats(): RefreshStats {
    return this.refresher?.refreshStats() ?? this.idle;
  }

  async drain(): Promise<void> {
    await this.refresher?.drain();
    await this.tail;
  }

  close(): Promise<void> {
    return this.drain();
  }
}
