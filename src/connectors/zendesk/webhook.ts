/**
 * Zendesk Support: tickets with their comments or audits, satisfaction ratings and ticket metrics,
 * as the REST API returns them (saved to files and imported), and the webhooks of Zendesk's event
 * subscriptions (`type: "zen:event-type:ticket.…"`). conversationId = the ticket id; channel
 * `zendesk`; times are ISO strings.
 *
 * What becomes what:
 * - a ticket → ticket events: created (category = the ticket type, else its first tag; dueTs =
 *   due_at; account = the assignee), escalated when the priority is urgent or a tag says so,
 *   resolved when solved, closed when closed.
 * - public comments: by the requester (or an end-user, or a non-staff author) → customer; by an
 *   agent → agent (account = the user id). Private comments are internal notes: rejects.
 *   Who is who comes from the requester id of the ticket, else the sideloaded users' role
 *   (`?include=users`), else `is_staff` in a webhook; a comment with none of these is a reject.
 * - audits: their Comment events as above; assignee_id changes → assignment (a transfer when there
 *   was one); status solved → close (resolved: true) and ticket resolved, closed → close and ticket
 *   closed, solved → open → ticket reopened; priority → urgent → ticket escalated;
 *   SatisfactionRating → rating. Events without facts (notifications, CCs…) are one reject per audit.
 * - satisfaction ratings good/bad → rating (scale good_bad); offered/unoffered are rejects.
 * - ticket metrics are Zendesk's own numbers (reply_time_in_minutes…): kept as rejects with the
 *   raw record, for cross-checking against ours, never as facts.
 *
 * Verification: X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing secret,
 * X-Zendesk-Webhook-Signature-Timestamp + raw body)).
 */
import { createHmac } from 'node:crypto';
import type { CanonicalEventInput } from '../../model/events.ts';
import {
  arr,
  show,
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

export const SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';
const CHANNEL = 'zendesk';

export function zendeskSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
}

/** Tags that mark an escalation when the priority does not. */
const ESCALATION_TAGS = new Set(['escalated', 'escalation', '升级', 'tier2', 'tier_2']);

type Doc = Record<string, unknown>;
interface Ctx {
  out: WebhookParse;
  /** Sideloaded users: id → role ('end-user' | 'agent' | 'admin'). */
  roles: Map<string, string>;
  names: Map<string, string>;
  /** Ticket id → requester id, from tickets in the same document. */
  requesters: Map<string, string>;
}

export const zendeskWebhook: WebhookConnector = {
  platform: 'zendesk',
  label: { zh: 'Zendesk(工单)', en: 'Zendesk Support' },
  verification:
    'X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(signing secret, X-Zendesk-Webhook-Signature-Timestamp + raw body))',
  secretHelp: {
    zh: 'Zendesk webhook 的签名密钥(signing secret)',
    en: "the Zendesk webhook's signing secret",
  },
  verify(req, { secret }) {
    if (!secret) return "the source has no secret; set the Zendesk webhook's signing secret";
    const given = header(req.headers, SIGNATURE_HEADER);
    const ts = header(req.headers, TIMESTAMP_HEADER);
    if (!given) return `missing ${SIGNATURE_HEADER} header`;
    if (!ts) return `missing ${TIMESTAMP_HEADER} header`;
    if (!sameSecret(given, zendeskSignature(secret, ts, req.body)))
      return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  detect: (doc) => {
    if (!isObject(doc)) return false;
    if (typeof doc.type === 'string') return doc.type.startsWith('zen:event-type:');
    const first = (k: string) => (Array.isArray(doc[k]) ? (doc[k] as unknown[])[0] : doc[k]);
    return (
      'requester_id' in (asObj(first('ticket')) ?? asObj(first('tickets')) ?? {}) ||
      'ticket_id' in (asObj(first('audit')) ?? asObj(first('audits')) ?? {}) ||
      ('public' in (asObj(first('comments')) ?? {}) && 'author_id' in (asObj(first('comments')) ?? {})) ||
      'ticket_id' in (asObj(first('satisfaction_rating')) ?? asObj(first('satisfaction_ratings')) ?? {}) ||
      'reply_time_in_minutes' in (asObj(first('ticket_metric')) ?? asObj(first('ticket_metrics')) ?? {})
    );
  },
  parse: neverThrows('Zendesk', parseInto),
};

function asObj(v: unknown): Doc | undefined {
  return isObject(v) ? v : undefined;
}

/** The documents' lists, singular or plural, each item an object. */
function items(doc: Doc, one: string, many: string): Doc[] {
  const list = Array.isArray(doc[many]) ? (doc[many] as unknown[]) : isObject(doc[one]) ? [doc[one]] : [];
  return list.filter(isObject);
}

function parseInto(body: unknown, out: WebhookParse): void {
  if (!isObject(body)) {
    out.rejects.push({ at: 'payload', reason: 'not a Zendesk document (not a JSON object)', raw: body });
    return;
  }
  if (typeof body.type === 'string') {
    webhookEvent(body, out);
    return;
  }
  const ctx: Ctx = { out, roles: new Map(), names: new Map(), requesters: new Map() };
  for (const u of items(body, 'user', 'users')) {
    const id = idOf(u, 'id');
    if (!id) continue;
    const role = str(u, 'role');
    if (role) ctx.roles.set(id, role);
    const name = nameOf(u);
    if (name) ctx.names.set(id, name);
  }
  const tickets = items(body, 'ticket', 'tickets');
  for (const t of tickets) {
    const id = idOf(t, 'id');
    const requester = idOf(t, 'requester_id');
    if (id && requester) ctx.requesters.set(id, requester);
  }
  let known = false;
  tickets.forEach((t, i) => {
    known = true;
    ticket(ctx, t, `tickets[${i}]`);
  });
  // Comments lists do not name their ticket: the ticket in the same document does.
  const commentTicket = tickets.length === 1 ? idOf(tickets[0], 'id') : undefined;
  items(body, 'comment', 'comments').forEach((c, i) => {
    known = true;
    if (!commentTicket) {
      out.rejects.push({
        at: `comments[${i}]`,
        reason: 'Zendesk comment without its ticket (save {"ticket":…,"comments":[…]} to say which ticket)',
        raw: c,
      });
      return;
    }
    comment(ctx, c, commentTicket, undefined, `comments[${i}]`);
  });
  const audits = items(body, 'audit', 'audits');
  // The creating audit names the requester: comments before any ticket is seen need it.
  for (const a of audits) {
    const ticketId = idOf(a, 'ticket_id');
    for (const e of arr(a, 'events') ?? [])
      if (
        ticketId &&
        !ctx.requesters.has(ticketId) &&
        str(e, 'field_name') === 'requester_id' &&
        idOf(e, 'value')
      )
        ctx.requesters.set(ticketId, idOf(e, 'value')!);
  }
  audits.forEach((a, i) => {
    known = true;
    audit(ctx, a, `audits[${i}]`);
  });
  items(body, 'satisfaction_rating', 'satisfaction_ratings').forEach((r, i) => {
    known = true;
    satisfaction(ctx, r, `satisfaction_ratings[${i}]`);
  });
  items(body, 'ticket_metric', 'ticket_metrics').forEach((m, i) => {
    known = true;
    out.rejects.push({
      at: `ticket_metrics[${i}]`,
      reason: `Zendesk ticket metrics of ticket ${idOf(m, 'ticket_id') ?? '?'} (reply_time_in_minutes ${JSON.stringify(obj(m, 'reply_time_in_minutes')?.calendar ?? null)}): Zendesk's own numbers, kept for cross-checking, not facts`,
      raw: m,
    });
  });
  if (!known)
    out.rejects.push({
      at: 'payload',
      reason: `Zendesk document without tickets, comments, audits, satisfaction ratings or ticket metrics (keys: ${clip(Object.keys(body).slice(0, 10).join(', '), 200)})`,
    });
}

function ticketBase(ticketId: string, requester: string | undefined, id: string, ts: number) {
  return {
    id,
    ts,
    channel: CHANNEL,
    conversationId: ticketId,
    ...(requester ? { customer: { id: requester } } : {}),
  };
}

function ticket(ctx: Ctx, t: Doc, at: string): void {
  const id = idOf(t, 'id');
  const created = timeOf(t, 'created_at');
  if (!id || created === undefined) {
    ctx.out.rejects.push({ at, reason: 'Zendesk ticket without id or created_at', raw: t });
    return;
  }
  const requester = idOf(t, 'requester_id');
  const tags = (arr(t, 'tags') ?? [])
    .filter((x): x is string => typeof x === 'string')
    .map((x) => clip(x, 100));
  const category = str(t, 'type') || tags[0];
  const due = timeOf(t, 'due_at');
  const assignee = idOf(t, 'assignee_id');
  const updated = timeOf(t, 'updated_at') ?? created;
  const base = (suffix: string, ts: number) => ({
    kind: 'ticket' as const,
    ...ticketBase(id, requester, `ticket:${id}:${suffix}`, ts),
    ...(tags.length ? { tags: tags.slice(0, 100) } : {}),
    ticketId: id,
    ...(category ? { category: clip(category, 200) } : {}),
    ...(assignee ? { account: assignee } : {}),
  });
  ctx.out.events.push({
    ...base('created', created),
    status: 'created',
    ...(due !== undefined ? { dueTs: due } : {}),
  });
  if (str(t, 'priority') === 'urgent' || tags.some((x) => ESCALATION_TAGS.has(x.toLowerCase())))
    ctx.out.events.push({ ...base('escalated', updated), status: 'escalated' });
  const status = str(t, 'status');
  if (status === 'solved') ctx.out.events.push({ ...base('resolved', updated), status: 'resolved' });
  if (status === 'closed') ctx.out.events.push({ ...base('closed', updated), status: 'closed' });
  // A ticket shows its rating inline (score, id, comment); the rating's own time is not there.
  const inline = obj(t, 'satisfaction_rating');
  if (inline && (inline.score === 'good' || inline.score === 'bad'))
    satisfaction(
      ctx,
      { ...inline, ticket_id: id, requester_id: requester, updated_at: t.updated_at },
      `${at}.satisfaction_rating`,
    );
  // Zendesk's JSON export writes each ticket with its comments inline.
  (arr(t, 'comments') ?? []).forEach((c, i) => {
    if (isObject(c)) comment(ctx, c, id, undefined, `${at}.comments[${i}]`);
  });
}

/** Who wrote: customer when the requester, an end-user or not staff; agent otherwise. */
function authorRole(
  ctx: Ctx,
  ticketId: string,
  author: string,
  isStaff?: boolean,
): 'customer' | 'agent' | undefined {
  const requester = ctx.requesters.get(ticketId);
  if (requester !== undefined)
    return requester === author ? 'customer' : ctx.roles.get(author) === 'end-user' ? 'customer' : 'agent';
  const role = ctx.roles.get(author);
  if (role) return role === 'end-user' ? 'customer' : 'agent';
  if (isStaff !== undefined) return isStaff ? 'agent' : 'customer';
  return undefined;
}

function comment(
  ctx: Ctx,
  c: Doc,
  ticketId: string,
  auditTs: number | undefined,
  at: string,
  auditAuthor?: string,
): void {
  const id = idOf(c, 'id');
  if (!id) {
    ctx.out.rejects.push({ at, reason: 'Zendesk comment without id' });
    return;
  }
  if (c.public === false) {
    ctx.out.rejects.push({
      at,
      reason: `Zendesk comment ${id}: private comment (internal note), not a reply`,
    });
    return;
  }
  const author = idOf(c, 'author_id') ?? auditAuthor;
  const ts = timeOf(c, 'created_at') ?? auditTs;
  if (!author || ts === undefined) {
    ctx.out.rejects.push({ at, reason: `Zendesk comment ${id}: author_id or created_at missing` });
    return;
  }
  const role = authorRole(ctx, ticketId, author);
  if (!role) {
    ctx.out.rejects.push({
      at,
      reason: `Zendesk comment ${id}: cannot tell whether author ${author} is the requester or an agent (include the ticket or ?include=users)`,
    });
    return;
  }
  ctx.out.events.push(commentEvent(ctx, ticketId, id, ts, author, role, c));
}

function commentEvent(
  ctx: Ctx,
  ticketId: string,
  id: string,
  ts: number,
  author: string,
  role: 'customer' | 'agent',
  c: Doc,
  authorName?: string,
): CanonicalEventInput {
  const requester = ctx.requesters.get(ticketId) ?? (role === 'customer' ? author : undefined);
  const body =
    str(c, 'plain_body') ??
    str(c, 'body') ??
    (str(c, 'html_body') ? htmlText(str(c, 'html_body')!) : undefined);
  const attachment = arr(c, 'attachments')?.find(isObject);
  const ctype = str(attachment, 'content_type') ?? '';
  const msgType = !attachment
    ? str(c, 'type') === 'VoiceComment'
      ? 'voice'
      : 'text'
    : ctype.startsWith('image/')
      ? 'image'
      : ctype.startsWith('audio/')
        ? 'voice'
        : ctype.startsWith('video/')
          ? 'video'
          : 'file';
  const name = authorName ?? ctx.names.get(author);
  return {
    kind: 'message',
    ...ticketBase(ticketId, requester, `comment:${id}`, ts),
    ...(role === 'customer' ? { customer: { id: author, ...(name ? { name } : {}) } } : {}),
    role,
    ...(role === 'agent' ? { account: author, ...(name ? { accountName: name } : {}) } : {}),
    msgType,
    ...(body !== undefined ? { text: clip(body, 100_000) } : {}),
  };
}

function audit(ctx: Ctx, a: Doc, at: string): void {
  const ticketId = idOf(a, 'ticket_id');
  const ts = timeOf(a, 'created_at');
  const auditId = idOf(a, 'id');
  if (!ticketId || ts === undefined || !auditId) {
    ctx.out.rejects.push({ at, reason: 'Zendesk audit without id, ticket_id or created_at', raw: a });
    return;
  }
  const requester = ctx.requesters.get(ticketId);
  const author = idOf(a, 'author_id');
  const other: string[] = [];
  (arr(a, 'events') ?? []).forEach((e, i) => {
    if (!isObject(e)) return;
    const type = str(e, 'type') ?? '?';
    const where = `${at}.events[${i}]`;
    const field = str(e, 'field_name');
    const eid = idOf(e, 'id') ?? `${auditId}.${i}`;
    if (type === 'Comment' || type === 'VoiceComment') {
      comment(ctx, { ...e, created_at: e.created_at ?? a.created_at }, ticketId, ts, where, author);
    } else if ((type === 'Change' || type === 'Create') && field === 'assignee_id') {
      const to = str(e, 'value');
      const previous = e.previous_value;
      if (!to) {
        if (type === 'Change')
          ctx.out.rejects.push({ at: where, reason: `Zendesk audit ${auditId}: ticket unassigned` });
        return;
      }
      ctx.out.events.push({
        kind: 'assignment',
        ...ticketBase(ticketId, requester, `assign:${eid}`, ts),
        account: clip(to, 200),
        ...(type === 'Change' && previous !== null && previous !== undefined && previous !== ''
          ? { transfer: true }
          : {}),
      });
    } else if ((type === 'Change' || type === 'Create') && field === 'status') {
      const value = str(e, 'value');
      const previous = str(e, 'previous_value');
      const tick = (status: 'created' | 'resolved' | 'closed' | 'reopened') =>
        ctx.out.events.push({
          kind: 'ticket',
          // One creation per ticket, whether read from the ticket or from its audits.
          ...ticketBase(
            ticketId,
            requester,
            status === 'created' ? `ticket:${ticketId}:created` : `ticket:${ticketId}:${status}:${eid}`,
            ts,
          ),
          ticketId,
          status,
        });
      if (value === 'solved' || value === 'closed') {
        ctx.out.events.push({
          kind: 'close',
          ...ticketBase(ticketId, requester, `close:${eid}`, ts),
          ...(value === 'solved' ? { resolved: true } : {}),
          ...(author ? { account: author } : {}),
        });
        tick(value === 'solved' ? 'resolved' : 'closed');
      } else if (previous === 'solved' && (value === 'open' || value === 'pending' || value === 'new'))
        tick('reopened');
      else if (type === 'Create') tick('created');
      else other.push(`status ${clip(previous ?? '?', 20)}→${clip(value ?? '?', 20)}`);
    } else if (type === 'Change' && field === 'priority' && str(e, 'value') === 'urgent') {
      ctx.out.events.push({
        kind: 'ticket',
        ...ticketBase(ticketId, requester, `ticket:${ticketId}:escalated:${eid}`, ts),
        ticketId,
        status: 'escalated',
      });
    } else if (type === 'SatisfactionRating') {
      satisfaction(
        ctx,
        { id: eid, ticket_id: ticketId, score: e.score, comment: e.body, created_at: a.created_at },
        where,
      );
    } else other.push(field ? `${type} ${clip(field, 40)}` : clip(type, 40));
  });
  if (other.length)
    ctx.out.rejects.push({
      at,
      reason: `Zendesk audit ${auditId}: events without facts: ${clip([...new Set(other)].join(', '), 300)}`,
    });
}

function satisfaction(ctx: Ctx, r: Doc, at: string): void {
  const id = idOf(r, 'id');
  const ticketId = idOf(r, 'ticket_id');
  const score = str(r, 'score');
  const ts = timeOf(r, 'updated_at', 'created_at');
  if (!id || !ticketId || ts === undefined) {
    ctx.out.rejects.push({ at, reason: 'Zendesk satisfaction rating without id, ticket_id or time', raw: r });
    return;
  }
  if (score !== 'good' && score !== 'bad') {
    ctx.out.rejects.push({
      at,
      reason: `Zendesk satisfaction rating ${id}: score "${score ?? show(r.score, 30)}" is not a rating given (good/bad)`,
    });
    return;
  }
  const requester = idOf(r, 'requester_id') ?? ctx.requesters.get(ticketId);
  const comment = str(r, 'comment');
  ctx.out.events.push({
    kind: 'rating',
    ...ticketBase(ticketId, requester, `csat:${id}`, ts),
    score,
    scale: 'good_bad',
    ...(comment ? { comment: clip(comment, 100_000) } : {}),
  });
}

/** Event-subscription webhooks: `zen:event-type:ticket.<what>` with the ticket in `detail`. */
function webhookEvent(body: Doc, out: WebhookParse): void {
  const type = show(body.type, 100);
  const what = type.startsWith('zen:event-type:ticket.') ? type.slice('zen:event-type:ticket.'.length) : '';
  const detail = obj(body, 'detail');
  const event = obj(body, 'event');
  const ticketId = idOf(detail, 'id');
  const ts = timeOf(body, 'time') ?? timeOf(detail, 'updated_at');
  const eventId = idOf(body, 'id');
  if (!what) {
    out.rejects.push({ at: type, reason: `Zendesk event "${type}" is not about a ticket` });
    return;
  }
  if (!ticketId || ts === undefined || !eventId) {
    out.rejects.push({ at: type, reason: `Zendesk ${type}: no event id, detail.id or time`, raw: body });
    return;
  }
  const requester = idOf(detail, 'requester_id');
  const ctx: Ctx = { out, roles: new Map(), names: new Map(), requesters: new Map() };
  if (requester) ctx.requesters.set(ticketId, requester);
  const lower = (k: string) => str(event, k)?.toLowerCase();
  switch (what) {
    case 'created':
      ticket(
        ctx,
        {
          ...detail,
          status: lower('status') ?? str(detail, 'status')?.toLowerCase(),
          priority: str(detail, 'priority')?.toLowerCase(),
          type: str(detail, 'type')?.toLowerCase(),
        },
        type,
      );
      return;
    case 'comment_added': {
      const c = obj(event, 'comment');
      const author = obj(c, 'author');
      const authorId = idOf(author, 'id');
      const commentId = idOf(c, 'id');
      if (!c || !authorId || !commentId) {
        out.rejects.push({
          at: type,
          reason: `Zendesk ${type}: event.comment without id or author.id`,
          raw: body,
        });
        return;
      }
      if (c.is_public === false) {
        out.rejects.push({
          at: type,
          reason: `Zendesk comment ${commentId}: private comment (internal note), not a reply`,
        });
        return;
      }
      const staff = typeof author?.is_staff === 'boolean' ? author.is_staff : undefined;
      const role = authorRole(ctx, ticketId, authorId, staff);
      const nonRequester = requester !== undefined && requester !== authorId && staff === false;
      // A non-staff collaborator (CC) writing is still the customer side.
      const r = nonRequester ? 'customer' : role;
      if (!r) {
        out.rejects.push({
          at: type,
          reason: `Zendesk comment ${commentId}: author ${authorId} neither requester nor marked staff`,
        });
        return;
      }
      out.events.push(commentEvent(ctx, ticketId, commentId, ts, authorId, r, c, nameOf(author)));
      return;
    }
    case 'status_changed': {
      const current = lower('current');
      const previous = lower('previous');
      const tick = (status: 'resolved' | 'closed' | 'reopened') =>
        out.events.push({
          kind: 'ticket',
          ...ticketBase(ticketId, requester, `ticket:${ticketId}:${status}:${eventId}`, ts),
          ticketId,
          status,
        });
      if (current === 'solved' || current === 'closed') {
        out.events.push({
          kind: 'close',
          ...ticketBase(ticketId, requester, `close:${eventId}`, ts),
          ...(current === 'solved' ? { resolved: true } : {}),
        });
        tick(current === 'solved' ? 'resolved' : 'closed');
      } else if (previous === 'solved') tick('reopened');
      else
        out.rejects.push({
          at: type,
          reason: `Zendesk ${type}: ${previous ?? '?'} → ${current ?? '?'} changes no fact`,
        });
      return;
    }
    case 'agent_assignment_changed': {
      const current = str(event, 'current');
      const previous = str(event, 'previous');
      if (!current) {
        out.rejects.push({ at: type, reason: `Zendesk ${type}: ticket unassigned (no agent to credit)` });
        return;
      }
      out.events.push({
        kind: 'assignment',
        ...ticketBase(ticketId, requester, `assign:${eventId}`, ts),
        account: clip(current, 200),
        ...(previous ? { transfer: true } : {}),
      });
      return;
    }
    case 'priority_changed':
      if (lower('current') === 'urgent') {
        out.events.push({
          kind: 'ticket',
          ...ticketBase(ticketId, requester, `ticket:${ticketId}:escalated:${eventId}`, ts),
          ticketId,
          status: 'escalated',
        });
        return;
      }
      out.rejects.push({
        at: type,
        reason: `Zendesk ${type}: priority ${lower('current') ?? '?'} is not an escalation`,
      });
      return;
    default:
      out.rejects.push({ at: type, reason: `Zendesk event "${type}" changes no fact CS Pulse measures` });
  }
}
