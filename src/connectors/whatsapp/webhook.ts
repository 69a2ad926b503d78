/**
 * WhatsApp Cloud API webhooks (Meta). One POST carries `entry[].changes[]`; each change's `value`
 * holds what happened on one business phone number:
 *
 * - `messages` (field "messages"): what customers sent — every kind is a customer message with its
 *   own msgType (text, image, sticker, voice, document, location, contacts, interactive and button
 *   replies, order, unsupported…); `system` notices are system messages. An order with priced
 *   product items is also an order event (for conversion), amount in the catalog's currency.
 *   Reactions, edits and deletions change an earlier message: rejects that say so.
 * - `statuses`: delivery receipts (sent/delivered/read/failed) of the business's own messages —
 *   not messages; each is a reject with its status, so the monitor counts them.
 * - `message_echoes` (field "smb_message_echoes"): messages the business sent from the WhatsApp
 *   Business app (coexistence) — the agent's side. WhatsApp names no agent, so the account is the
 *   business phone_number_id.
 *
 * Timestamps are unix seconds in strings. The customer is the wa_id; there are no native sessions,
 * so conversations are split by idle time per customer.
 *
 * Verification: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(app secret, raw body) in hex; the GET
 * subscription check (hub.mode=subscribe, hub.verify_token) echoes hub.challenge.
 */
import type { CanonicalEventInput } from '../../model/events.ts';
import { emptyParse, epochMs, isObject, keep, name, type Obj, str, text } from '../shared/json-fields.ts';
import { header, hmacSha256Hex, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** The message kinds WhatsApp documents, and the msgType each becomes. */
export const WHATSAPP_MESSAGE_TYPES: Record<string, string> = {
  text: 'text',
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'file',
  sticker: 'sticker',
  location: 'location',
  contacts: 'contact',
  interactive: 'interactive',
  button: 'button',
  order: 'order',
  system: 'system',
  unsupported: 'unsupported',
  unknown: 'unsupported',
  request_welcome: 'request_welcome',
};

/** Kinds that change an earlier message rather than add one. */
const NOT_MESSAGES: Record<string, string> = {
  reaction: 'a reaction to an earlier message, not a message',
  revoke: 'the sender deleted an earlier message',
  edit: 'an edit of an earlier message, not a new one',
};

export const whatsappWebhook: WebhookConnector = {
  platform: 'whatsapp',
  label: { zh: 'WhatsApp(Cloud API)', en: 'WhatsApp (Cloud API)' },
  verification: 'X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body); GET hub.challenge handshake',
  secretHelp: { zh: 'Meta 应用的 App Secret', en: "the Meta app's App Secret" },
  options: [
    {
      name: 'verifyToken',
      required: true,
      help: {
        zh: 'Webhook 配置里填写的验证令牌(Verify Token),用于 GET hub.challenge 校验',
        en: 'the Verify Token entered in the webhook configuration, checked on the GET hub.challenge',
      },
    },
  ],
  handshake(req, { options }) {
    const q = req.query;
    const token = options.verifyToken;
    if (q['hub.mode'] !== 'subscribe' || !token || !sameSecret(q['hub.verify_token'], token))
      return { status: 403, body: { error: 'hub.mode must be subscribe and hub.verify_token must match' } };
    const challenge = q['hub.challenge'] ?? '';
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: challenge.slice(0, 1000) };
  },
  verify(req, { secret }) {
    if (!secret) return 'the source has no secret; set it to the Meta app secret';
    const given = header(req.headers, SIGNATURE_HEADER);
    if (!given) return `missing ${SIGNATURE_HEADER} header`;
    if (!sameSecret(given, `sha256=${hmacSha256Hex(secret, req.body)}`))
      return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  detect: (doc) => isBody(doc) || isCollection(doc),
  parse(doc): WebhookParse {
    const out = emptyParse();
    if (isBody(doc)) readBody(doc, '', out);
    else if (isCollection(doc))
      // Captures and test suites keep bodies under a name each: every one is read.
      for (const [k, body] of Object.entries(doc)) readBody(body as Obj, `${k}.`, out);
    else
      out.rejects.push({
        at: 'body',
        reason: 'not a WhatsApp Cloud API webhook body (object "whatsapp_business_account" with entry[])',
        raw: doc,
      });
    return out;
  },
};

function isBody(doc: unknown): doc is Obj {
  return isObject(doc) && doc.object === 'whatsapp_business_account' && Array.isArray(doc.entry);
}

function isCollection(doc: unknown): doc is Obj {
  if (!isObject(doc) || 'object' in doc) return false;
  const values = Object.values(doc);
  return values.length > 0 && values.every(isBody);
}

function readBody(body: Obj, prefix: string, out: WebhookParse): void {
  (body.entry as unknown[]).forEach((entry, i) => {
    const at = `${prefix}entry[${i}]`;
    if (!isObject(entry) || !Array.isArray(entry.changes)) {
      out.rejects.push({ at, reason: 'entry without a changes[] array', raw: entry });
      return;
    }
    for (const [j, change] of entry.changes.entries()) readChange(change, `${at}.changes[${j}]`, out);
  });
}

function readChange(change: unknown, at: string, out: WebhookParse): void {
  if (!isObject(change) || !isObject(change.value)) {
    out.rejects.push({ at, reason: 'change without a value object', raw: change });
    return;
  }
  const field = typeof change.field === 'string' ? change.field : '(none)';
  const value = change.value;
  const meta = isObject(value.metadata) ? value.metadata : {};
  const business = str(meta.phone_number_id, 200);
  const names = contactNames(value.contacts);
  if (field !== 'messages' && field !== 'smb_message_echoes') {
    out.rejects.push({ at, reason: `WhatsApp change field "${field}" carries no chat message`, raw: change });
    return;
  }
  list(value.messages, `${at}.value.messages`, out, (m, mAt) => readMessage(m, mAt, names, out, null));
  list(value.message_echoes, `${at}.value.message_echoes`, out, (m, mAt) =>
    readMessage(m, mAt, names, out, { account: business, accountName: name(meta.display_phone_number) }),
  );
  list(value.statuses, `${at}.value.statuses`, out, (s, sAt) => {
    const status = isObject(s) && typeof s.status === 'string' ? s.status : 'unknown';
    out.rejects.push({
      at: sAt,
      reason: `WhatsApp status "${status.slice(0, 40)}": a delivery receipt of the business's message, not a message`,
      raw: s,
    });
  });
  if (Array.isArray(value.errors))
    for (const err of value.errors.slice(0, 10)) {
      const e = isObject(err) ? err : {};
      out.rejects.push({
        at: `${at}.value.errors`,
        reason: `WhatsApp reported error ${str(e.code, 20) ?? '?'}: ${str(e.title, 200) ?? str(e.message, 200) ?? 'no title'}`,
        raw: err,
      });
    }
}

function list(v: unknown, at: string, out: WebhookParse, each: (item: unknown, at: string) => void): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    out.rejects.push({ at, reason: 'expected an array', raw: v });
    return;
  }
  for (const [i, item] of v.entries()) each(item, `${at}[${i}]`);
}

function contactNames(contacts: unknown): Map<string, string> {
  const names = new Map<string, string>();
  if (Array.isArray(contacts))
    for (const c of contacts) {
      if (!isObject(c)) continue;
      const id = str(c.wa_id);
      const n = isObject(c.profile) ? name(c.profile.name) : undefined;
      if (id && n) names.set(id, n);
    }
  return names;
}

function readMessage(
  m: unknown,
  at: string,
  names: Map<string, string>,
  out: WebhookParse,
  echo: { account: string | undefined; accountName: string | undefined } | null,
): void {
  if (!isObject(m)) {
    out.rejects.push({ at, reason: 'message is not an object', raw: m });
    return;
  }
  const type = typeof m.type === 'string' ? m.type : '(none)';
  if (type in NOT_MESSAGES) {
    out.rejects.push({ at, reason: `WhatsApp ${type}: ${NOT_MESSAGES[type]}`, raw: m });
    return;
  }
  const msgType = WHATSAPP_MESSAGE_TYPES[type];
  if (msgType === undefined) {
    out.rejects.push({ at, reason: `unknown WhatsApp message type "${type.slice(0, 50)}"`, raw: m });
    return;
  }
  const id = str(m.id);
  if (!id) {
    out.rejects.push({ at, reason: 'id: missing (the wamid)', raw: m });
    return;
  }
  const ts = epochMs(m.timestamp, 's');
  if (ts === null) {
    out.rejects.push({ at, reason: 'timestamp: expected unix seconds', raw: m });
    return;
  }
  // An echo goes from the business to the customer; a message comes from the customer.
  const customerId = str(echo ? m.to : m.from, 200);
  if (!customerId) {
    out.rejects.push({ at, reason: `${echo ? 'to' : 'from'}: missing (the customer's wa_id)`, raw: m });
    return;
  }
  if (echo && !echo.account) {
    out.rejects.push({ at, reason: 'metadata.phone_number_id: missing (the business side)', raw: m });
    return;
  }
  const customerName = names.get(customerId);
  const customer = { id: customerId, ...(customerName ? { name: customerName } : {}) };
  const body = contentText(type, m);
  const event: CanonicalEventInput = {
    kind: 'message',
    id,
    ts,
    channel: 'whatsapp',
    customer,
    role: echo ? 'agent' : type === 'system' ? 'system' : 'customer',
    ...(echo
      ? { account: echo.account!, ...(echo.accountName ? { accountName: echo.accountName } : {}) }
      : {}),
    msgType: type === 'audio' && isObject(m.audio) && m.audio.voice === true ? 'voice' : msgType,
    ...(body !== undefined ? { text: body } : {}),
  };
  keep(out, at, event, m);
  if (type === 'order' && !echo) {
    const amount = orderAmount(m.order);
    if (amount !== null)
      keep(
        out,
        `${at}.order`,
        { kind: 'order', id: `order:${id}`, ts, channel: 'whatsapp', customer, amount },
        m,
      );
  }
}

/** The words of a message, where its kind has some. */
function contentText(type: string, m: Obj): string | undefined {
  const part = isObject(m[type]) ? (m[type] as Obj) : {};
  switch (type) {
    case 'text':
      return text(part.body);
    case 'image':
    case 'video':
    case 'document':
      return text(part.caption) ?? text(part.filename);
    case 'location':
      return text([part.name, part.address].filter((x) => typeof x === 'string' && x).join(' ')) ?? undefined;
    case 'contacts': {
      const contacts = Array.isArray(m.contacts) ? m.contacts : [];
      const names = contacts
        .map((c) => (isObject(c) && isObject(c.name) ? c.name.formatted_name : undefined))
        .filter((n): n is string => typeof n === 'string' && n.length > 0);
      return text(names.join(', '));
    }
    case 'interactive': {
      const reply = Object.values(part).find(isObject);
      return reply ? (text(reply.title) ?? text(reply.body)) : undefined;
    }
    case 'button':
      return text(part.text);
    case 'order':
      return text(part.text);
    case 'system':
      return text(part.body);
    default:
      return undefined;
  }
}

/** Σ quantity × item_price over the product items, or null when any price or quantity is missing. */
function orderAmount(order: unknown): number | null {
  if (!isObject(order) || !Array.isArray(order.product_items) || order.product_items.length === 0)
    return null;
  let sum = 0;
  for (const item of order.product_items) {
    if (!isObject(item)) return null;
    const q = num(item.quantity);
    const p = num(item.item_price);
    if (!Number.isFinite(q) || !Number.isFinite(p)) return null;
    sum += q * p;
  }
  return Number.isFinite(sum) ? Math.round(sum * 100) / 100 : null;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Number.NaN;
}
