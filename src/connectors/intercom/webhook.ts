/**
 * Intercom conversations (REST API v2.11 objects and webhook notifications). Times are unix seconds.
 *
 * Shapes read: a webhook notification `{type:'notification_event', topic, data:{item}}` whose item
 * is a conversation; a bare conversation (`GET /conversations/{id}`); a list
 * (`{type:'conversation.list', conversations:[…]}` from `GET /conversations` or search).
 *
 * What becomes what (conversationId = the conversation id):
 * - `source`, the first message: author user/lead/contact → customer, admin → agent (account = the
 *   admin id), bot/team → bot.
 * - parts: `comment` by the same author types; `open`/`close`/`assignment` parts that carry a body
 *   are also a message (a user's reply reopens the conversation as an `open` part with the reply as
 *   body; "close with a message" is one part). `note*` parts are internal notes, not replies.
 *   `assignment`-like parts (assignment, assign_and_reopen, default_assignment…) assigned to an
 *   admin → assignment; to a team or nobody → a reject saying so. `close` → close. `open` without a
 *   body, `snoozed`, `unsnoozed` and attribute updates change no fact: rejects with the reason.
 * - `conversation_rating` (1–5, with remark) → rating.
 *
 * Verification: X-Hub-Signature = `sha1=` + HMAC-SHA1(app client secret, raw body) in hex.
 */
import { createHmac } from 'node:crypto';
import type { CanonicalEventInput } from '../../model/events.ts';
import {
  arr,
  lookup,
  clip,
  htmlText,
  idOf,
  isObject,
  nameOf,
  obj,
  str,
  timeOf,
} from '../shared/payload-values.ts';
import { header, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';
import { neverThrows } from '../shared/never-throws.ts';

export const SIGNATURE_HEADER = 'x-hub-signature';
const CHANNEL = 'intercom';

export function intercomSignature(secret: string, body: Buffer | string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

type Role = 'customer' | 'agent' | 'bot';
const AUTHOR_ROLES: Record<string, Role> = {
  user: 'customer',
  lead: 'customer',
  contact: 'customer',
  admin: 'agent',
  bot: 'bot',
  team: 'bot',
};

const ASSIGNMENT_PARTS = new Set([
  'assignment',
  'assign_and_reopen',
  'assign_and_unsnooze',
  'default_assignment',
  'away_mode_assignment',
]);
const NOTE_PARTS = new Set(['note', 'note_and_reopen']);
const NO_FACT_PARTS: Record<string, string> = {
  open: 'reopened without a reply (the next message starts what follows)',
  snoozed: 'snoozed (no fact: the conversation stays open)',
  unsnoozed: 'unsnoozed (no fact)',
  timer_unsnooze: 'unsnoozed by timer (no fact)',
};

export const intercomWebhook: WebhookConnector = {
  platform: 'intercom',
  label: { zh: 'Intercom', en: 'Intercom' },
  verification: 'X-Hub-Signature: sha1=HMAC-SHA1(client secret, raw body) in hex',
  secretHelp: {
    zh: 'Intercom 应用的 client secret(Developer Hub → Basic information)',
    en: "the Intercom app's client secret (Developer Hub → Basic information)",
  },
  verify(req, { secret }) {
    if (!secret) return "the source has no secret; set the Intercom app's client secret";
    const given = header(req.headers, SIGNATURE_HEADER);
    if (!given) return `missing ${SIGNATURE_HEADER} header`;
    if (!sameSecret(given, intercomSignature(secret, req.body))) return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  detect: (doc) =>
    isObject(doc) &&
    ((doc.type === 'notification_event' && isObject(doc.data)) ||
      (doc.type === 'conversation' && ('conversation_parts' in doc || 'source' in doc)) ||
      (doc.type === 'conversation.list' && Array.isArray(doc.conversations))),
  parse: neverThrows('Intercom', parseInto),
};

function parseInto(body: unknown, out: WebhookParse): void {
  if (!isObject(body)) {
    out.rejects.push({ at: 'payload', reason: 'not an Intercom object (not a JSON object)', raw: body });
    return;
  }
  const type = str(body, 'type') ?? '(no type)';
  if (type === 'notification_event') {
    const topic = clip(str(body, 'topic') ?? '(no topic)', 100);
    const item = obj(obj(body, 'data'), 'item');
    if (str(item, 'type') !== 'conversation') {
      out.rejects.push({
        at: topic,
        reason: `Intercom notification "${topic}" carries no conversation (item type ${JSON.stringify(str(item, 'type') ?? null)})`,
      });
      return;
    }
    conversation(item!, topic, out);
    return;
  }
  if (type === 'conversation') {
    conversation(body, 'conversation', out);
    return;
  }
  if (type === 'conversation.list') {
    const list = arr(body, 'conversations') ?? [];
    list.forEach((c, i) => {
      if (isObject(c) && c.type === 'conversation') conversation(c, `conversations[${i}]`, out);
      else
        out.rejects.push({
          at: `conversations[${i}]`,
          reason: 'Intercom list item is not a conversation',
          raw: c,
        });
    });
    return;
  }
  out.rejects.push({
    at: clip(type, 100),
    reason: `Intercom object of type "${clip(type, 100)}" is not a conversation`,
  });
}

interface Ctx {
  convId: string;
  customer?: { id: string; name?: string };
  tags?: string[];
  at: string;
  out: WebhookParse;
}

function conversation(c: Record<string, unknown>, at: string, out: WebhookParse): void {
  const convId = idOf(c, 'id');
  if (!convId) {
    out.rejects.push({ at, reason: 'Intercom conversation without an id', raw: c });
    return;
  }
  const contact = (arr(obj(c, 'contacts'), 'contacts') ?? []).find(isObject);
  const contactId = idOf(contact, 'id');
  const tags = (arr(obj(c, 'tags'), 'tags') ?? [])
    .map((t) => nameOf(t))
    .filter((t): t is string => !!t)
    .map((t) => clip(t, 100))
    .slice(0, 100);
  const ctx: Ctx = {
    convId,
    ...(contactId
      ? { customer: { id: contactId, ...(nameOf(contact) ? { name: nameOf(contact)! } : {}) } }
      : {}),
    ...(tags.length ? { tags } : {}),
    at,
    out,
  };
  const source = obj(c, 'source');
  if (source) {
    const ts = timeOf(c, 'created_at');
    message(ctx, source, `${convId}:source`, ts, 'source');
  }
  const parts = arr(obj(c, 'conversation_parts'), 'conversation_parts') ?? [];
  for (const [i, p] of parts.entries()) part(ctx, p, `conversation_parts[${i}]`);
  rating(ctx, obj(c, 'conversation_rating'));
}

function base(ctx: Ctx, id: string, ts: number) {
  return {
    id,
    ts,
    channel: CHANNEL,
    conversationId: ctx.convId,
    ...(ctx.customer ? { customer: ctx.customer } : {}),
    ...(ctx.tags ? { tags: ctx.tags } : {}),
  };
}

/** A message from a source or a part; false when there is nothing to say (no body, no attachment). */
function message(
  ctx: Ctx,
  m: Record<string, unknown>,
  id: string,
  ts: number | undefined,
  where: string,
  required = true,
): boolean {
  const author = obj(m, 'author');
  const authorType = str(author, 'type') ?? '';
  const body = str(m, 'body');
  const attachments = arr(m, 'attachments') ?? [];
  const text = body ? htmlText(body) : '';
  const subject = str(m, 'subject');
  if (!text && !attachments.length && !subject) {
    if (required)
      ctx.out.rejects.push({
        at: `${ctx.at}.${where}`,
        reason: 'Intercom message without body or attachment',
      });
    return false;
  }
  const role = lookup(AUTHOR_ROLES, authorType);
  if (!role) {
    ctx.out.rejects.push({
      at: `${ctx.at}.${where}`,
      reason: `Intercom message by author type ${JSON.stringify(clip(authorType, 40))} (expected user, lead, contact, admin, bot or team)`,
    });
    return true;
  }
  if (ts === undefined) {
    ctx.out.rejects.push({
      at: `${ctx.at}.${where}`,
      reason: 'Intercom message: created_at is not a unix time',
    });
    return true;
  }
  const authorId = idOf(author, 'id');
  const customer =
    role === 'customer' && authorId
      ? { id: authorId, ...(nameOf(author) ? { name: nameOf(author)! } : {}) }
      : ctx.customer;
  const account =
    role === 'agent' ? authorId : role === 'bot' ? `${authorType}:${authorId ?? 'bot'}` : undefined;
  if (role === 'agent' && !account) {
    ctx.out.rejects.push({ at: `${ctx.at}.${where}`, reason: 'Intercom admin message without author id' });
    return true;
  }
  const first = attachments.find(isObject);
  const contentType = str(first, 'content_type') ?? '';
  const msgType = !first
    ? 'text'
    : contentType.startsWith('image/')
      ? 'image'
      : contentType.startsWith('audio/')
        ? 'voice'
        : contentType.startsWith('video/')
          ? 'video'
          : 'file';
  const full = subject && !text.startsWith(subject) ? `${subject}\n${text}`.trim() : text;
  ctx.out.events.push({
    kind: 'message',
    ...base(ctx, id, ts),
    ...(customer ? { customer } : {}),
    role,
    ...(account ? { account } : {}),
    ...(account && nameOf(author) ? { accountName: nameOf(author)! } : {}),
    msgType,
    ...(full ? { text: clip(full, 100_000) } : {}),
  } as CanonicalEventInput);
  return true;
}

function part(ctx: Ctx, p: unknown, where: string): void {
  const at = `${ctx.at}.${where}`;
  if (!isObject(p)) {
    ctx.out.rejects.push({ at, reason: 'Intercom conversation part is not an object' });
    return;
  }
  const partId = idOf(p, 'id');
  const type = str(p, 'part_type') ?? '';
  if (!partId) {
    ctx.out.rejects.push({ at, reason: `Intercom ${clip(type, 60) || 'part'} without an id` });
    return;
  }
  const ts = timeOf(p, 'created_at');
  if (ts === undefined) {
    ctx.out.rejects.push({ at, reason: `Intercom part ${partId}: created_at is not a unix time` });
    return;
  }
  if (NOTE_PARTS.has(type)) {
    ctx.out.rejects.push({ at, reason: `Intercom part ${partId}: ${type} is an internal note, not a reply` });
    return;
  }
  if (type === 'comment') {
    message(ctx, p, `part:${partId}`, ts, where);
    return;
  }
  if (ASSIGNMENT_PARTS.has(type)) {
    message(ctx, p, `part:${partId}`, ts, where, false);
    const to = obj(p, 'assigned_to');
    const toType = str(to, 'type');
    const toId = idOf(to, 'id');
    if (toType === 'admin' && toId) {
      ctx.out.events.push({ kind: 'assignment', ...base(ctx, `assign:${partId}`, ts), account: toId });
    } else {
      ctx.out.rejects.push({
        at,
        reason: `Intercom part ${partId}: ${type} to ${toType ?? 'nobody'}${toId ? ` ${toId}` : ''}, not to an admin (no agent to credit)`,
      });
    }
    return;
  }
  if (type === 'close') {
    message(ctx, p, `part:${partId}`, ts, where, false);
    const by = obj(p, 'author');
    const account = str(by, 'type') === 'admin' ? idOf(by, 'id') : undefined;
    ctx.out.events.push({
      kind: 'close',
      ...base(ctx, `close:${partId}`, ts),
      ...(account ? { account } : {}),
    });
    return;
  }
  const noFact = lookup(NO_FACT_PARTS, type);
  if (noFact) {
    if (message(ctx, p, `part:${partId}`, ts, where, false)) return;
    ctx.out.rejects.push({ at, reason: `Intercom part ${partId}: ${noFact}` });
    return;
  }
  ctx.out.rejects.push({
    at,
    reason: `Intercom part ${partId}: part_type "${clip(type, 80)}" is not a message, assignment or close`,
  });
}

function rating(ctx: Ctx, r: Record<string, unknown> | undefined): void {
  if (!r) return;
  const score = r.rating;
  const ts = timeOf(r, 'created_at');
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5 || ts === undefined) {
    ctx.out.rejects.push({
      at: `${ctx.at}.conversation_rating`,
      reason: 'Intercom conversation_rating: rating must be an integer 1–5 with a created_at',
    });
    return;
  }
  const remark = str(r, 'remark');
  ctx.out.events.push({
    kind: 'rating',
    ...base(ctx, `rating:${ctx.convId}`, ts),
    score,
    scale: '5',
    ...(remark ? { comment: clip(remark, 100_000) } : {}),
  });
}
