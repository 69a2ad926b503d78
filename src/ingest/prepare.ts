/**
 * The CPU half of accepting a batch: validate each raw event, drop repeats within the batch, and
 * group what is left into the blocks the inbox stores (one JSON array per thread). Pure, and its
 * result is plain data, so a bulk import runs it in a worker thread (import-reader.ts) on the
 * other core while the main thread writes the previous batch; `accept` runs it in line.
 *
 * Whether an event is new can only be known against the database: `storePrepared` (pipeline.ts)
 * decides that and re-cuts the blocks in the rare case some events of a block were stored before.
 */
import { type CanonicalEvent, type Reject, validateEvent } from '../model/events.ts';
import { encodeBlock, sameCustomer } from './blocks.ts';
import { threadOf } from './sessionise.ts';

/** Per item: still to be decided against the database, a repeat within the batch, or invalid. */
export const PENDING = 0;
export const REPEAT = 1;
export const INVALID = 2;

export interface PreparedBlock {
  thread: string;
  /** The block's events (validated, source filled in), in input order, as blocks.ts stores them. */
  events: string;
  /** Indices into `PreparedBatch.ids` of the events in this block, in the same order. */
  members: number[];
  /** First customer id among the block's events (threads record their customer). */
  owner: string | null;
  /** Whether the import worker keeps these events to compute the thread's facts itself. */
  held: boolean;
  /**
   * The same events as objects, when prepared in line: the import cache keeps these rather than
   * decoding `events` again at the refresh (5% of a 1M import's main thread). Not set in the worker,
   * whose batches cross to the main thread by structured clone.
   */
  list?: CanonicalEvent[];
}

export interface PreparedBatch {
  /** Per item of the input: PENDING, REPEAT or INVALID. */
  status: Uint8Array;
  /** The item index of each valid, distinct event (what `sources`/`ids` index). */
  validItem: number[];
  sources: string[];
  ids: string[];
  blocks: PreparedBlock[];
  rejects: Reject[];
}

/**
 * The thread column of an event: its conversation thread; for orders and inquiries, which belong
 * to a customer, `cust|<customer>`; for presence, `presence|<channel>|<account>`.
 */
export const CUSTOMER_PREFIX = 'cust|';
export const PRESENCE_PREFIX = 'presence|';

export function storageKey(e: CanonicalEvent): string {
  const thread = threadOf(e);
  if (thread) return thread;
  if (e.customer) return CUSTOMER_PREFIX + e.customer.id;
  return `${PRESENCE_PREFIX}${e.channel}|${'account' in e ? (e.account ?? '') : ''}`;
}

export function isConversationThread(thread: string): boolean {
  return !thread.startsWith(CUSTOMER_PREFIX) && !thread.startsWith(PRESENCE_PREFIX);
}

export function safeRaw(raw: unknown): string | undefined {
  try {
    const s = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return s === undefined ? undefined : s.slice(0, 2000);
  } catch {
    return undefined;
  }
}

interface Group {
  events: CanonicalEvent[];
  members: number[];
  owner: string | null;
}

/** Validate and group one batch. `file` names the origin in reject reasons. */
export function prepareBatch(
  items: readonly { line: number; raw: unknown }[],
  file: string,
  defaultSource = 'import',
  /** Offered each block (its events, encoded); says whether it keeps them (the import worker does). */
  keep?: (thread: string, block: string, count: number) => boolean,
): PreparedBatch {
  const p = new BatchPreparer(file, defaultSource, keep);
  p.add(items);
  return p.finish();
}

/**
 * A batch prepared as its items are read, a few thousand at a time: each raw object is validated
 * while it is still young, so the garbage collector never copies it. Given a whole 100,000-event
 * batch at once, every raw object lived until the batch was validated, and the young-generation
 * collections copied them all (8.9 s of scavenges in a 1M import).
 */
export class BatchPreparer {
  private status: number[] = [];
  private rejects: Reject[] = [];
  private validItem: number[] = [];
  private sources: string[] = [];
  private ids: string[] = [];
  private groups = new Map<string, Group>();
  /** The ids seen in this batch, per source. */
  private seen = new Map<string, Set<string>>();

  constructor(
    private readonly file: string,
    private readonly defaultSource = 'import',
    private readonly keep?: (thread: string, block: string, count: number) => boolean,
  ) {}

  /** Items read so far. */
  get size(): number {
    return this.status.length;
  }

  add(items: readonly { line: number; raw: unknown }[]): void {
    const { status, groups } = this;
    for (const { line, raw } of items) {
      const r = validateEvent(raw);
      if (!r.ok) {
        this.rejects.push({ file: this.file, line, reason: r.reason, raw: safeRaw(raw) });
        status.push(INVALID);
        continue;
      }
      let e = r.event;
      const source = e.source ?? this.defaultSource;
      let seen = this.seen.get(source);
      if (!seen) {
        seen = new Set();
        this.seen.set(source, seen);
      }
      if (seen.has(e.id)) {
        status.push(REPEAT);
        continue;
      }
      seen.add(e.id);
      if (e.source !== source) e = { ...e, source };
      const index = this.ids.length;
      this.validItem.push(status.length);
      status.push(PENDING);
      this.sources.push(source);
      this.ids.push(e.id);
      const thread = storageKey(e);
      let g = groups.get(thread);
      if (!g) {
        g = { events: [], members: [], owner: null };
        groups.set(thread, g);
      }
      // Every event of a thread names the same customer: one object (and tag list) for them all,
      // up to two objects fewer per event for the import cache to hold and the garbage collector to copy.
      const prev = g.events.length ? g.events[g.events.length - 1]!.customer : undefined;
      if (prev && e.customer && e.customer !== prev && sameCustomer(prev, e.customer)) e.customer = prev;
      g.events.push(e);
      g.members.push(index);
      if (g.owner === null && e.customer) g.owner = e.customer.id;
    }
  }

  finish(): PreparedBatch {
    const blocks: PreparedBlock[] = [];
    const keep = this.keep;
    for (const [thread, g] of this.groups) {
      const events = encodeBlock(g.events);
      if (keep)
        blocks.push({
          thread,
          events,
          members: g.members,
          owner: g.owner,
          held: keep(thread, events, g.events.length),
        });
      else blocks.push({ thread, events, members: g.members, owner: g.owner, held: false, list: g.events });
    }
    const { validItem, sources, ids, rejects } = this;
    return { status: Uint8Array.from(this.status), validItem, sources, ids, blocks, rejects };
  }
}
