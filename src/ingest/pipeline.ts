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
import { type Kysely, sql, type Transaction } from 'kysely';
import { type CanonicalEvent, type OrderEvent, type Reject, validateEvent } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import type { Store } from '../store/db.ts';
import { bulkInsert } from '../store/bulk.ts';
import type { Database } from '../store/schema.ts';
import { loadSettings } from '../store/settings.ts';
import { BusinessCalendar } from './business-hours.ts';
import { applyCustomerFacts } from './customer-pass.ts';
import { Identities } from './identities.ts';
import {
  buildThreadFacts,
  greetingMatcher,
  type SessionContext,
  type ThreadFacts,
  threadOf,
} from './sessionise.ts';
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
 * The thread column of an event: its conversation thread; for orders and inquiries, which belong
 * to a customer, `cust|<customer>`; for presence, `presence|<channel>|<account>`.
 */
const CUSTOMER_PREFIX = 'cust|';
const PRESENCE_PREFIX = 'presence|';

function storageKey(e: CanonicalEvent): string {
  const thread = threadOf(e);
  if (thread) return thread;
  if (e.customer) return CUSTOMER_PREFIX + e.customer.id;
  return `${PRESENCE_PREFIX}${e.channel}|${'account' in e ? (e.account ?? '') : ''}`;
}

/**
 * The events of threads that began within one import, kept as they were accepted so that the
 * facts of a bulk import are computed without reading back what was just written (reading and
 * parsing was a quarter of import time). A thread that had events before the import, or that
 * arrives after the cap is reached, is read from the database as usual. Every `accept` of the
 * import must be given the cache, and the refresh that follows it.
 */
export class ImportCache {
  private threads = new Map<string, CanonicalEvent[]>();
  private partial = new Set<string>();
  private size = 0;

  constructor(private readonly limit = 2_000_000) {}

  /** All events of a thread, if this import saw every one of them (partial threads hold none). */
  complete(thread: string): CanonicalEvent[] | undefined {
    return this.threads.get(thread);
  }

  /** After a refresh: the threads' facts exist now, so later batches must not count as their start. */
  clear(): void {
    this.threads.clear();
    this.partial.clear();
    this.size = 0;
  }

  /** The newly stored events of one batch, by thread. */
  async add(tx: Kysely<Database>, added: Map<string, CanonicalEvent[]>): Promise<void> {
    const unseen: string[] = [];
    for (const thread of added.keys()) {
      if (isConversationThread(thread) && !this.threads.has(thread) && !this.partial.has(thread))
        unseen.push(thread);
    }
    // A thread already registered before this batch had events before this import.
    for (const part of chunks(unseen, 5000)) {
      for (const { thread } of await tx
        .selectFrom('threads')
        .select('thread')
        .where('thread', 'in', part)
        .execute()) {
        this.partial.add(thread);
      }
    }
    for (const [thread, events] of added) {
      if (!isConversationThread(thread) || this.partial.has(thread)) continue;
      const list = this.threads.get(thread);
      if (!list && this.size >= this.limit) {
        this.partial.add(thread);
        continue;
      }
      if (list) for (const e of events) list.push(e);
      else this.threads.set(thread, events.slice());
      this.size += events.length;
    }
  }
}

function isConversationThread(thread: string): boolean {
  return !thread.startsWith(CUSTOMER_PREFIX) && !thread.startsWith(PRESENCE_PREFIX);
}

/** Every conversation thread with its customer; a customer learnt later fills in an unknown one. */
async function registerThreads(tx: Kysely<Database>, owners: Map<string, string | null>): Promise<void> {
  const rows = [...owners].map(([thread, customer_id]) => ({ thread, customer_id }));
  for (const part of chunks(rows, 5000)) {
    await tx
      .insertInto('threads')
      .values(part)
      .onConflict((oc) =>
        oc
          .column('thread')
          .doUpdateSet({ customer_id: sql`coalesce(threads.customer_id, excluded.customer_id)` }),
      )
      .execute();
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
  const rejects: Reject[] = [];
  const ids: Database['event_ids'][] = [];
  const valid: CanonicalEvent[] = [];
  const validItem: number[] = [];
  const outcomes = new Array<Outcome>(items.length);
  const seen = new Set<string>();
  let duplicates = 0;
  for (let n = 0; n < items.length; n++) {
    const { line, raw } = items[n]!;
    const r = validateEvent(raw);
    if (!r.ok) {
      rejects.push({ file, line, reason: r.reason, raw: safeRaw(raw) });
      outcomes[n] = 'rejected';
      continue;
    }
    const e = r.event;
    const source = e.source ?? defaultSource;
    const key = `${source}\u0000${e.id}`;
    if (seen.has(key)) {
      duplicates++;
      outcomes[n] = 'duplicate';
      continue;
    }
    seen.add(key);
    validItem.push(n);
    valid.push(e.source === source ? e : { ...e, source });
    ids.push({ source, ext_id: e.id });
  }
  let inserted = 0;
  await store.db.transaction().execute(async (tx) => {
    const added = await bulkInsert(store, tx, 'event_ids', ids, ['source', 'ext_id']);
    const byThread = new Map<string, CanonicalEvent[]>();
    const owners = new Map<string, string | null>();
    for (let i = 0; i < valid.length; i++) {
      outcomes[validItem[i]!] = added[i] ? 'accepted' : 'duplicate';
      if (!added[i]) continue;
      inserted++;
      const e = valid[i]!;
      const thread = storageKey(e);
      getOrInsert(byThread, thread, () => []).push(e);
      if (isConversationThread(thread) && !owners.get(thread)) owners.set(thread, e.customer?.id ?? null);
    }
    const now = Date.now();
    await bulkInsert(
      store,
      tx,
      'event_blocks',
      [...byThread].map(([thread, events]) => ({ thread, events: JSON.stringify(events), received_at: now })),
    );
    if (cache) await cache.add(tx, byThread);
    await bulkInsert(
      store,
      tx,
      'dirty_threads',
      [...byThread.keys()].filter((t) => !t.startsWith(PRESENCE_PREFIX)).map((thread) => ({ thread })),
    );
    await registerThreads(tx, owners);
    if (rejects.length) await recordRejects(store, rejects, tx);
  });
  return { accepted: inserted, duplicates: duplicates + valid.length - inserted, rejects, outcomes };
}

export function safeRaw(raw: unknown): string | undefined {
  try {
    const s = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return s === undefined ? undefined : s.slice(0, 2000);
  } catch {
    return undefined;
  }
}

/** Rejected records are kept with their reasons (re-importing the same file does not repeat them). */
export async function recordRejects(
  store: Store,
  rejects: Reject[],
  tx: Kysely<Database> = store.db,
): Promise<void> {
  const at = Date.now();
  const rows = rejects.map((r) => ({ file: r.file, line: r.line, reason: r.reason, raw: r.raw ?? null, at }));
  await bulkInsert(store, tx, 'rejects', rows);
}

export type RefreshProgress = (done: number, total: number) => void;

/** Recompute the facts of every dirty thread. Returns how many threads were recomputed. */
export async function refreshFacts(
  store: Store,
  onProgress?: RefreshProgress,
  settingsIn?: Settings,
  cache?: ImportCache,
): Promise<number> {
  const dirty = (await store.db.selectFrom('dirty_threads').select('thread').execute()).map((r) => r.thread);
  if (!dirty.length) return 0;
  const settings = settingsIn ?? (await loadSettings(store));
  const ctx = await sessionContext(store, settings);

  const customers = new Set<string>();
  const loose = new Set<string>();
  const threadDirty: string[] = [];
  for (const d of dirty) {
    if (d.startsWith(CUSTOMER_PREFIX)) customers.add(d.slice(CUSTOMER_PREFIX.length));
    else threadDirty.push(d);
  }
  for (const chunk of chunks(threadDirty, 2000)) {
    const rows = await store.db
      .selectFrom('threads')
      .select(['thread', 'customer_id'])
      .where('thread', 'in', chunk)
      .execute();
    const withCustomer = new Set<string>();
    for (const r of rows) {
      if (!r.customer_id) continue;
      customers.add(r.customer_id);
      withCustomer.add(r.thread);
    }
    for (const t of chunk) if (!withCustomer.has(t)) loose.add(t);
  }

  const total = dirty.length;
  let done = 0;
  const finished = new Set<string>();
  for (const custChunk of chunks([...customers], 1000)) {
    const threadRows = await selectIn(store.db, custChunk, (db, part) =>
      db.selectFrom('threads').select('thread').where('customer_id', 'in', part).execute(),
    );
    const threads = threadRows.map((r) => r.thread).filter((t) => !finished.has(t));
    for (const t of threads) finished.add(t);
    await recompute(store, ctx, threads, custChunk, cache);
    done += custChunk.length;
    onProgress?.(Math.min(done, total), total);
  }
  for (const chunk of chunks(
    [...loose].filter((t) => !finished.has(t)),
    2000,
  )) {
    await recompute(store, ctx, chunk, [], cache);
    done += chunk.length;
    onProgress?.(Math.min(done, total), total);
  }
  // Whatever is still marked (threads with no events left) has nothing to compute.
  for (const part of chunks(dirty, 5000))
    await store.db.deleteFrom('dirty_threads').where('thread', 'in', part).execute();
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

async function sessionContext(
  store: Store,
  settings: Settings,
): Promise<SessionContext & { identities: Identities }> {
  const identities = await Identities.load(store);
  const org = new BusinessCalendar(settings.businessHours, settings.timezone);
  const byGroup = new Map<string, BusinessCalendar>();
  for (const [group, hours] of Object.entries(settings.groupBusinessHours))
    byGroup.set(group, new BusinessCalendar(hours, settings.timezone));
  return {
    identities,
    settings,
    greeting: greetingMatcher(settings.filters.greetingPatterns),
    agentFor: (channel, account) => identities.agentFor(channel, account),
    calendarFor: (agentId) => {
      if (agentId === null || byGroup.size === 0) return org;
      const group = identities.agents.get(agentId)?.group;
      return (group && byGroup.get(group)) || org;
    },
  };
}

async function recompute(
  store: Store,
  ctx: SessionContext & { identities: Identities },
  threads: string[],
  customers: string[],
  cache?: ImportCache,
): Promise<void> {
  const byThread = new Map<string, CanonicalEvent[]>();
  const stored: string[] = [];
  for (const t of threads) {
    const cached = cache?.complete(t);
    if (cached) byThread.set(t, cached);
    else stored.push(t);
  }
  const rows = await selectIn(store.db, stored, (db, part) =>
    db.selectFrom('event_blocks').select(['thread', 'events']).where('thread', 'in', part).execute(),
  );
  for (const r of rows) {
    const list = getOrInsert(byThread, r.thread, () => []);
    for (const e of JSON.parse(r.events) as CanonicalEvent[]) list.push(e);
  }
  for (const events of byThread.values()) {
    for (const e of events) {
      // Register accounts with their display names before the facts refer to them.
      if ((e.kind === 'message' && e.role === 'agent') || e.kind === 'assignment') {
        ctx.identities.agentFor(e.channel, e.account ?? '(unknown)', e.accountName);
      } else if (e.kind === 'ticket' && e.account) ctx.identities.agentFor(e.channel, e.account);
    }
  }
  const orders: OrderEvent[] = [];
  const orderRows = await selectIn(
    store.db,
    customers.map((c) => CUSTOMER_PREFIX + c),
    (db, part) => db.selectFrom('event_blocks').select('events').where('thread', 'in', part).execute(),
  );
  for (const r of orderRows)
    for (const e of JSON.parse(r.events) as CanonicalEvent[]) if (e.kind === 'order') orders.push(e);
  orders.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));

  const facts: ThreadFacts = { conversations: [], segments: [], responses: [], tags: [], tickets: [] };
  for (const [thread, events] of byThread) {
    const f = buildThreadFacts(thread, events, ctx);
    facts.conversations.push(...f.conversations);
    facts.segments.push(...f.segments);
    facts.responses.push(...f.responses);
    facts.tags.push(...f.tags);
    facts.tickets.push(...f.tickets);
  }
  applyCustomerFacts(facts.conversations, facts.tickets, orders, ctx.settings);
  await ctx.identities.flush();

  await store.db.transaction().execute(async (tx) => {
    const marks = [...threads, ...customers.map((c) => CUSTOMER_PREFIX + c)];
    // Threads that began in this import (from the cache) have no facts yet: nothing to delete.
    for (const part of chunks(stored, 5000)) {
      for (const table of [
        'conversations',
        'segments',
        'responses',
        'conversation_tags',
        'tickets',
      ] as const) {
        await tx.deleteFrom(table).where('thread', 'in', part).execute();
      }
    }
    await bulkInsert(store, tx, 'conversations', facts.conversations);
    await bulkInsert(store, tx, 'segments', facts.segments);
    await bulkInsert(store, tx, 'responses', facts.responses);
    await bulkInsert(store, tx, 'conversation_tags', facts.tags);
    await bulkInsert(store, tx, 'tickets', facts.tickets);
    for (const part of chunks(marks, 5000))
      await tx.deleteFrom('dirty_threads').where('thread', 'in', part).execute();
    // The daily rollups (metrics/rollups.ts) no longer describe the facts: rebuilt on the next report.
    await tx.deleteFrom('rollup_state').execute();
  });
}

function* chunks<T>(list: T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

async function selectIn<R>(
  db: Kysely<Database> | Transaction<Database>,
  values: string[],
  query: (db: Kysely<Database>, part: string[]) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (const part of chunks(values, 5000)) out.push(...(await query(db, part)));
  return out;
}
