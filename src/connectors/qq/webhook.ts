/**
 * QQ bot open platform (QQ机器人开放平台) webhooks: `{id, op, d, s, t}` payloads.
 *
 * - op 0 (Dispatch) with t = C2C_MESSAGE_CREATE (a user's private message; author.user_openid),
 *   GROUP_AT_MESSAGE_CREATE (a group member @-ing the bot; author.member_openid),
 *   AT_MESSAGE_CREATE / MESSAGE_CREATE (QQ 频道 guild channels; author.id) and
 *   DIRECT_MESSAGE_CREATE (guild private messages): customer messages (another bot's
 *   message in a guild is a reject). The msgType is `text`, or the first attachment's kind (image, voice, video, file).
 *   Timestamps are ISO strings with the +08:00 offset. No native sessions: split by idle time.
 * - Every other event type (friend and group add/remove, interactions, reactions…) is a reject
 *   that names it; op 13 is the URL check and is answered, never stored.
 *
 * Verification: Ed25519 (see ed25519.ts) — X-Signature-Ed25519 over X-Signature-Timestamp + body on
 * every event. The op 13 URL check may come unsigned (as the platform's own examples send it); it is
 * answered only when its token has the documented shape (see urlCheck). A dispatch is acknowledged
 * with op 12.
 */
import { emptyParse, epochMs, isObject, keep, name, type Obj, str, text } from '../shared/json-fields.ts';
import { header } from '../shared/signatures.ts';
import type { Opened, WebhookConnector, WebhookParse } from '../webhooks.ts';
import { signHex, verifyHex } from './ed25519.ts';

export const SIGNATURE_HEADER = 'x-signature-ed25519';
export const TIMESTAMP_HEADER = 'x-signature-timestamp';

/** Dispatch types that are messages, and where each names its sender. */
export const QQ_MESSAGE_EVENTS: Record<string, (author: Obj) => unknown> = {
  C2C_MESSAGE_CREATE: (a) => a.user_openid ?? a.id,
  GROUP_AT_MESSAGE_CREATE: (a) => a.member_openid ?? a.id,
  AT_MESSAGE_CREATE: (a) => a.id,
  MESSAGE_CREATE: (a) => a.id,
  DIRECT_MESSAGE_CREATE: (a) => a.id,
};

export const qqWebhook: WebhookConnector = {
  platform: 'qq',
  label: { zh: 'QQ 机器人(开放平台)', en: 'QQ bot (open platform)' },
  verification: 'X-Signature-Ed25519 over X-Signature-Timestamp + body, key derived from the bot secret',
  secretHelp: { zh: 'QQ 机器人的 AppSecret(机器人密钥)', en: "the QQ bot's AppSecret" },
  ack: { status: 200, body: { op: 12 } },
  verify(req, { secret }) {
    if (!secret) return 'the source has no secret; set it to the bot AppSecret';
    const sig = header(req.headers, SIGNATURE_HEADER);
    const ts = header(req.headers, TIMESTAMP_HEADER);
    if (!sig && !ts && urlCheck(req.body) !== null) return null;
    if (!sig || !ts) return `missing ${SIGNATURE_HEADER} or ${TIMESTAMP_HEADER} header`;
    if (!verifyHex(secret, Buffer.concat([Buffer.from(ts), req.body]), sig))
      return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  open(req, { secret }): Opened {
    let doc: unknown;
    try {
      doc = JSON.parse(req.body.toString('utf8'));
    } catch (e) {
      return { error: `body is not JSON: ${(e as Error).message}` };
    }
    if (isObject(doc) && doc.op === 13) {
      const check = urlCheck(req.body);
      if (check === null || !secret)
        return { error: 'op 13 URL check: d.plain_token must be letters and digits, d.event_ts digits' };
      return {
        reply: {
          status: 200,
          body: { plain_token: check.plain, signature: signHex(secret, check.eventTs + check.plain) },
        },
      };
    }
    return { doc };
  },
  detect: (doc) =>
    isObject(doc) && typeof doc.op === 'number' && 'd' in doc && (doc.op !== 0 || typeof doc.t === 'string'),
  parse(doc): WebhookParse {
    const out = emptyParse();
    if (!isObject(doc) || typeof doc.op !== 'number') {
      out.rejects.push({ at: 'payload', reason: 'not a QQ bot payload (no numeric op)', raw: doc });
      return out;
    }
    if (doc.op !== 0) {
      out.rejects.push({
        at: `op ${doc.op}`,
        reason: doc.op === 13 ? 'the URL check, not an event' : `QQ op ${doc.op} is not a dispatch (op 0)`,
        raw: doc,
      });
      return out;
    }
    const t = typeof doc.t === 'string' ? doc.t.slice(0, 60) : '(none)';
    const senderOf = Object.hasOwn(QQ_MESSAGE_EVENTS, t) ? QQ_MESSAGE_EVENTS[t] : undefined;
    if (!senderOf) {
      out.rejects.push({ at: t, reason: `QQ event "${t}" is not a chat message`, raw: doc });
      return out;
    }
    const d = isObject(doc.d) ? doc.d : null;
    if (!d) {
      out.rejects.push({ at: t, reason: 'd: missing (the message)', raw: doc });
      return out;
    }
    const author = isObject(d.author) ? d.author : {};
    const customer = str(senderOf(author), 200);
    if (!customer) {
      out.rejects.push({ at: t, reason: 'd.author: no openid or id', raw: doc });
      return out;
    }
    const id = str(d.id);
    if (!id) {
      out.rejects.push({ at: t, reason: 'd.id: missing (the message id)', raw: doc });
      return out;
    }
    const ts = epochMs(d.timestamp, 'iso') ?? epochMs(d.timestamp, 's');
    if (ts === null) {
      out.rejects.push({ at: t, reason: 'd.timestamp: expected an ISO time (or unix seconds)', raw: doc });
      return out;
    }
    if (author.bot === true) {
      // A bot never receives its own messages: this is another bot in a guild channel.
      out.rejects.push({ at: t, reason: "d.author.bot: another bot's message, not a customer's", raw: doc });
      return out;
    }
    const words = text(typeof d.content === 'string' ? d.content.trim() : undefined);
    const display = name(author.username);
    keep(
      out,
      t,
      {
        kind: 'message',
        id,
        ts,
        channel: 'qq',
        customer: { id: customer, ...(display ? { name: display } : {}) },
        role: 'customer',
        msgType: attachmentKind(d.attachments) ?? 'text',
        ...(words !== undefined ? { text: words } : {}),
      },
      doc,
    );
    return out;
  },
};

/**
 * The op 13 URL check, when its fields have the documented shape. The platform may send it
 * unsigned, and our answer signs event_ts + plain_token with the bot's key: were any text
 * accepted, a stranger could have us sign "timestamp + forged body" and then pass that body off
 * as the platform's. Digits followed by letters and digits can never be a JSON object, so the
 * answer cannot be replayed as an event.
 */
function urlCheck(body: Buffer): { plain: string; eventTs: string } | null {
  if (body.length > 1000) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(doc) || doc.op !== 13 || !isObject(doc.d)) return null;
  const { plain_token: plain, event_ts: eventTs } = doc.d;
  if (typeof plain !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(plain)) return null;
  if (typeof eventTs !== 'string' || !/^\d{1,20}$/.test(eventTs)) return null;
  return { plain, eventTs };
}

function attachmentKind(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments) || attachments.length === 0) return undefined;
  const a = attachments[0];
  const type = isObject(a) && typeof a.content_type === 'string' ? a.content_type.toLowerCase() : '';
  if (type.startsWith('image')) return 'image';
  if (type.startsWith('voice') || type.startsWith('audio')) return 'voice';
  if (type.startsWith('video')) return 'video';
  return 'file';
}
