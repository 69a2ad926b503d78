/**
 * Ingest: the inbox and the incremental recomputation of facts.
 *
 * 1. `accept` validates raw events, stores the new ones in `events` (a duplicate (source, id) is
 *    dropped by the primary key) and marks their threads dirty in the same transaction, so an
 *    accepted event is never lost and never half-counted.
 * 2. `refreshFacts` recomputes the dirty threads — and all threads of the customers involved,
 *    because first-contact resolution, conversion and repeats look across a customer's threads —
 *    from the stored events, then swaps their facts in one transaction. Arrival order therefore
 *    never matters, and a late event costs only its customer's threads.
 */
import type { Insertable, Kysely } from 'kysely';
import type { CanonicalEvent, OrderEvent, Reject } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import type { Store } from '../store/db.ts';
import {
  bulkInsert,
  clearMarks,
  type DirtyMark,
  insertBlocks,
  insertEventKeys,
  knownThreads,
  markThreads,
  registerThreads,
  whereIn,
} from '../store/bulk.ts';
import type { Database } from '../store/schema.ts';
import { loadSettings } from '../store/settings.ts';
import { decodeBlock, encodeBlock } from './blocks.ts';
import { applyCustomerFacts } from './customer-pass.ts';
import { swapFacts } from './fact-swap.ts';
import type { LiveThreads } from './live-threads.ts';
import { Identities, type IdentitySnapshot, type PendingAgent } from './identities.ts';
import {
  CUSTOMER_PREFIX,
  INVALID,
  isConversationThread,
  PRESENCE_PREFIX,
  type PreparedBatch,
  prepareBatch,
  REPEAT,
} from './prepare.ts';
import type { ThreadFacts } from './sessionise.ts';
import { addFacts, contextFor, type FactsContext, factsOfThreads } from './thread-facts.ts';

export { safeRaw } from './prepare.ts';
import { markRollupsStale, rolledDaysOf } from '../metrics/rollups.ts';
import { isLiveOrigin } from './origins.ts';
import { getOrInsert } from '../util/maps.ts';

export type Outcome = 'accepted' | 'duplicate' | 'rejected';

export interface AcceptResult {
  accepted: number;
  duplicates: number;
  rejects: Reject[];
  /** What became of each item, in the order given: lets a group commit answer each sender. */
  outcomes: Outcome[];
}

/**
 * The events of threads that began within one import, kept as the validated objects that were
 * stored, so that the facts of a bulk import are computed without reading back or decoding what
 * was just written (reading was a quarter of import time; decoding kept text, 5% of a 1M import).
 * A thread that had events before the import, or that arrives after the cap is reached, is read
 * from the database as usual. Every `accept` of the
 * import must be given the cache, and the refresh that follows it.
 */
export class ImportCache {
  private threads = new Map<string, CanonicalEvent[][]>();
  private partial = new Set<string>();
  private size = 0;
  /**
   * An import worker holding the events of the threads it read (import-reader.ts): then only the
   * names of complete threads are kept here, and their facts are asked of the worker.
   */
  remote?: FactsSource;

  constructor(private readonly limit = 2_000_000) {}

  /** Whether the worker holds every event of this thread (it computes its facts). */
  isRemote(thread: string): boolean {
    return this.remote !== undefined && this.threads.has(thread) && !this.partial.has(thread);
  }

  /** All events of a thread, if this import saw every one of them (partial threads hold none). */
  complete(thread: string): CanonicalEvent[] | undefined {
    const blocks = this.threads.get(thread);
    if (!blocks) return undefined;
    return blocks.length === 1 ? blocks[0]! : blocks.flat();
  }

  /** After a refresh: the threads' facts exist now, so later batches must not count as their start. */
  clear(): void {
    this.threads.clear();
    this.partial.clear();
    this.size = 0;
  }

  /** The blocks one batch stored; before the batch registers its threads. */
  async add(store: Store, tx: Kysely<Database>, blocks: NewBlock[]): Promise<void> {
    if (this.remote) {
      // A block the worker did not keep (over its limit) leaves its thread to the database.
      for (const b of blocks)
        if (!b.held) {
          this.partial.add(b.thread);
          this.threads.delete(b.thread);
        }
    }
    const unseen: string[] = [];
    for (const b of blocks) {
      if (isConversationThread(b.thread) && !this.threads.has(b.thread) && !this.partial.has(b.thread))
        unseen.push(b.thread);
    }
    // A thread already registered before this batch had events before this import.
    for (const thread of await knownThreads(store, tx, unseen)) this.partial.add(thread);
    for (const b of blocks) {
      if (!isConversationThread(b.thread) || this.partial.has(b.thread)) continue;
      const list = this.threads.get(b.thread);
      if (!list && this.size >= this.limit) {
        this.partial.add(b.thread);
        continue;
      }
      if (this.remote) {
        if (!list) this.threads.set(b.thread, []);
      } else {
        const events = b.list ?? decodeBlock(b.events);
        if (list) list.push(events);
        else this.threads.set(b.thread, [events]);
      }
      this.size += b.count;
    }
  }
}

/** Validate and store one batch of raw events. `file` names the origin in reject reasons. */
export async function accept(
  store: Store,
  items: { line: number; raw: unknown }[],
  file: string,
  defaultSource = 'import',
  cache?: ImportCache,
): Promise<AcceptResult> {
  return storePrepared(store, prepareBatch(items, file, defaultSource), cache);
}

/**
 * Store a prepared batch (prepare.ts) in one transaction: the event keys decide which events are
 * new; their blocks, the dirty marks and the thread registry go in with them, so an accepted event
 * is never lost and never half-counted.
 */
export async function storePrepared(
  store: Store,
  p: PreparedBatch,
  cache?: ImportCache,
): Promise<AcceptResult> {
  const outcomes = new Array<Outcome>(p.status.length);
  let repeats = 0;
  for (let n = 0; n < p.status.length; n++) {
    const s = p.status[n];
    if (s === INVALID) outcomes[n] = 'rejected';
    else if (s === REPEAT) {
      outcomes[n] = 'duplicate';
      repeats++;
    }
  }
  let inserted = 0;
  await store.db.transaction().execute(async (tx) => {
    const added = await insertEventKeys(store, tx, p.sources, p.ids);
    for (let i = 0; i < added.length; i++) {
      outcomes[p.validItem[i]!] = added[i] ? 'accepted' : 'duplicate';
      if (added[i]) inserted++;
    }
    const blocks = inserted === p.ids.length ? wholeBlocks(p) : newPartsOfBlocks(p, added);
    await insertBlocks(
      store,
      tx,
      blocks.map((b) => b.thread),
      blocks.map((b) => b.events),
      Date.now(),
    );
    if (cache) await cache.add(store, tx, blocks);
    await markThreads(
      store,
      tx,
      blocks.filter((b) => !b.thread.startsWith(PRESENCE_PREFIX)).map((b) => b.thread),
    );
    const conversations = blocks.filter((b) => isConversationThread(b.thread));
    await registerThreads(
      store,
      tx,
      conversations.map((b) => b.thread),
      conversations.map((b) => b.owner),
    );
    if (p.rejects.length) await recordRejects(store, p.rejects, tx);
  });
  return { accepted: inserted, duplicates: repeats + p.ids.length - inserted, rejects: p.rejects, outcomes };
}

interface NewBlock {
  thread: string;
  events: string;
  count: number;
  owner: string | null;
  /** Whether the import worker keeps this block's events (see PreparedBlock.held). */
  held: boolean;
  /** The events as objects, when prepared in line (see PreparedBlock.list). */
  list?: CanonicalEvent[];
}

/** Facts computed away from this thread, with the agents made for unknown accounts there. */
export interface RemoteFacts {
  facts: ThreadFacts;
  agents: PendingAgent[];
}

/** Who computes the facts of the threads an import worker holds. */
export interface FactsSource {
  setContext(settings: Settings, identities: IdentitySnapshot): void;
  facts(threads: string[]): Promise<RemoteFacts>;
}

function wholeBlocks(p: PreparedBatch): NewBlock[] {
  return p.blocks.map((b) => ({
    thread: b.thread,
    events: b.events,
    count: b.members.length,
    owner: b.owner,
    held: b.held,
    ...(b.list ? { list: b.list } : {}),
  }));
}

/** Some events were stored before: each block keeps only its new events (rare: a partial re-import). */
function newPartsOfBlocks(p: PreparedBatch, added: boolean[]): NewBlock[] {
  const out: NewBlock[] = [];
  for (const b of p.blocks) {
    const fresh = b.members.filter((i) => added[i]).length;
    if (fresh === 0) continue;
    if (fresh === b.members.length) {
      out.push({ ...b, count: fresh });
      continue;
    }
    const events = (b.list ?? decodeBlock(b.events)).filter((_, k) => added[b.members[k]!]);
    out.push({
      thread: b.thread,
      events: encodeBlock(events),
      list: events,
      count: events.length,
      owner: events.find((e) => e.customer)?.customer?.id ?? null,
      // The worker's copy has events that were not stored: the thread is read from the database.
      held: false,
    });
  }
  return out;
}

/** Rejected records are kept with their reasons (re-importing the same file does not repeat them). */
export async function recordRejects(
  store: Store,
  rejects: Reject[],
  tx: Kysely<Database> = store.db,
): Promise<void> {
  const at = Date.now();
  const rows: Insertable<Database['rejects']>[] = [];
  const live = new Map<string, Reject[]>();
  for (const r of rejects)
    if (isLiveOrigin(r.file)) getOrInsert(live, r.file, () => []).push(r);
    else rows.push({ file: r.file, line: r.line, reason: r.reason, raw: r.raw ?? null, at });
  // A file's rejects are keyed by their line, so importing it again records nothing twice. A live
  // source's requests have no lines of their own: each reject gets the source's next number (the
  // event's place in its request goes into the reason), and the oldest beyond the last
  // LIVE_REJECTS_KEPT are dropped, so a sender of bad requests cannot fill the database.
  for (const [file, list] of live) {
    const last = await tx
      .selectFrom('rejects')
      .select((eb) => eb.fn.max('line').as('line'))
      .where('file', '=', file)
      .executeTakeFirst();
    let line = Number(last?.line ?? 0);
    for (const r of list)
      rows.push({
        file,
        line: ++line,
        reason: r.line > 0 ? `event ${r.line}: ${r.reason}` : r.reason,
        raw: r.raw ?? null,
        at,
      });
    if (line > LIVE_REJECTS_KEPT)
      await tx
        .deleteFrom('rejects')
        .where('file', '=', file)
        .where('line', '<=', line - LIVE_REJECTS_KEPT)
        .execute();
  }
  await bulkInsert(store, tx, 'rejects', rows);
}

/** Rejects kept per live source (webhooks, pulls); its counters still count every one. */
export const LIVE_REJECTS_KEPT = 10_000;

/** Customers (or loose threads) recomputed per transaction. */
const REFRESH_CUSTOMERS = 5000;
/**
 * The same for the live refresh: the server's accepts wait while a refresh transaction writes
 * (SQLite has one writer at a time), so it writes in short transactions.
 */
const LIVE_REFRESH_CUSTOMERS = 256;

export type RefreshProgress = (done: number, total: number) => void;

/**
 * Recompute the facts of every dirty thread. Returns how many threads were recomputed. `cache`:
 * an import's new threads (ImportCache); `live`: the live writer's threads kept between refreshes.
 */
export async function refreshFacts(
  store: Store,
  onProgress?: RefreshProgress,
  settingsIn?: Settings,
  cache?: ImportCache,
  live?: LiveThreads,
): Promise<number> {
  const marks = await store.db.selectFrom('dirty_threads').select(['thread', 'gen']).execute();
  if (!marks.length) return 0;
  const gens = new Map(marks.map((m) => [m.thread, m.gen]));
  const dirty = [...gens.keys()];
  const settings = settingsIn ?? (await loadSettings(store));
  const ctx = await sessionContext(store, settings);
  live?.useContext(ctx);

  const customers = new Set<string>();
  const loose = new Set<string>();
  const threadDirty: string[] = [];
  for (const d of dirty) {
    if (d.startsWith(CUSTOMER_PREFIX)) customers.add(d.slice(CUSTOMER_PREFIX.length));
    else threadDirty.push(d);
  }
  for (const chunk of chunks(threadDirty, 20_000)) {
    const rows = await whereIn<{ thread: string; customer_id: string | null }>(
      store,
      store.db,
      'select thread, customer_id from threads where thread',
      chunk,
    );
    const withCustomer = new Set<string>();
    for (const r of rows) {
      if (!r.customer_id) continue;
      customers.add(r.customer_id);
      withCustomer.add(r.thread);
    }
    for (const t of chunk) if (!withCustomer.has(t)) loose.add(t);
  }

  const total = dirty.length;
  const finished = new Set<string>();
  const jobs: { threads: string[]; customers: string[] }[] = [];
  // Large chunks: each is one transaction, and each commit rewrites the index pages it touched.
  const perJob = live ? LIVE_REFRESH_CUSTOMERS : REFRESH_CUSTOMERS;
  for (const custChunk of chunks([...customers], perJob)) {
    const threadRows = await whereIn<{ thread: string }>(
      store,
      store.db,
      'select thread from threads where customer_id',
      custChunk,
    );
    const threads = threadRows.map((r) => r.thread).filter((t) => !finished.has(t));
    for (const t of threads) finished.add(t);
    jobs.push({ threads, customers: custChunk });
  }
  for (const chunk of chunks(
    [...loose].filter((t) => !finished.has(t)),
    perJob,
  ))
    jobs.push({ threads: chunk, customers: [] });

  // With an import worker holding the new threads, it computes the facts of the next chunk while
  // this thread writes the current one.
  // Each job clears the marks of its threads and customers; the rest are cleared at the end.
  const handled = new Set<string>();
  for (const j of jobs) {
    for (const t of j.threads) handled.add(t);
    for (const c of j.customers) handled.add(CUSTOMER_PREFIX + c);
  }
  const remote = cache?.remote;
  if (remote) remote.setContext(settings, ctx.identities.snapshot());
  const ask = (j: (typeof jobs)[number] | undefined) =>
    j && remote ? remote.facts(j.threads.filter((t) => cache!.isRemote(t))) : undefined;
  let next = ask(jobs[0]);
  let done = 0;
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const mine = next;
    next = ask(jobs[i + 1]);
    await recompute(store, ctx, job.threads, job.customers, gens, cache, mine, live);
    done += job.customers.length || job.threads.length;
    onProgress?.(Math.min(done, total), total);
  }
  // Whatever is still marked as it was read (threads with no events left) has nothing to compute.
  await clearMarks(
    store,
    store.db,
    marksOf(
      dirty.filter((d) => !handled.has(d)),
      gens,
    ),
  );
  cache?.clear();
  return total;
}

/** Mark every thread dirty: after a change of settings that facts depend on. */
export async function markAllDirty(store: Store): Promise<number> {
  const threads = await store.db.selectFrom('threads').select('thread').execute();
  await store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('dirty_threads').execute();
    await bulkInsert(
      store,
      tx,
      'dirty_threads',
      threads.map((t) => ({ thread: t.thread })),
    );
  });
  return threads.length;
}

async function sessionContext(store: Store, settings: Settings): Promise<FactsContext> {
  return contextFor(settings, await Identities.load(store));
}

async function recompute(
  store: Store,
  ctx: FactsContext,
  threads: string[],
  customers: string[],
  gens: Map<string, number>,
  cache?: ImportCache,
  remote?: Promise<RemoteFacts>,
  live?: LiveThreads,
): Promise<void> {
  const byThread = new Map<string, CanonicalEvent[]>();
  const stored: string[] = [];
  for (const t of threads) {
    if (remote && cache?.isRemote(t)) continue;
    const cached = cache?.complete(t);
    if (cached) byThread.set(t, cached);
    else stored.push(t);
  }
  const customerThreads = customers.map((c) => CUSTOMER_PREFIX + c);
  const orders: OrderEvent[] = [];
  let facts: ThreadFacts;
  if (live) {
    // The live writer's threads (SQLite): only the blocks stored since its last refresh are read,
    // and only the conversations they can change are computed again.
    facts = live.factsOf(stored, ctx);
    for (const events of live.read(customerThreads).values())
      for (const e of events) if (e.kind === 'order') orders.push(e);
  } else {
    const rows = await whereIn<{ thread: string; events: string }>(
      store,
      store.db,
      'select thread, events from event_blocks where thread',
      stored,
    );
    for (const r of rows) {
      const list = getOrInsert(byThread, r.thread, () => []);
      for (const e of decodeBlock(r.events)) list.push(e);
    }
    const orderRows = await whereIn<{ events: string }>(
      store,
      store.db,
      'select events from event_blocks where thread',
      customerThreads,
    );
    for (const r of orderRows) for (const e of decodeBlock(r.events)) if (e.kind === 'order') orders.push(e);
    facts = factsOfThreads(byThread, ctx);
  }
  orders.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));

  if (remote) {
    // Threads held by the import worker: computed there while this thread wrote the previous chunk.
    const r = await remote;
    addFacts(facts, r.facts);
    for (const a of r.agents) ctx.identities.agentFor(a.platform, a.account, a.name);
  }
  applyCustomerFacts(facts.conversations, facts.tickets, orders, ctx.settings);
  await ctx.identities.flush();

  const remember = await store.db.transaction().execute(async (tx) => {
    const rolledDays = await rolledDaysOf(store, tx, stored);
    // Threads that began in this import (from the cache) have no facts yet: nothing to delete.
    const swapped = await swapFacts(store, tx, stored, facts, live?.facts, (t) => live?.has(t) ?? false);
    await clearMarks(store, tx, marksOf([...threads, ...customerThreads], gens));
    // The rollups of the days these facts counted on, and count on now, are rebuilt by the next report.
    await markRollupsStale(tx, rolledDays, facts);
    return swapped;
  });
  remember();
}

/** The marks among these threads, as the refresh read them. */
function marksOf(threads: string[], gens: Map<string, number>): DirtyMark[] {
  const out: DirtyMark[] = [];
  for (const thread of threads) {
    const gen = gens.get(thread);
    if (gen !== undefined) out.push({ thread, gen });
  }
  return out;
}

function* chunks<T>(list: T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}
