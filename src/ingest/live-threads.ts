/**
 * The events of recently refreshed threads, kept by the live writer (SQLite) from one refresh to
 * the next. A webhook adds a block to a thread that already has dozens; without this, every
 * refresh read and parsed all of them again (70% of the writer's time at 3k events/s), and even
 * listing a thread's blocks costs as much as the refresh saves. Here a refresh reads only the
 * blocks stored since the last one (ids above the highest read), appends them to the threads kept,
 * and reads whole only the threads not kept.
 *
 * A sessionless thread (a customer's chat on a channel, split by idle timeout) grows for as long
 * as the customer writes, and recomputing all of it on every message made a refresh cost as much
 * as the history (2 s a refresh after 300,000 events from 2,000 customers). Of such a thread only
 * the last conversation's events are kept, with the facts of the conversations before it, which
 * no later event can change (sessionise.ts, `sessioniseTail`): a refresh sessionises the last
 * conversation and what came after it. An event that sorts before the last conversation (a
 * late one) makes the thread read whole again; so does a change of settings or identities.
 *
 * That holds while blocks are only appended, by whichever connection (the server's writer, an
 * import in another process): SQLite gives a new block a larger id than any committed before, and
 * writers take turns, so ids are committed in order. Deleting blocks (a merge of a thread's blocks,
 * say) breaks it: SQLite may hand a deleted id out again. A trigger counts every deletion
 * (`event_blocks_epoch`, migration 010), and when the count moved every thread is read whole
 * again. The reads of one refresh run in one read transaction, so a block committed meanwhile is
 * neither missed nor read twice.
 */
import type SQLite from 'better-sqlite3';
import type { CanonicalEvent } from '../model/events.ts';
import { decodeBlock } from './blocks.ts';
import { FactsMemo } from './fact-swap.ts';
import {
  buildThreadFacts,
  compareEvents,
  emptyThreadFacts,
  isSessionlessThread,
  sessioniseTail,
  type ThreadFacts,
} from './sessionise.ts';
import { addFacts, contextKey, type FactsContext, registerAccounts } from './thread-facts.ts';

interface Statements {
  since: SQLite.Statement;
  whole: SQLite.Statement;
  last: SQLite.Statement;
  epoch: SQLite.Statement;
}

interface Kept {
  /**
   * The thread's events; of a sessionless thread once its facts were computed, those of its last
   * conversation on. The first `computed` are sorted; those after arrived since.
   */
  events: CanonicalEvent[];
  computed: number;
  /** Sessionless threads: the facts of the conversations before `events`, and how many. */
  settled: ThreadFacts | null;
  settledCount: number;
}

export class LiveThreads {
  private threads = new Map<string, Kept>();
  private size = 0;
  /** Every block up to this id is in the threads kept (those of their threads that are kept). */
  private seen = 0;
  /** The deletions counted when `seen` was read; undefined before the first read. */
  private epoch: number | undefined;
  /** What the settled facts were computed with (thread-facts.ts `contextKey`). */
  private context: string | undefined;
  private statements: Statements | undefined;
  /** The fact rows last written for the threads kept (fact-swap.ts), forgotten with them. */
  readonly facts = new FactsMemo();

  constructor(
    private readonly db: SQLite.Database,
    private readonly limit = 250_000,
  ) {}

  /** Events kept now, and one for each settled conversation. */
  get events(): number {
    return this.size;
  }

  /**
   * Before a refresh computes facts in `ctx`: facts kept from another context are dropped (a
   * roster import, a merge of agents, new settings).
   */
  useContext(ctx: FactsContext): void {
    const key = contextKey(ctx);
    if (key !== this.context) this.clear();
    this.context = key;
  }

  /**
   * All stored events of each thread asked, as a full read would return them; threads without
   * events are absent. For customer threads (orders), whose events are kept whole. The arrays are
   * the cache's own: read, never modify.
   */
  read(threads: string[]): Map<string, CanonicalEvent[]> {
    this.load(threads);
    const out = new Map<string, CanonicalEvent[]>();
    for (const t of threads) {
      const kept = this.use(t);
      if (kept) out.set(t, kept.events);
    }
    this.evict(out);
    return out;
  }

  /**
   * The facts of these conversation and ticket threads, as buildThreadFacts gives them from all
   * their events; agent accounts met for the first time are registered in `ctx`. Conversation
   * rows of settled conversations are copies: the customer pass sets some of their fields.
   */
  factsOf(threads: string[], ctx: FactsContext): ThreadFacts {
    this.load(threads);
    const inUse = new Map<string, Kept>();
    for (const t of threads) {
      const kept = this.use(t);
      if (!kept) continue;
      inUse.set(t, kept);
      registerAccounts(kept.computed ? kept.events.slice(kept.computed) : kept.events, ctx);
    }
    const out = emptyThreadFacts();
    for (const [t, kept] of inUse) {
      if (!isSessionlessThread(t)) {
        addFacts(out, buildThreadFacts(t, kept.events, ctx));
        kept.computed = kept.events.length;
        continue;
      }
      // The sorted part and the new events: two runs, which the sort merges in one pass.
      const sorted = kept.events.sort(compareEvents);
      const tail = sessioniseTail(t, sorted, kept.settledCount, ctx);
      if (kept.settled) {
        for (const c of kept.settled.conversations) out.conversations.push({ ...c });
        addFacts(out, { ...kept.settled, conversations: [] });
      }
      addFacts(out, tail.settled);
      addFacts(out, tail.last);
      if (tail.conversations > 1) {
        kept.settled ??= emptyThreadFacts();
        addFacts(kept.settled, tail.settled);
        kept.settledCount += tail.conversations - 1;
        kept.events = sorted.slice(tail.lastStart);
        // A settled conversation is counted as one event: its rows take about as much memory.
        this.size -= sorted.length - kept.events.length - (tail.conversations - 1);
      }
      kept.computed = kept.events.length;
    }
    this.evict(inUse);
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

  /** In one read transaction: the blocks stored since the last load, and the threads not kept. */
  private load(threads: string[]): void {
    if (!threads.length) return;
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
          // Earlier than the conversation kept: the settled ones may change, read it all again.
          if (kept.settled && events.some((e) => compareEvents(e, kept.events[0]!) < 0))
            this.forget(r.thread);
          else {
            for (const e of events) kept.events.push(e);
            this.size += events.length;
          }
        }
      const unseen = threads.filter((t) => !this.threads.has(t));
      if (unseen.length) {
        for (const r of st.whole.all(JSON.stringify(unseen)) as { thread: string; events: string }[]) {
          let kept = this.threads.get(r.thread);
          if (!kept) {
            kept = { events: [], computed: 0, settled: null, settledCount: 0 };
            this.threads.set(r.thread, kept);
          }
          const events = decodeBlock(r.events);
          for (const e of events) kept.events.push(e);
          this.size += events.length;
        }
      }
    })();
  }

  /** A thread as used now: the map's order is the order of use, the least recent first. */
  private use(thread: string): Kept | undefined {
    const kept = this.threads.get(thread);
    if (!kept) return undefined;
    this.threads.delete(thread);
    this.threads.set(thread, kept);
    return kept;
  }

  private forget(thread: string): void {
    const kept = this.threads.get(thread);
    if (!kept) return;
    this.threads.delete(thread);
    this.facts.delete(thread);
    this.size -= kept.events.length + kept.settledCount;
  }

  /** Down to the limit, least recently used first; the threads just read stay for this refresh. */
  private evict(inUse: Map<string, unknown>): void {
    for (const t of this.threads.keys()) {
      if (this.size <= this.limit) return;
      if (!inUse.has(t)) this.forget(t);
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
