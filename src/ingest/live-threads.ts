/**
 * The events of recently refreshed threads, kept by the live writer (SQLite) from one refresh to
 * the next. A webhook adds a block to a thread that already has dozens; without this, every
 * refresh read and parsed all of them again (70% of the writer's time at 3k events/s), and even
 * listing a thread's blocks costs as much as the refresh saves. Here a refresh reads only the
 * blocks stored since the last one (ids above the highest read), appends them to the threads kept,
 * and reads whole only the threads not kept.
 *
 * That holds while blocks are only appended, by whichever connection (the server's writer, an
 * import in another process): SQLite gives a new block a larger id than any committed before, and
 * writers take turns, so ids are committed in order. Deleting blocks (a merge of a thread's blocks,
 * say) breaks it: SQLite may hand a deleted id out again. A trigger counts every deletion
 * (`event_blocks_epoch`, migration 010), and when the count moved every thread is read whole again. The reads of one refresh run in one read transaction, so a block
 * committed meanwhile is neither missed nor read twice.
 */
import type SQLite from 'better-sqlite3';
import type { CanonicalEvent } from '../model/events.ts';
import { decodeBlock } from './blocks.ts';
import { FactsMemo } from './fact-swap.ts';

interface Statements {
  since: SQLite.Statement;
  whole: SQLite.Statement;
  last: SQLite.Statement;
  epoch: SQLite.Statement;
}

export class LiveThreads {
  private threads = new Map<string, CanonicalEvent[]>();
  private size = 0;
  /** Every block up to this id is in the threads kept (those of their threads that are kept). */
  private seen = 0;
  /** The deletions counted when `seen` was read; undefined before the first read. */
  private epoch: number | undefined;
  private statements: Statements | undefined;
  /** The fact rows last written for the threads kept (fact-swap.ts), forgotten with them. */
  readonly facts = new FactsMemo();

  constructor(
    private readonly db: SQLite.Database,
    private readonly limit = 250_000,
  ) {}

  /** Events kept now. */
  get events(): number {
    return this.size;
  }

  /**
   * All stored events of each thread asked, as a full read would return them; threads without
   * events are absent. The arrays are the cache's own: read, never modify.
   */
  read(threads: string[]): Map<string, CanonicalEvent[]> {
    const out = new Map<string, CanonicalEvent[]>();
    if (!threads.length) return out;
    const st = this.prepare();
    this.db.transaction(() => {
      const epoch = st.epoch.get() as number;
      // The first read, or blocks were deleted: nothing kept can be trusted.
      if (epoch !== this.epoch) {
        this.clear();
        this.seen = (st.last.get() as { id: number | null }).id ?? 0;
        this.epoch = epoch;
      } else
        for (const r of st.since.iterate(this.seen) as Iterable<{
          id: number;
          thread: string;
          events: string;
        }>) {
          this.seen = r.id;
          const kept = this.threads.get(r.thread);
          if (!kept) continue;
          const events = decodeBlock(r.events);
          for (const e of events) kept.push(e);
          this.size += events.length;
        }
      const unseen = threads.filter((t) => !this.threads.has(t));
      if (unseen.length) {
        for (const r of st.whole.all(JSON.stringify(unseen)) as { thread: string; events: string }[]) {
          let kept = this.threads.get(r.thread);
          if (!kept) {
            kept = [];
            this.threads.set(r.thread, kept);
          }
          const events = decodeBlock(r.events);
          for (const e of events) kept.push(e);
          this.size += events.length;
        }
      }
    })();
    for (const t of threads) {
      const kept = this.threads.get(t);
      if (!kept) continue;
      // Re-inserted: the map's order is the order of use, the least recent first.
      this.threads.delete(t);
      this.threads.set(t, kept);
      out.set(t, kept);
    }
    this.evict(out);
    return out;
  }

  /** Whether a thread's events are kept. */
  has(thread: string): boolean {
    return this.threads.has(thread);
  }

  /** Forget every thread. */
  clear(): void {
    this.threads.clear();
    this.facts.clear();
    this.size = 0;
  }

  /** Down to the limit, least recently used first; the threads just read stay for this refresh. */
  private evict(inUse: Map<string, CanonicalEvent[]>): void {
    for (const [t, kept] of this.threads) {
      if (this.size <= this.limit) return;
      if (inUse.has(t)) continue;
      this.threads.delete(t);
      this.facts.delete(t);
      this.size -= kept.length;
    }
    // Still over: the refresh at hand alone is larger than the limit; keep none of it.
    if (this.size > this.limit) this.clear();
  }

  private prepare(): Statements {
    this.statements ??= {
      since: this.db.prepare('select id, thread, events from event_blocks where id > ? order by id'),
      // In id order within a thread, the order they were stored in, as the blocks since are added.
      whole: this.db.prepare(
        'select thread, events from event_blocks where thread in (select value from json_each(?)) order by id',
      ),
      last: this.db.prepare('select max(id) as id from event_blocks'),
      epoch: this.db.prepare('select n from event_blocks_epoch').pluck(),
    };
    return this.statements;
  }
}
