/**
 * Chatwoot account webhooks (https://www.chatwoot.com/docs/product/others/webhook-events).
 *
 * What becomes what:
 * - `message_created`: incoming (message_type 0) from the contact → customer; outgoing (1) from a
 *   user → agent (account = the user id), from an agent_bot or with no sender → bot; template (3)
 *   → bot; activity (2, "assigned to…", "resolved by…") → system. Private notes are internal,
 *   not replies: rejects with that reason. The CSAT prompt (content_type input_csat) is a reject
 *   too; the contact's answer (content_attributes.submitted_values.csat_survey_response.rating,
 *   1–5, usually on `message_updated`) is a rating.
 * - `conversation_created`, `conversation_updated`, `conversation_status_changed`: the messages
 *   the conversation carries (ids dedupe them against message_created), status resolved → close
 *   with resolved:true, an assignee change → assignment (a transfer when there was an assignee).
 * - The conversation id is `${account id}:${conversation id}` (display ids are per account).
 * - One payload mixes ISO strings, unix seconds and float seconds: each field is read by shape.
 *
 * Verification: Chatwoot signs a webhook only when it has a secret (newer versions):
 * X-Chatwoot-Signature = `sha256=` + HMAC-SHA256(secret, `${X-Chatwoot-Timestamp}.${body}`) in
 * hex. Older versions send nothing, so the webhook URL then carries the source's secret as
 * `?token=`, compared in constant time. The option `signed_only=true` refuses the token form.
 * No timestamp window: a replayed body is a duplicate (same event ids), so it changes nothing.
 */
import { createHmac } from 'node:crypto';
import type { CanonicalEventInput } from '../../model/events.ts';
import {
  arr,
  clip,
  idOf,
  isObject,
  lookup,
  nameOf,
  obj,
  show,
  str,
  timeOf,
} from '../shared/payload-values.ts';
import { header, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';
import { neverThrows } from '../shared/never-throws.ts';

export const SIGNATURE_HEADER = 'x-chatwoot-signature';
export const TIMESTAMP_HEADER = 'x-chatwoot-timestamp';
const CHANNEL = 'chatwoot';

/** The signature Chatwoot sends for a body at a timestamp. */
export function chatwootSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

const MESSAGE_TYPES: Record<string, string> = {
  '0': 'incoming',
  '1': 'outgoing',
  '2': 'activity',
  '3': 'template',
  incoming: 'incoming',
  outgoing: 'outgoing',
  activity: 'activity',
  template: 'template',
};

/** Attachment file_type → msgType. */
const FILE_TYPES: Record<string, string> = {
  image: 'image',
  audio: 'voice',
  video: 'video',
  file: 'file',
  location: 'location',
  contact: 'contact',
  share: 'link',
  story_mention: 'story',
  fallback: 'other',
};

const CONVERSATION_EVENTS = ['conversation_created', 'conversation_updated', 'conversation_status_changed'];

export const chatwootWebhook: WebhookConnector = {
  platform: 'chatwoot',
  label: { zh: 'Chatwoot(开源客服平台)', en: 'Chatwoot' },
  verification:
    'X-Chatwoot-Signature: sha256=HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<body>") when Chatwoot has a webhook secret; otherwise ?token=<secret> in the webhook URL',
  secretHelp: {
    zh: 'Chatwoot 的 webhook 密钥;旧版 Chatwoot 不签名时,把 ?token=<此密钥> 加在 webhook 地址后',
    en: "Chatwoot's webhook secret; for versions that do not sign, append ?token=<this secret> to the webhook URL",
  },
  options: [
    {
      name: 'signed_only',
      required: false,
      help: {
        zh: 'true:只接受带签名的请求,拒绝 ?token= 方式',
        en: 'true: accept signed requests only, refuse the ?token= form',
      },
    },
  ],
  verify(req, { secret, options }) {
    if (!secret) return 'the source has no secret';
    const given = header(req.headers, SIGNATURE_HEADER);
    if (given !== undefined) {
      const ts = header(req.headers, TIMESTAMP_HEADER);
      if (!ts) return `${SIGNATURE_HEADER} without ${TIMESTAMP_HEADER}`;
      const normal = given.startsWith('sha256=') ? given : `sha256=${given}`;
      if (!sameSecret(normal, chatwootSignature(secret, ts, req.body)))
        return `${SIGNATURE_HEADER} does not match`;
      return null;
    }
    if (options.signed_only === 'true')
      return `missing ${SIGNATURE_HEADER} (the source accepts signed requests only)`;
    const token = req.query.token;
    if (!token) return `unsigned request without ?token= (missing ${SIGNATURE_HEADER})`;
    if (!sameSecret(token, secret)) return '?token= does not match';
    return null;
  },
  detect: (doc) =>
    isObject(doc) &&
    typeof doc.event === 'string' &&
    /^(message|conversation|contact|webwidget|inbox)_[a-z_]+$/.test(doc.event) &&
    ('conversation' in doc || 'inbox_id' in doc || 'account' in doc || 'contact' in doc),
  parse: neverThrows('Chatwoot', parseInto),
};

function parseInto(body: unknown, out: WebhookParse): void {
  if (!isObject(body) || typeof body.event !== 'string') {
    out.rejects.push({ at: 'payload', reason: 'not a Chatwoot webhook (no "event" string)', raw: body });
    return;
  }
  const event = body.event;
  if (event === 'message_created' || event === 'message_updated') {
    message(body, event, out);
    return;
  }
  if (CONVERSATION_EVENTS.includes(event)) {
    conversation(body, event, out);
    return;
  }
  out.rejects.push({ at: event, reason: `Chatwoot event "${clip(event, 80)}" carries no conversation data` });
}

/** `${account}:${conversation}`, or why there is none. */
function conversationKey(conv: Record<string, unknown>, accountHint?: string): string | undefined {
  const id = idOf(conv, 'id');
  const firstMessage = arr(conv, 'messages')?.[0];
  const account =
    accountHint ??
    idOf(conv, 'account_id') ??
    idOf(obj(conv, 'account'), 'id') ??
    idOf(firstMessage, 'account_id');
  return id && account ? `${account}:${id}` : undefined;
}

function contactOf(conv: Record<string, unknown> | undefined): { id: string; name?: string } | undefined {
  const sender = obj(obj(conv, 'meta'), 'sender');
  const id = idOf(sender, 'id') ?? idOf(obj(conv, 'contact_inbox'), 'contact_id');
  if (!id) return undefined;
  const name = nameOf(sender);
  return { id, ...(name ? { name } : {}) };
}

function message(body: Record<string, unknown>, event: string, out: WebhookParse): void {
  const conv = obj(body, 'conversation');
  if (!conv) {
    out.rejects.push({ at: event, reason: `Chatwoot ${event}: no conversation object`, raw: body });
    return;
  }
  const key = conversationKey(conv, idOf(obj(body, 'account'), 'id'));
  if (!key) {
    out.rejects.push({ at: event, reason: `Chatwoot ${event}: no account or conversation id`, raw: body });
    return;
  }
  const rating = csatRating(body, key, contactOf(conv));
  if (rating) {
    out.events.push(rating);
    return;
  }
  if (event === 'message_updated') {
    out.rejects.push({
      at: event,
      reason: 'Chatwoot message_updated: an edit of a stored message, not a new one',
    });
    return;
  }
  const e = messageEvent(body, key, contactOf(conv));
  if ('reason' in e) out.rejects.push({ at: event, reason: `Chatwoot ${event}: ${e.reason}`, raw: body });
  else out.events.push(e.event);
}

/** The contact's answer to the CSAT survey, from a message's content_attributes. */
function csatRating(
  m: Record<string, unknown>,
  key: string,
  customer: { id: string; name?: string } | undefined,
): CanonicalEventInput | undefined {
  const response = obj(obj(obj(m, 'content_attributes'), 'submitted_values'), 'csat_survey_response');
  const score = response?.rating;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5) return undefined;
  const ts = timeOf(m, 'updated_at', 'created_at');
  if (ts === undefined) return undefined;
  const comment = str(response, 'feedback_message');
  return {
    kind: 'rating',
    // One rating per conversation: a changed answer replaces nothing, the first one counts.
    id: `csat:${key}`,
    ts,
    channel: CHANNEL,
    conversationId: key,
    ...(customer ? { customer } : {}),
    score,
    scale: '5',
    ...(comment ? { comment: clip(comment, 100_000) } : {}),
  };
}

/**
 * A message from a webhook's top level (`sender` object, message_type as a word, created_at ISO)
 * or from a conversation's `messages` (sender_type/sender_id, message_type as a number, unix s).
 */
function messageEvent(
  m: Record<string, unknown>,
  key: string,
  customer: { id: string; name?: string } | undefined,
): { event: CanonicalEventInput } | { reason: string } {
  const id = idOf(m, 'id');
  if (!id) return { reason: 'message id missing' };
  const type = lookup(MESSAGE_TYPES, str(m, 'message_type') ?? '');
  if (!type) return { reason: `message ${id}: unknown message_type ${JSON.stringify(m.message_type)}` };
  if (m.private === true) return { reason: `message ${id}: private note (internal), not a reply` };
  if (str(m, 'content_type') === 'input_csat')
    return { reason: `message ${id}: CSAT survey prompt (automated), not a reply` };
  const ts = timeOf(m, 'created_at');
  if (ts === undefined) return { reason: `message ${id}: created_at is not a time` };
  const sender = obj(m, 'sender');
  const senderType = (str(sender, 'type') ?? str(m, 'sender_type') ?? '').toLowerCase();
  const senderId = idOf(sender, 'id') ?? idOf(m, 'sender_id');
  let role: 'customer' | 'agent' | 'bot' | 'system';
  if (type === 'activity') role = 'system';
  else if (type === 'template') role = 'bot';
  else if (type === 'incoming') role = 'customer';
  else if (senderType === 'user') role = 'agent';
  else role = 'bot';
  if (role === 'customer' && senderType && senderType !== 'contact')
    return { reason: `message ${id}: incoming message from sender type "${clip(senderType, 40)}"` };
  const who =
    role === 'customer' && senderId
      ? { id: senderId, ...(nameOf(sender) ? { name: nameOf(sender)! } : {}) }
      : customer;
  const attachment = arr(m, 'attachments')?.find(isObject);
  const fileType = str(attachment, 'file_type');
  const contentType = str(m, 'content_type') ?? 'text';
  const msgType = fileType
    ? (lookup(FILE_TYPES, fileType) ?? 'file')
    : contentType === 'text' || contentType.startsWith('input_') || contentType === 'incoming_email'
      ? 'text'
      : clip(contentType, 50);
  const content = str(m, 'content') ?? str(m, 'processed_message_content');
  const accountName = nameOf(sender) ?? nameOf(sender, 'available_name');
  // Bots get their own account space: an agent_bot and a user may share an id.
  const account =
    role === 'agent'
      ? senderId
      : role === 'bot'
        ? senderId
          ? `bot:${senderId}`
          : 'chatwoot-bot'
        : undefined;
  return {
    event: {
      kind: 'message',
      id: `message:${id}`,
      ts,
      channel: CHANNEL,
      conversationId: key,
      ...(who ? { customer: who } : {}),
      role,
      ...(account ? { account } : {}),
      ...(account && accountName ? { accountName } : {}),
      msgType,
      ...(content !== undefined ? { text: clip(content, 100_000) } : {}),
    },
  };
}

function conversation(conv: Record<string, unknown>, event: string, out: WebhookParse): void {
  const key = conversationKey(conv);
  if (!key) {
    out.rejects.push({ at: event, reason: `Chatwoot ${event}: no account or conversation id`, raw: conv });
    return;
  }
  const customer = contactOf(conv);
  const before = out.events.length;
  for (const [i, m] of (arr(conv, 'messages') ?? []).entries()) {
    if (!isObject(m)) continue;
    const rating = csatRating(m, key, customer);
    if (rating) {
      out.events.push(rating);
      continue;
    }
    const e = messageEvent(m, key, customer);
    if ('event' in e) out.events.push(e.event);
    else out.rejects.push({ at: `${event}.messages[${i}]`, reason: `Chatwoot ${event}: ${e.reason}` });
  }
  const changed = changedAttributes(conv);
  const ts = timeOf(conv, 'updated_at', 'timestamp', 'last_activity_at', 'created_at');
  const status = str(conv, 'status');
  const statusChanged = event === 'conversation_status_changed' || 'status' in changed;
  if (ts === undefined) {
    out.rejects.push({ at: event, reason: `Chatwoot ${event}: updated_at is not a time`, raw: conv });
    return;
  }
  if (statusChanged) {
    if (status === 'resolved')
      out.events.push({
        kind: 'close',
        // The same change may come as conversation_status_changed and conversation_updated.
        id: `close:${key}:${Math.floor(ts / 1000)}`,
        ts,
        channel: CHANNEL,
        conversationId: key,
        ...(customer ? { customer } : {}),
        resolved: true,
        ...(idOf(obj(obj(conv, 'meta'), 'assignee'), 'id')
          ? { account: idOf(obj(obj(conv, 'meta'), 'assignee'), 'id')! }
          : {}),
      });
    else
      out.rejects.push({
        at: event,
        reason: `Chatwoot ${event}: status "${status ?? show(conv.status, 40)}" is not a close (open/pending/snoozed change no fact)`,
      });
  }
  const assignee = assigneeChange(conv, event, changed);
  if (assignee && 'account' in assignee)
    out.events.push({
      kind: 'assignment',
      id: `assign:${key}:${assignee.account}:${Math.floor(ts / 1000)}`,
      ts,
      channel: CHANNEL,
      conversationId: key,
      ...(customer ? { customer } : {}),
      account: assignee.account,
      ...(assignee.name ? { accountName: assignee.name } : {}),
      ...(assignee.transfer ? { transfer: true } : {}),
    });
  else if (assignee) out.rejects.push({ at: event, reason: `Chatwoot ${event}: ${assignee.reason}` });
  if (out.events.length === before && !statusChanged && !assignee) {
    const names = Object.keys(changed).slice(0, 10).join(', ') || 'nothing listed';
    out.rejects.push({
      at: event,
      reason: `Chatwoot ${event}: no message, status or assignee change (changed: ${clip(names, 200)})`,
    });
  }
}

/** changed_attributes: a list of one-key objects {attr: {previous_value, current_value}}. */
function changedAttributes(
  conv: Record<string, unknown>,
): Record<string, { previous: unknown; current: unknown }> {
  // No prototype: an attribute named __proto__ or constructor is data, not a lookup hit.
  const out: Record<string, { previous: unknown; current: unknown }> = Object.create(null);
  const list =
    arr(conv, 'changed_attributes') ?? (isObject(conv.changed_attributes) ? [conv.changed_attributes] : []);
  for (const item of list) {
    if (!isObject(item)) continue;
    for (const [k, v] of Object.entries(item))
      if (isObject(v)) out[k] = { previous: v.previous_value, current: v.current_value };
  }
  return out;
}

function assigneeChange(
  conv: Record<string, unknown>,
  event: string,
  changed: Record<string, { previous: unknown; current: unknown }>,
): { account: string; name?: string; transfer: boolean } | { reason: string } | undefined {
  const meta = obj(obj(conv, 'meta'), 'assignee');
  const c = changed.assignee_id;
  if (c) {
    const current = typeof c.current === 'number' || typeof c.current === 'string' ? String(c.current) : '';
    if (!current) return { reason: 'conversation unassigned (no agent to credit)' };
    if (current.length > 200) return { reason: 'assignee_id too long' };
    const name = idOf(meta, 'id') === current ? nameOf(meta) : undefined;
    const previous = c.previous;
    return {
      account: current,
      ...(name ? { name } : {}),
      transfer: previous !== null && previous !== undefined && previous !== '',
    };
  }
  // A conversation created already assigned (an inbox with auto-assignment).
  if (event === 'conversation_created' && idOf(meta, 'id')) {
    const name = nameOf(meta);
    return { account: idOf(meta, 'id')!, ...(name ? { name } : {}), transfer: false };
  }
  return undefined;
}
