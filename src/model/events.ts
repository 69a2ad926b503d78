/**
 * The canonical events: the one shape every connector produces and everything downstream reads.
 * A canonical NDJSON file is one of these objects per line (timestamps in any accepted form:
 * see parseTimestamp); connectors build them directly.
 *
 * Identity of an event: (source, id). Re-sending the same (source, id) is a duplicate, never a
 * second fact — that is what makes imports idempotent and platform retries harmless.
 */
import { z } from 'zod';
import { fastEvent } from './events-fast.ts';
import { parseTimestamp } from './time.ts';

export const SENDER_ROLES = ['customer', 'agent', 'bot', 'system'] as const;
export type SenderRole = (typeof SENDER_ROLES)[number];

/** Timestamps arrive in every shape; they are stored as UTC epoch milliseconds. */
const timestamp = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseTimestamp(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp: ${JSON.stringify(v).slice(0, 60)}` });
    return z.NEVER;
  }
  return ms;
});

const id = z.union([z.string().min(1).max(500), z.number()]).transform(String);
const text = z.string().max(100_000);

export const customerSchema = z.object({
  id,
  name: z.string().max(200).optional(),
  region: z.string().max(100).optional(),
  tags: z.array(z.string().max(100)).max(100).optional(),
});
export type Customer = z.infer<typeof customerSchema>;

/** Fields every event shares. `channel` is where the conversation happens (wecom, whatsapp, web…). */
const base = {
  id,
  source: z.string().min(1).max(200).optional(),
  ts: timestamp,
  channel: z.string().min(1).max(100),
  /** The platform's own conversation/session/ticket id, when it has one: it then defines the conversation. */
  conversationId: id.optional(),
  customer: customerSchema.optional(),
  /** Tags on the conversation (not on the customer). */
  tags: z.array(z.string().max(100)).max(100).optional(),
};

/** An agent's (or bot's) account on a platform, e.g. a WeCom userid or a Twitter signature. */
const account = z.string().min(1).max(200);

export const messageSchema = z.object({
  ...base,
  kind: z.literal('message'),
  role: z.enum(SENDER_ROLES),
  /** Sender account for agent and bot messages. */
  account: account.optional(),
  /** Display name of the sender account, used when the account is not on the roster. */
  accountName: z.string().max(200).optional(),
  msgType: z.string().max(50).default('text'),
  text: text.optional(),
});

/** Assignment to an agent; a transfer when the conversation already had one (or `transfer` is set). */
export const assignmentSchema = z.object({
  ...base,
  kind: z.literal('assignment'),
  account,
  accountName: z.string().max(200).optional(),
  transfer: z.boolean().optional(),
});

export const closeSchema = z.object({
  ...base,
  kind: z.literal('close'),
  /** The platform's own resolved/solved flag, for resolution.rule = platform_flag. */
  resolved: z.boolean().optional(),
  account: account.optional(),
});

/**
 * A rating on any platform scale. `scale`: '5' (1–5, default), '10' (0–10 or 1–10), '3' (1–3),
 * 'good_bad', or leave it out and give a word (满意/一般/不满意, good/bad).
 */
export const ratingSchema = z.object({
  ...base,
  kind: z.literal('rating'),
  score: z.union([z.number(), z.string().max(50)]),
  scale: z.enum(['5', '10', '3', '100', 'good_bad']).optional(),
  comment: text.optional(),
});

export const ticketSchema = z.object({
  ...base,
  kind: z.literal('ticket'),
  ticketId: id,
  status: z.enum(['created', 'updated', 'escalated', 'resolved', 'closed', 'reopened']),
  category: z.string().max(200).optional(),
  dueTs: timestamp.optional(),
  account: account.optional(),
});

/** A purchase (order) or a lead (inquiry) by a customer, for conversion metrics. */
export const orderSchema = z.object({
  ...base,
  kind: z.literal('order'),
  type: z.enum(['order', 'inquiry']).default('order'),
  amount: z.number().finite().default(0),
});

export const presenceSchema = z.object({
  ...base,
  kind: z.literal('presence'),
  account,
  status: z.enum(['online', 'busy', 'away', 'offline']),
});

export const canonicalEventSchema = z.discriminatedUnion('kind', [
  messageSchema,
  assignmentSchema,
  closeSchema,
  ratingSchema,
  ticketSchema,
  orderSchema,
  presenceSchema,
]);

/** The kinds of canonical event, as the schema declares them. */
export const EVENT_KINDS: readonly string[] = canonicalEventSchema.options.map((o) => o.shape.kind.value);

export type CanonicalEvent = z.output<typeof canonicalEventSchema>;
/** What a connector may write: timestamps not yet normalised, defaults not yet applied. */
export type CanonicalEventInput = z.input<typeof canonicalEventSchema>;
export type MessageEvent = z.output<typeof messageSchema>;
export type AssignmentEvent = z.output<typeof assignmentSchema>;
export type CloseEvent = z.output<typeof closeSchema>;
export type RatingEvent = z.output<typeof ratingSchema>;
export type TicketEvent = z.output<typeof ticketSchema>;
export type OrderEvent = z.output<typeof orderSchema>;
export type PresenceEvent = z.output<typeof presenceSchema>;
export type EventKind = CanonicalEvent['kind'];

/** A record a connector could not turn into an event: kept, with where it came from and why. */
export interface Reject {
  file: string;
  line: number;
  reason: string;
  raw?: string;
}

/** Validate one raw object; the error names the field and what was expected. */
export function validateEvent(
  raw: unknown,
): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const fast = fastEvent(raw);
  if (fast) return { ok: true, event: fast };
  const r = canonicalEventSchema.safeParse(raw);
  if (r.success) return { ok: true, event: r.data };
  const issue = r.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : 'event';
  return { ok: false, reason: `${path}: ${issue.message}` };
}

/**
 * Map a rating on any platform scale to 1–5 (METRICS.md: good/bad → 5/1; 满意/一般/不满意 → 5/3/1;
 * 10-point → /2). Returns null when the value is not a rating.
 */
export function normaliseRating(score: number | string, scale?: RatingEvent['scale']): number | null {
  if (typeof score === 'string') {
    const word = score.trim().toLowerCase();
    const words: Record<string, number> = {
      good: 5,
      bad: 1,
      great: 5,
      ok: 3,
      okay: 3,
      amazing: 5,
      awful: 1,
      terrible: 1,
      satisfied: 5,
      neutral: 3,
      dissatisfied: 1,
      unsatisfied: 1,
      非常满意: 5,
      满意: 5,
      一般: 3,
      不满意: 1,
      非常不满意: 1,
      好评: 5,
      中评: 3,
      差评: 1,
    };
    if (word in words) return words[word]!;
    if (word === '' || Number.isNaN(Number(word))) return null;
    score = Number(word);
  }
  if (!Number.isFinite(score)) return null;
  let v: number;
  switch (scale) {
    case 'good_bad':
      v = score > 0 ? 5 : 1;
      break;
    case '10':
      v = score / 2;
      break;
    case '100':
      v = score / 20;
      break;
    case '3':
      v = 1 + (score - 1) * 2;
      break;
    default:
      v = score;
  }
  if (v < 0 || v > 5) return null;
  return Math.max(1, v);
}
