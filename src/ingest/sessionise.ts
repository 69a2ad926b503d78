/**
 * Sessionise one thread and compute its facts: a pure function from the thread's canonical events
 * (any arrival order) to conversation, segment and response facts. Re-running it on the same
 * events gives the same facts, which is what makes ingest order-independent and incremental: a
 * late event only re-runs the threads it belongs to. Definitions: METRICS.md and docs/metrics.md.
 */
import type { CanonicalEvent, MessageEvent, TicketEvent } from '../model/events.ts';
import { normaliseRating } from '../model/events.ts';
import { idleTimeoutMs, type Settings } from '../model/settings.ts';
import { localKeys } from '../model/time.ts';
import type { ConversationsTable, ResponsesTable, SegmentsTable, TicketsTable } from '../store/schema.ts';
import type { BusinessCalendar } from './business-hours.ts';

export interface SessionContext {
  settings: Settings;
  /** Agent id for an account on a channel (created beforehand for unknown accounts). */
  agentFor(channel: string, account: string): string;
  /** Business calendar for an agent (their group's, else the organisation's); null → organisation's. */
  calendarFor(agentId: string | null): BusinessCalendar;
  greeting: RegExp;
}

export interface ThreadFacts {
  conversations: ConversationsTable[];
  segments: SegmentsTable[];
  responses: ResponsesTable[];
  tags: { conversation_id: string; thread: string; tag: string }[];
  tickets: TicketsTable[];
}

const KIND_ORDER: Record<string, number> = { assignment: 0, message: 1, close: 2, rating: 3 };
const ROLE_ORDER: Record<string, number> = { customer: 0, bot: 1, agent: 2, system: 3 };

/** Deterministic order: time, then what happens first at the same instant, then id. */
export function compareEvents(a: CanonicalEvent, b: CanonicalEvent): number {
  return (
    a.ts - b.ts ||
    (KIND_ORDER[a.kind] ?? 4) - (KIND_ORDER[b.kind] ?? 4) ||
    (a.kind === 'message' && b.kind === 'message' ? ROLE_ORDER[a.role]! - ROLE_ORDER[b.role]! : 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Thread key of an event; null for events that belong to no conversation (orders, presence). */
export function threadOf(e: CanonicalEvent): string | null {
  if (e.kind === 'ticket') return `ticket|${e.channel}|${e.ticketId}`;
  if (e.kind === 'order' || e.kind === 'presence') return null;
  if (e.conversationId !== undefined) return `${e.channel}|#${e.conversationId}`;
  if (e.customer) return `${e.channel}|@${e.customer.id}`;
  return null;
}

export function greetingMatcher(patterns: readonly string[]): RegExp {
  const alternatives = patterns.map((p) => `(?:${p})`).join('|');
  // A greeting may carry trailing punctuation, spaces or a tilde: "在吗??", "hi~", "你好。"
  return new RegExp(`^\\s*(?:${alternatives || '(?!)'})[\\s!！?？~～。.,，…]*$`, 'iu');
}

/** A conversation under construction: the events that belong to it, in order. */
interface Draft {
  events: CanonicalEvent[];
  closed: boolean;
  lastMessageTs: number;
  /** Index of its first event in the sorted thread. */
  start: number;
}

/** A thread whose conversations the platform names (one conversation, however long). */
export function isNativeThread(thread: string): boolean {
  return thread.includes('|#');
}

/** A thread split into conversations by idle timeout and close: a customer's chat on a channel. */
export function isSessionlessThread(thread: string): boolean {
  return !thread.startsWith('ticket|') && !isNativeThread(thread);
}

/**
 * Split a thread into conversations: native ids as they are, others by idle timeout and close.
 * Each conversation is a run of consecutive events, and where one begins depends only on the
 * events before it, so a later event can change only the last conversation it follows.
 */
function splitConversations(thread: string, events: CanonicalEvent[], settings: Settings): Draft[] {
  const drafts: Draft[] = [];
  const native = isNativeThread(thread);
  let cur: Draft | null = null;
  const idle = idleTimeoutMs(settings, events[0]?.channel ?? '');
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (native) {
      if (!cur) {
        cur = { events: [], closed: false, lastMessageTs: e.ts, start: i };
        drafts.push(cur);
      }
      cur.events.push(e);
      continue;
    }
    const open = cur !== null && !cur.closed && e.ts - cur.lastMessageTs <= idle;
    const recent = cur !== null && e.ts - cur.lastMessageTs <= idle;
    let target: Draft | null;
    switch (e.kind) {
      case 'message':
        // A customer speaking after a close or a silence starts a new conversation; an agent's
        // "anything else?" a minute after the close still belongs to the old one.
        if (e.role === 'customer') target = open ? cur : null;
        else target = recent ? cur : null;
        break;
      case 'assignment':
        target = open ? cur : null;
        break;
      case 'close':
      case 'rating':
        // Closing or rating refers to the latest conversation, however late it arrives.
        target = cur;
        break;
      default:
        target = cur;
    }
    if (!target) {
      if (e.kind === 'close' || e.kind === 'rating') continue; // nothing to close or rate yet
      target = { events: [], closed: false, lastMessageTs: e.ts, start: i };
      drafts.push(target);
      cur = target;
    }
    target.events.push(e);
    if (e.kind === 'message') target.lastMessageTs = Math.max(target.lastMessageTs, e.ts);
    if (e.kind === 'close') target.closed = true;
  }
  return drafts;
}

interface SegmentDraft {
  agentId: string;
  start: number;
  assignedAt: number | null;
  end: number;
  endedBy: 'transfer' | 'close' | 'end';
  agentMessages: number[];
  customerMessages: number;
}

export function buildThreadFacts(
  thread: string,
  unsorted: CanonicalEvent[],
  ctx: SessionContext,
): ThreadFacts {
  const events = [...unsorted].sort(compareEvents);
  const out = emptyThreadFacts();
  if (thread.startsWith('ticket|')) {
    const t = buildTicket(thread, events as TicketEvent[], ctx);
    if (t) out.tickets.push(t);
    return out;
  }
  const drafts = splitConversations(thread, events, ctx.settings);
  drafts.forEach((d, i) => {
    buildConversation(thread, i, d, ctx, out);
  });
  return out;
}

export interface ThreadTail {
  /** Facts of the conversations before the last: no later event can change them. */
  settled: ThreadFacts;
  /** Facts of the last conversation. */
  last: ThreadFacts;
  /** Conversations in all (settled and last). */
  conversations: number;
  /** Index in the events given of the last conversation's first event (0 when there is none). */
  lastStart: number;
}

/**
 * The facts of a sessionless thread's conversations from the one that begins at `sorted[0]` on,
 * numbered from `firstIndex`: what buildThreadFacts gives for those conversations of the whole
 * thread, when the events before `sorted[0]` are its earlier conversations. The live refresh
 * keeps only the last conversation's events and recomputes from there (live-threads.ts).
 */
export function sessioniseTail(
  thread: string,
  sorted: CanonicalEvent[],
  firstIndex: number,
  ctx: SessionContext,
): ThreadTail {
  const settled = emptyThreadFacts();
  const last = emptyThreadFacts();
  const drafts = splitConversations(thread, sorted, ctx.settings);
  drafts.forEach((d, i) => {
    buildConversation(thread, firstIndex + i, d, ctx, i === drafts.length - 1 ? last : settled);
  });
  return { settled, last, conversations: drafts.length, lastStart: drafts.at(-1)?.start ?? 0 };
}

export function emptyThreadFacts(): ThreadFacts {
  return { conversations: [], segments: [], responses: [], tags: [], tickets: [] };
}

function buildConversation(
  thread: string,
  index: number,
  draft: Draft,
  ctx: SessionContext,
  out: ThreadFacts,
): void {
  const { settings } = ctx;
  const tz = settings.timezone;
  const events = draft.events;
  const first = events[0]!;
  const id = `${thread}|${index}`;
  const messages = events.filter((e): e is MessageEvent => e.kind === 'message');
  const customerMsgs = messages.filter((m) => m.role === 'customer');
  const humanMsgs = messages.filter((m) => m.role === 'agent');
  const firstCustomerTs = customerMsgs[0]?.ts ?? null;
  // The last close: a native conversation may be reopened and closed again.
  const closeEvent = events.filter((e) => e.kind === 'close').pop();
  const lastMessageTs = messages.length ? messages[messages.length - 1]!.ts : first.ts;
  const endTs = closeEvent ? Math.max(closeEvent.ts, lastMessageTs) : lastMessageTs;
  const customer = events.find((e) => e.customer)?.customer;
  const tags = new Set<string>();
  for (const e of events) for (const t of e.tags ?? []) tags.add(t);
  for (const t of customer?.tags ?? []) tags.add(t);

  // Bot handoff: when a bot answered before any human, human timings start at the handoff.
  const firstBot = messages.find(
    (m) => m.role === 'bot' && firstCustomerTs !== null && m.ts >= firstCustomerTs,
  );
  const firstHuman = humanMsgs.find((m) => firstCustomerTs !== null && m.ts >= firstCustomerTs);
  let handoffTs: number | null = null;
  if (firstBot && (!firstHuman || firstBot.ts <= firstHuman.ts)) {
    const assign = events.find((e) => e.kind === 'assignment' && e.ts >= firstBot.ts);
    if (assign && (!firstHuman || assign.ts <= firstHuman.ts)) handoffTs = assign.ts;
    else if (firstHuman) {
      // No handoff event: the customer's first message after the bot's last answer before the human.
      const lastBotBefore = messages.filter((m) => m.role === 'bot' && m.ts <= firstHuman.ts).pop()!;
      handoffTs =
        customerMsgs.find((m) => m.ts >= lastBotBefore.ts && m.ts <= firstHuman.ts)?.ts ?? firstHuman.ts;
    }
  }
  const waitStart = handoffTs ?? firstCustomerTs;

  // Segments: assignment (or the agent's first message) until transfer or end.
  const segs: SegmentDraft[] = [];
  let cur: SegmentDraft | null = null;
  const startSegment = (agentId: string, ts: number, assigned: boolean): SegmentDraft => {
    if (cur) {
      cur.end = ts;
      cur.endedBy = 'transfer';
    }
    const seg: SegmentDraft = {
      agentId,
      start: ts,
      assignedAt: assigned ? ts : null,
      end: endTs,
      endedBy: closeEvent ? 'close' : 'end',
      agentMessages: [],
      customerMessages: 0,
    };
    segs.push(seg);
    return seg;
  };
  let pendingCustomerTs: number | null = null;
  const responses: ResponsesTable[] = [];
  for (const e of events) {
    if (e.kind === 'assignment') {
      const agentId = ctx.agentFor(e.channel, e.account);
      if (cur?.agentId !== agentId) cur = startSegment(agentId, e.ts, true);
    } else if (e.kind === 'message') {
      if (e.role === 'customer') {
        if (cur) cur.customerMessages++;
        if (pendingCustomerTs === null) pendingCustomerTs = e.ts;
      } else if (e.role === 'agent') {
        const agentId = ctx.agentFor(e.channel, e.account ?? '(unknown)');
        // A different agent answering without a transfer event is an implicit transfer.
        if (cur?.agentId !== agentId) cur = startSegment(agentId, e.ts, false);
        cur.agentMessages.push(e.ts);
        if (pendingCustomerTs !== null) {
          const from =
            handoffTs !== null && responses.length === 0
              ? Math.max(pendingCustomerTs, handoffTs)
              : pendingCustomerTs;
          const cal = ctx.calendarFor(agentId);
          const k = localKeys(pendingCustomerTs, tz);
          responses.push({
            conversation_id: id,
            thread,
            seq: responses.length,
            agent_id: agentId,
            channel: first.channel,
            region: customer?.region ?? null,
            customer_ts: pendingCustomerTs,
            reply_ts: e.ts,
            ms: e.ts - from,
            bh_ms: cal.businessMs(from, e.ts),
            ...k,
          });
          pendingCustomerTs = null;
        }
      }
    }
  }
  // Customer messages before the first segment were waiting for it: they belong to it.
  if (segs.length) segs[0]!.customerMessages += customerMsgs.filter((m) => m.ts < segs[0]!.start).length;

  const humanSegs = segs.filter((s) => s.agentMessages.length > 0);
  const hasCustomer = customerMsgs.length > 0;
  const humanReplied = firstHuman !== undefined;
  const invalid = hasCustomer && !humanReplied && customerMsgs.every((m) => ctx.greeting.test(m.text ?? ''));
  const offline = firstCustomerTs !== null && !ctx.calendarFor(null).isOpen(firstCustomerTs);

  // First response: the first human-handled segment, from max(first customer message, assignment, handoff).
  let frtMs: number | null = null;
  let frtBhMs: number | null = null;
  let frtAgent: string | null = null;
  const firstHumanSeg = humanSegs[0];
  if (firstHumanSeg && firstCustomerTs !== null) {
    const from = Math.max(firstCustomerTs, firstHumanSeg.assignedAt ?? 0, handoffTs ?? 0);
    const reply = firstHumanSeg.agentMessages.find((t) => t >= from);
    if (reply !== undefined) {
      frtMs = reply - from;
      frtBhMs = ctx.calendarFor(firstHumanSeg.agentId).businessMs(from, reply);
      frtAgent = firstHumanSeg.agentId;
    }
  }
  let cfrtMs: number | null = null;
  let cfrtBhMs: number | null = null;
  if (firstHuman && waitStart !== null) {
    cfrtMs = firstHuman.ts - waitStart;
    cfrtBhMs = ctx.calendarFor(frtAgent).businessMs(waitStart, firstHuman.ts);
  }
  let waitMs: number | null = null;
  let waitBhMs: number | null = null;
  if (waitStart !== null && firstHuman) {
    // Queueing ends at the first assignment before the first human reply; a later one is a transfer.
    const assign = events.find((e) => e.kind === 'assignment' && e.ts >= waitStart && e.ts <= firstHuman.ts);
    const assignedAt = assign?.ts ?? waitStart;
    waitMs = assignedAt - waitStart;
    waitBhMs = ctx.calendarFor(frtAgent).businessMs(waitStart, assignedAt);
  }

  const lastHumanSeg = humanSegs[humanSegs.length - 1];
  const responsible = lastHumanSeg?.agentId ?? segs[segs.length - 1]?.agentId ?? null;
  const ratingEvent = events.filter((e) => e.kind === 'rating').pop();
  const rating = ratingEvent ? normaliseRating(ratingEvent.score, ratingEvent.scale) : null;

  // Offline attribution, split mode: the first receiver and the handler share the workload.
  const split =
    settings.attribution.offline === 'split' &&
    offline &&
    segs.length > 0 &&
    firstHumanSeg !== undefined &&
    segs[0]!.agentId !== firstHumanSeg.agentId;
  const convValid = humanSegs.length > 0 && hasCustomer;
  segs.forEach((s, seq) => {
    const valid = s.agentMessages.length > 0 && customerMsgs.some((m) => m.ts <= s.end) ? 1 : 0;
    let wReceived = 1;
    let wValid = valid;
    if (split) {
      const share =
        seq === 0
          ? settings.attribution.split.original
          : s === firstHumanSeg
            ? 1 - settings.attribution.split.original
            : 0;
      wReceived = share;
      wValid = convValid ? share : 0;
    }
    const cal = ctx.calendarFor(s.agentId);
    out.segments.push({
      id: `${id}|${seq}`,
      conversation_id: id,
      thread,
      seq,
      agent_id: s.agentId,
      channel: first.channel,
      region: customer?.region ?? null,
      start_ts: s.start,
      end_ts: s.end,
      ended_by: s.endedBy,
      valid,
      invalid: invalid ? 1 : 0,
      messages_in: s.customerMessages,
      messages_out: s.agentMessages.length,
      handle_ms: Math.max(0, s.end - s.start),
      handle_bh_ms: cal.businessMs(s.start, s.end),
      w_received: wReceived,
      w_valid: wValid,
      ...localKeys(s.start, tz),
    });
  });

  const anchor = firstCustomerTs ?? first.ts;
  out.conversations.push({
    id,
    thread,
    channel: first.channel,
    customer_id: customer?.id ?? null,
    region: customer?.region ?? null,
    native_id: first.conversationId ?? null,
    start_ts: first.ts,
    end_ts: endTs,
    first_customer_ts: firstCustomerTs,
    agent_id: responsible,
    frt_agent_id: frtAgent,
    has_customer: hasCustomer ? 1 : 0,
    invalid: invalid ? 1 : 0,
    missed: hasCustomer && !humanReplied && !invalid ? 1 : 0,
    offline: offline ? 1 : 0,
    closed: closeEvent ? 1 : 0,
    platform_resolved:
      closeEvent?.kind === 'close' && closeEvent.resolved !== undefined
        ? closeEvent.resolved
          ? 1
          : 0
        : null,
    human_replied: humanReplied ? 1 : 0,
    human_segments: humanSegs.length,
    rating,
    wait_ms: waitMs,
    wait_bh_ms: waitBhMs,
    frt_ms: frtMs,
    frt_bh_ms: frtBhMs,
    cfrt_ms: cfrtMs,
    cfrt_bh_ms: cfrtBhMs,
    bot_answered: firstBot ? 1 : 0,
    bot_handoff: firstBot && handoffTs !== null && humanReplied ? 1 : 0,
    messages_in: customerMsgs.length,
    messages_out: humanMsgs.length,
    next_conv_ts: null,
    converted: 0,
    inquired: 0,
    order_amount: 0,
    ...localKeys(anchor, tz),
  });
  out.responses.push(...responses);
  for (const tag of tags) out.tags.push({ conversation_id: id, thread, tag });
}

function buildTicket(thread: string, events: TicketEvent[], ctx: SessionContext): TicketsTable | null {
  const created = events.find((e) => e.status === 'created') ?? events[0];
  if (!created) return null;
  let resolvedTs: number | null = null;
  let due: number | null = null;
  let category: string | null = null;
  let account: string | null = null;
  let escalated = 0;
  for (const e of events) {
    if (e.dueTs !== undefined) due = e.dueTs;
    if (e.category) category = e.category;
    if (e.account) account = e.account;
    if (e.status === 'escalated') escalated = 1;
    if (e.status === 'resolved' || e.status === 'closed') resolvedTs ??= e.ts;
    if (e.status === 'reopened') resolvedTs = null;
  }
  return {
    ticket_id: created.ticketId,
    thread,
    channel: created.channel,
    customer_id: created.customer?.id ?? null,
    region: created.customer?.region ?? null,
    category,
    agent_id: account ? ctx.agentFor(created.channel, account) : null,
    created_ts: created.ts,
    resolved_ts: resolvedTs,
    due_ts: due,
    escalated,
    repeat: 0,
    ...localKeys(created.ts, ctx.settings.timezone),
  };
}
