/**
 * 飞书 Feishu / Lark events (schema 2.0) and 服务台 (Helpdesk) API responses.
 *
 * - `im.message.receive_v1`: a user writing to the app — a customer message (sender_type "user";
 *   the customer is the sender's open_id). Every message_type counts, with its words where it has
 *   some (`content` is a JSON string). create_time is a string of unix milliseconds. No native
 *   session: conversations are split by idle time per customer.
 * - `helpdesk.ticket.created_v1` / `updated_v1`: ticket events; a close (status 50 bot-closed,
 *   51 agent-closed, 52 user-closed) is a ticket resolved/closed (solve 2 = solved), a close event
 *   on the ticket's conversation with the platform's solved flag, and the 1–3 score
 *   (不满意/一般/满意) as a rating; closed → open is a reopen.
 * - `helpdesk.ticket_message.created_v1`: a message in the ticket's conversation (conversationId =
 *   ticket id). sender_type 1 is the user; the helpdesk's own FAQ bot also writes as 1 but without
 *   a sender id, so that is read as the bot; 2 is an agent (account = open_id). The ticket's
 *   agent_owner is an assignment.
 * - Helpdesk API responses saved to files (tickets.get, tickets.list) are read like ticket events.
 *   tickets.messages.list names neither the ticket nor which side sent each message: rejects that
 *   say so.
 *
 * Verification: the Verification Token (source option verifyToken) in header.token (schema 2.0) or
 * token (1.0); with an Encrypt Key (option encryptKey) bodies are decrypted and every request but
 * the URL check must carry a valid X-Lark-Signature. url_verification is answered with the challenge.
 */
import {
  emptyParse,
  epochMs,
  isObject,
  jsonIn,
  keep,
  name,
  type Obj,
  str,
  text,
} from '../shared/json-fields.ts';
import { header, sameSecret } from '../shared/signatures.ts';
import type {
  Opened,
  SourceCredentials,
  WebhookConnector,
  WebhookParse,
  WebhookRequest,
} from '../webhooks.ts';
import { decryptFeishu, feishuSignature } from './crypto.ts';

export const SIGNATURE_HEADER = 'x-lark-signature';
export const TIMESTAMP_HEADER = 'x-lark-request-timestamp';
export const NONCE_HEADER = 'x-lark-request-nonce';

const CHANNEL = 'feishu';

/** Feishu message_type → msgType. */
export const FEISHU_MESSAGE_TYPES: Record<string, string> = {
  text: 'text',
  post: 'text',
  image: 'image',
  file: 'file',
  audio: 'voice',
  media: 'video',
  sticker: 'sticker',
  interactive: 'card',
  share_chat: 'share',
  share_user: 'contact',
  share_calendar_event: 'share',
  calendar: 'share',
  general_calendar: 'share',
  location: 'location',
  merge_forward: 'forward',
  folder: 'file',
  hongbao: 'red_packet',
  todo: 'todo',
  vote: 'vote',
  video_chat: 'video_call',
  system: 'system',
};

const CLOSED = new Set([50, 51, 52]);

const opened = new WeakMap<WebhookRequest, { doc: unknown } | { error: string }>();

/** The body as JSON, decrypted when it is `{"encrypt": …}`; once per request (verify, then open). */
function openBody(req: WebhookRequest, creds: SourceCredentials): { doc: unknown } | { error: string } {
  const hit = opened.get(req);
  if (hit) return hit;
  let result: { doc: unknown } | { error: string };
  try {
    let doc = JSON.parse(req.body.toString('utf8')) as unknown;
    if (isObject(doc) && typeof doc.encrypt === 'string') {
      const key = creds.options.encryptKey;
      if (!key) throw new Error('the body is encrypted but the source has no encryptKey option');
      const plain = decryptFeishu(doc.encrypt, key);
      if ('error' in plain) throw new Error(plain.error);
      doc = JSON.parse(plain.text) as unknown;
    }
    result = { doc };
  } catch (e) {
    result = { error: `Feishu body: ${(e as Error).message}` };
  }
  opened.set(req, result);
  return result;
}

const isUrlVerification = (doc: unknown) => isObject(doc) && doc.type === 'url_verification';

function tokenOf(doc: unknown): string | undefined {
  if (!isObject(doc)) return undefined;
  const t = isObject(doc.header) ? doc.header.token : doc.token;
  return typeof t === 'string' ? t : undefined;
}

export const feishuWebhook: WebhookConnector = {
  platform: 'feishu',
  label: { zh: '飞书 / Lark(消息与服务台)', en: 'Feishu / Lark (messages and Helpdesk)' },
  verification:
    'Verification Token in the event (header.token); with an Encrypt Key: AES-256-CBC bodies and X-Lark-Signature = sha256(timestamp + nonce + key + body)',
  secretHelp: {
    zh: '未使用:飞书以 Verification Token 与 Encrypt Key 校验(见 --option)',
    en: 'not used: Feishu proves itself with the Verification Token and Encrypt Key (see --option)',
  },
  options: [
    {
      name: 'verifyToken',
      required: true,
      help: { zh: '事件订阅的 Verification Token', en: 'the Verification Token of the event subscription' },
    },
    {
      name: 'encryptKey',
      required: false,
      help: {
        zh: '事件订阅的 Encrypt Key(设置后请求体加密并带 X-Lark-Signature 签名)',
        en: 'the Encrypt Key of the event subscription (bodies then arrive encrypted and signed)',
      },
    },
  ],
  verify(req, creds) {
    const token = creds.options.verifyToken;
    if (!token) return 'the source has no verifyToken option; add the Verification Token';
    const key = creds.options.encryptKey;
    const sig = header(req.headers, SIGNATURE_HEADER);
    if (key && sig !== undefined) {
      const expected = feishuSignature(
        header(req.headers, TIMESTAMP_HEADER) ?? '',
        header(req.headers, NONCE_HEADER) ?? '',
        key,
        req.body,
      );
      if (!sameSecret(sig, expected)) return `${SIGNATURE_HEADER} does not match`;
    }
    const body = openBody(req, creds);
    // An unreadable body is refused by open (400, kept as a reject), never stored.
    if ('error' in body) return null;
    if (!sameSecret(tokenOf(body.doc), token)) return 'verification token (header.token) missing or wrong';
    // Feishu signs every event once an Encrypt Key is set, except the URL check.
    if (key && sig === undefined && !isUrlVerification(body.doc)) return `missing ${SIGNATURE_HEADER} header`;
    return null;
  },
  open(req, creds): Opened {
    const body = openBody(req, creds);
    if ('error' in body) return body;
    if (isUrlVerification(body.doc)) {
      const challenge = (body.doc as Obj).challenge;
      return { reply: { status: 200, body: { challenge: typeof challenge === 'string' ? challenge : '' } } };
    }
    return body;
  },
  detect: (doc) =>
    isObject(doc) &&
    ((doc.schema === '2.0' && isObject(doc.header) && typeof doc.header.event_type === 'string') ||
      (doc.type === 'event_callback' && isObject(doc.event)) ||
      (typeof doc.code === 'number' &&
        typeof doc.msg === 'string' &&
        isObject(doc.data) &&
        (isObject(doc.data.ticket) || Array.isArray(doc.data.tickets) || isHelpdeskMessages(doc.data)))),
  parse(doc): WebhookParse {
    const out = emptyParse();
    if (!isObject(doc)) {
      out.rejects.push({ at: 'body', reason: 'not a Feishu event (not an object)', raw: doc });
      return out;
    }
    if (isUrlVerification(doc)) {
      out.rejects.push({ at: 'body', reason: 'url_verification: the URL check, not an event' });
      return out;
    }
    if (doc.schema === '2.0' && isObject(doc.header)) {
      readEvent(doc, out);
      return out;
    }
    if (doc.type === 'event_callback') {
      const t = isObject(doc.event) ? str(doc.event.type, 60) : undefined;
      out.rejects.push({
        at: 'event',
        reason: `Feishu schema 1.0 event "${t ?? '(none)'}": subscribe to the 2.0 events (im.message.receive_v1, helpdesk.*)`,
        raw: doc,
      });
      return out;
    }
    if (isObject(doc.data)) {
      readApiResponse(doc, out);
      return out;
    }
    out.rejects.push({
      at: 'body',
      reason: 'not a Feishu event (no schema 2.0 header) nor a Helpdesk API response',
      raw: doc,
    });
    return out;
  },
};

function isHelpdeskMessages(data: Obj): boolean {
  return Array.isArray(data.messages) && data.messages.some((m) => isObject(m) && 'message_type' in m);
}

function readEvent(doc: Obj, out: WebhookParse): void {
  const head = doc.header as Obj;
  const type = typeof head.event_type === 'string' ? head.event_type.slice(0, 80) : '(none)';
  const event = isObject(doc.event) ? doc.event : null;
  if (!event) {
    out.rejects.push({ at: type, reason: 'event: missing', raw: doc });
    return;
  }
  const headerTs = epochMs(head.create_time, 'ms');
  switch (type) {
    case 'im.message.receive_v1':
      readImMessage(event, out, doc);
      return;
    case 'helpdesk.ticket.created_v1':
      readTicket(event, { at: type, kind: 'created', fallbackTs: headerTs }, out, doc);
      return;
    case 'helpdesk.ticket.updated_v1':
      if (!isObject(event.object)) {
        out.rejects.push({ at: type, reason: 'event.object: missing (the ticket)', raw: doc });
        return;
      }
      readTicket(
        event.object,
        {
          at: type,
          kind: 'updated',
          old: isObject(event.old_object) ? event.old_object : {},
          fallbackTs: headerTs,
        },
        out,
        doc,
      );
      return;
    case 'helpdesk.ticket_message.created_v1':
      readTicketMessage(event, headerTs, out, doc);
      return;
    case 'im.message.message_read_v1':
      out.rejects.push({
        at: type,
        reason: 'a read receipt, not a message',
        raw: doc,
      });
      return;
    default:
      out.rejects.push({
        at: type,
        reason: `Feishu event "${type}" is not read: not a chat message or ticket event`,
        raw: doc,
      });
  }
}

function openId(v: unknown): string | undefined {
  if (typeof v === 'string') return str(v, 200);
  if (!isObject(v)) return undefined;
  return str(v.open_id, 200) ?? str(v.union_id, 200) ?? str(v.user_id, 200);
}

function readImMessage(event: Obj, out: WebhookParse, raw: unknown): void {
  const at = 'im.message.receive_v1';
  const sender = isObject(event.sender) ? event.sender : {};
  const m = isObject(event.message) ? event.message : null;
  if (!m) {
    out.rejects.push({ at, reason: 'event.message: missing', raw });
    return;
  }
  if (sender.sender_type !== 'user') {
    out.rejects.push({
      at,
      reason: `sender.sender_type "${str(sender.sender_type, 40) ?? '(none)'}": only users' messages reach an app; an app's own message has no customer`,
      raw,
    });
    return;
  }
  const customer = openId(sender.sender_id);
  if (!customer) {
    out.rejects.push({ at, reason: 'sender.sender_id: no open_id, union_id or user_id', raw });
    return;
  }
  const type = str(m.message_type, 50) ?? '(none)';
  const msgType = Object.hasOwn(FEISHU_MESSAGE_TYPES, type) ? FEISHU_MESSAGE_TYPES[type] : undefined;
  if (!msgType) {
    out.rejects.push({ at, reason: `unknown Feishu message_type "${type}"`, raw });
    return;
  }
  const id = str(m.message_id);
  if (!id) {
    out.rejects.push({ at, reason: 'message.message_id: missing', raw });
    return;
  }
  const ts = epochMs(m.create_time, 'ms');
  if (ts === null) {
    out.rejects.push({ at, reason: 'message.create_time: expected unix milliseconds', raw });
    return;
  }
  const words = contentText(type, jsonIn(m.content));
  keep(
    out,
    at,
    {
      kind: 'message',
      id,
      ts,
      channel: CHANNEL,
      customer: { id: customer },
      role: 'customer',
      msgType,
      ...(words !== undefined ? { text: words } : {}),
    },
    raw,
  );
}

/** The words in a message's content, by type (Feishu's content JSON differs per message_type). */
export function contentText(type: string, content: unknown): string | undefined {
  if (!isObject(content)) return undefined;
  switch (type) {
    case 'text':
      return text(content.text);
    case 'post': {
      // Either {title, content} or keyed by locale: {zh_cn: {title, content}}.
      const post = Array.isArray(content.content) ? content : Object.values(content).find(isObject);
      if (!isObject(post)) return undefined;
      const parts: string[] = [];
      if (typeof post.title === 'string' && post.title) parts.push(post.title);
      if (Array.isArray(post.content))
        for (const line of post.content.slice(0, 1000)) {
          if (!Array.isArray(line)) continue;
          const words = line
            .map((el) => (isObject(el) && typeof el.text === 'string' ? el.text : ''))
            .join('');
          if (words) parts.push(words);
        }
      return text(parts.join('\n'));
    }
    case 'file':
    case 'media':
    case 'folder':
      return text(content.file_name);
    case 'location':
      return text(content.name);
    case 'interactive':
      return text(content.title);
    default:
      return undefined;
  }
}

interface TicketContext {
  at: string;
  kind: 'created' | 'updated' | 'snapshot';
  old?: Obj;
  fallbackTs: number | null;
}

function positiveMs(v: unknown): number | null {
  return epochMs(v, 'ms');
}

function guestOf(guest: unknown): { id: string; name?: string } | undefined {
  if (!isObject(guest)) return undefined;
  const id = openId(guest.id);
  if (!id) return undefined;
  const n = name(guest.name);
  return { id, ...(n && n !== '-' ? { name: n } : {}) };
}

function agentOf(t: Obj): { id: string; name?: string } | undefined {
  const candidates = [t.agent_owner, ...(Array.isArray(t.agents) ? t.agents : [])];
  for (const a of candidates) {
    if (!isObject(a)) continue;
    const id = openId(a.id);
    if (id) {
      const n = name(a.name);
      return { id, ...(n ? { name: n } : {}) };
    }
  }
  return undefined;
}

/** One ticket (an event's or an API response's) → ticket, assignment, close and rating events. */
function readTicket(t: Obj, ctx: TicketContext, out: WebhookParse, raw: unknown): void {
  const { at } = ctx;
  const ticketId = str(t.ticket_id, 200);
  if (!ticketId) {
    out.rejects.push({ at, reason: 'ticket_id: missing', raw });
    return;
  }
  const customer = guestOf(t.guest);
  const base = { channel: CHANNEL, ...(customer ? { customer } : {}) };
  const createdTs = positiveMs(t.created_at) ?? ctx.fallbackTs;
  const updatedTs = positiveMs(t.updated_at) ?? ctx.fallbackTs ?? createdTs;
  const status = typeof t.status === 'number' ? t.status : null;
  const closedNow = status !== null && CLOSED.has(status);
  const oldStatus = ctx.old && typeof ctx.old.status === 'number' ? ctx.old.status : null;
  const solved = t.solve === 2 ? true : t.solve === 1 ? false : undefined;

  if (ctx.kind !== 'updated') {
    if (createdTs === null) {
      out.rejects.push({ at, reason: 'created_at: expected unix milliseconds', raw });
      return;
    }
    keep(
      out,
      at,
      {
        kind: 'ticket',
        id: `ticket:${ticketId}:created`,
        ts: createdTs,
        ticketId,
        status: 'created',
        ...base,
      },
      raw,
    );
  }
  const agent = agentOf(t);
  if (agent) {
    const ts = positiveMs(t.agent_entry_time) ?? updatedTs;
    if (ts !== null)
      keep(
        out,
        at,
        {
          kind: 'assignment',
          // One assignment per agent and ticket: every later event repeats the owner.
          id: `assign:${ticketId}:${agent.id}`,
          ts,
          conversationId: ticketId,
          account: agent.id,
          ...(agent.name ? { accountName: agent.name } : {}),
          ...base,
        },
        raw,
      );
  }
  let lifecycle: 'resolved' | 'closed' | 'reopened' | 'updated' | null = null;
  if (closedNow && (ctx.kind !== 'updated' || oldStatus === null || !CLOSED.has(oldStatus)))
    lifecycle = solved ? 'resolved' : 'closed';
  else if (ctx.kind === 'updated' && !closedNow && oldStatus !== null && CLOSED.has(oldStatus))
    lifecycle = 'reopened';
  else if (ctx.kind === 'updated') lifecycle = 'updated';
  const closedTs = positiveMs(t.closed_at) ?? updatedTs;
  if (lifecycle !== null) {
    const ts = lifecycle === 'resolved' || lifecycle === 'closed' ? closedTs : updatedTs;
    if (ts === null) {
      out.rejects.push({ at, reason: 'updated_at: expected unix milliseconds', raw });
      return;
    }
    keep(
      out,
      at,
      {
        kind: 'ticket',
        id: `ticket:${ticketId}:${lifecycle}:${ts}`,
        ts,
        ticketId,
        status: lifecycle,
        ...base,
      },
      raw,
    );
    if (lifecycle === 'resolved' || lifecycle === 'closed') {
      const closer = isObject(t.closed_by) ? openId(t.closed_by.id) : undefined;
      keep(
        out,
        at,
        {
          kind: 'close',
          id: `close:${ticketId}:${ts}`,
          ts,
          conversationId: ticketId,
          ...(solved !== undefined ? { resolved: solved } : {}),
          ...(closer && closer !== customer?.id ? { account: closer } : {}),
          ...base,
        },
        raw,
      );
    }
  }
  // The user rates after the close, often in a later update of a ticket that stays closed.
  if (closedNow && closedTs !== null && (t.score === 1 || t.score === 2 || t.score === 3))
    keep(
      out,
      at,
      {
        kind: 'rating',
        id: `rating:${ticketId}`,
        ts: closedTs,
        conversationId: ticketId,
        score: t.score,
        scale: '3',
        ...base,
      },
      raw,
    );
}

function readTicketMessage(event: Obj, headerTs: number | null, out: WebhookParse, raw: unknown): void {
  const at = 'helpdesk.ticket_message.created_v1';
  const ticket = isObject(event.ticket) ? event.ticket : {};
  const ticketId = str(ticket.ticket_id, 200);
  if (!ticketId) {
    out.rejects.push({ at, reason: 'ticket.ticket_id: missing', raw });
    return;
  }
  const id = str(event.message_id) ?? str(event.ticket_message_id);
  if (!id) {
    out.rejects.push({ at, reason: 'message_id: missing', raw });
    return;
  }
  if (headerTs === null) {
    out.rejects.push({ at, reason: 'header.create_time: expected unix milliseconds', raw });
    return;
  }
  const sender = openId(event.sender_id);
  let role: 'customer' | 'agent' | 'bot';
  if (event.sender_type === 1) role = sender ? 'customer' : 'bot';
  else if (event.sender_type === 2 && sender) role = 'agent';
  else {
    out.rejects.push({
      at,
      reason: `sender_type ${JSON.stringify(event.sender_type ?? null).slice(0, 30)}${sender ? '' : ' without sender_id'}: expected 1 (user) or 2 (agent with a sender_id)`,
      raw,
    });
    return;
  }
  const content = isObject(event.content) ? event.content : (jsonIn(event.content) as Obj | undefined);
  const type =
    str(event.msg_type, 50) ?? (isObject(content) ? str(content.msg_type, 50) : undefined) ?? 'text';
  const msgType = Object.hasOwn(FEISHU_MESSAGE_TYPES, type) ? FEISHU_MESSAGE_TYPES[type]! : undefined;
  if (!msgType) {
    out.rejects.push({ at, reason: `unknown Feishu msg_type "${type}"`, raw });
    return;
  }
  const words = text(event.text) ?? (isObject(content) ? text(content.content) : undefined);
  keep(
    out,
    at,
    {
      kind: 'message',
      id,
      ts: headerTs,
      channel: CHANNEL,
      conversationId: ticketId,
      ...(role === 'customer' ? { customer: { id: sender! } } : {}),
      role,
      ...(role === 'agent' ? { account: sender! } : {}),
      msgType,
      ...(words !== undefined ? { text: words } : {}),
    },
    raw,
  );
  // The ticket as the message carries it: its owner is the assigned agent.
  const agent = agentOf(ticket);
  const entered = positiveMs(ticket.agent_entry_time);
  if (agent && entered !== null)
    keep(
      out,
      at,
      {
        kind: 'assignment',
        id: `assign:${ticketId}:${agent.id}`,
        ts: entered,
        channel: CHANNEL,
        conversationId: ticketId,
        account: agent.id,
        ...(agent.name ? { accountName: agent.name } : {}),
      },
      raw,
    );
}

function readApiResponse(doc: Obj, out: WebhookParse): void {
  const data = doc.data as Obj;
  if (typeof doc.code === 'number' && doc.code !== 0) {
    out.rejects.push({
      at: 'response',
      reason: `Feishu API error ${doc.code}: ${str(doc.msg, 200) ?? ''}`,
      raw: doc,
    });
    return;
  }
  if (isObject(data.ticket))
    readTicket(data.ticket, { at: 'data.ticket', kind: 'snapshot', fallbackTs: null }, out, data.ticket);
  else if (Array.isArray(data.tickets))
    data.tickets.forEach((t, i) => {
      const at = `data.tickets[${i}]`;
      if (isObject(t)) readTicket(t, { at, kind: 'snapshot', fallbackTs: null }, out, t);
      else out.rejects.push({ at, reason: 'ticket is not an object', raw: t });
    });
  else if (Array.isArray(data.messages))
    for (const [i, m] of data.messages.entries())
      out.rejects.push({
        at: `data.messages[${i}]`,
        reason:
          'Helpdesk tickets.messages.list names neither the ticket nor whether the sender is the user or an agent; import the helpdesk.ticket_message.created_v1 events instead',
        raw: m,
      });
  else
    out.rejects.push({
      at: 'data',
      reason: 'a Feishu API response without ticket, tickets or messages',
      raw: doc,
    });
}
