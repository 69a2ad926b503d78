/**
 * LINE Messaging API webhooks: `{destination, events: [...]}`, timestamps in unix milliseconds.
 *
 * - `message` events are customer messages of every type (text, image, video, audio, file,
 *   location, sticker); the customer is `source.userId` (in a group or room without a userId, the
 *   group or room). LINE has no sessions: conversations are split by idle time per customer.
 * - The event id is `webhookEventId`: a redelivery (`deliveryContext.isRedelivery`) carries the same
 *   one, so it is stored once. Events without one fall back to the message id.
 * - follow/unfollow/join/leave/postback/beacon/accountLink/member…/unsend/messageEdited/… are not
 *   chat messages: rejects that name the type; an unknown type is a reject that says it is unknown.
 *
 * Bots never receive their own replies, so the agent side is not in this stream.
 *
 * Verification: X-Line-Signature = base64(HMAC-SHA256(channel secret, raw body)).
 */
import { createHmac } from 'node:crypto';
import { emptyParse, epochMs, isObject, keep, str, text } from '../shared/json-fields.ts';
import { header, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';

export const SIGNATURE_HEADER = 'x-line-signature';

/** LINE message types and the msgType each becomes. */
export const LINE_MESSAGE_TYPES: Record<string, string> = {
  text: 'text',
  image: 'image',
  video: 'video',
  audio: 'voice',
  file: 'file',
  location: 'location',
  sticker: 'sticker',
};

/** Event types LINE documents that are not chat messages, with what they are. */
export const LINE_OTHER_EVENTS: Record<string, string> = {
  follow: 'the user added the account as a friend',
  unfollow: 'the user blocked the account',
  join: 'the account joined a group or room',
  leave: 'the account left a group or room',
  memberJoined: 'members joined a group',
  memberLeft: 'members left a group',
  postback: 'a button (postback) action',
  beacon: 'a beacon signal',
  accountLink: 'an account link result',
  things: 'a LINE Things device event',
  unsend: 'the user unsent an earlier message',
  messageEdited: 'an edit of an earlier message, not a new one',
  videoPlayComplete: 'a video finished playing',
  membership: 'a membership change',
  module: 'a module channel event',
  activated: 'a module channel was activated',
  deactivated: 'a module channel was deactivated',
  botSuspended: 'the bot was suspended',
  botResumed: 'the bot was resumed',
  pnpDeliveryCompletion: 'a notification-message delivery report',
};

export const lineWebhook: WebhookConnector = {
  platform: 'line',
  label: { zh: 'LINE(Messaging API)', en: 'LINE (Messaging API)' },
  verification: 'X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))',
  secretHelp: { zh: 'LINE 渠道的 Channel secret', en: "the LINE channel's Channel secret" },
  verify(req, { secret }) {
    if (!secret) return 'the source has no secret; set it to the channel secret';
    const given = header(req.headers, SIGNATURE_HEADER);
    if (!given) return `missing ${SIGNATURE_HEADER} header`;
    const expected = createHmac('sha256', secret).update(req.body).digest('base64');
    if (!sameSecret(given, expected)) return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  detect: (doc) => isObject(doc) && typeof doc.destination === 'string' && Array.isArray(doc.events),
  parse(doc): WebhookParse {
    const out = emptyParse();
    if (!isObject(doc) || !Array.isArray(doc.events)) {
      out.rejects.push({ at: 'body', reason: 'not a LINE webhook body (no events[] array)', raw: doc });
      return out;
    }
    for (const [i, e] of doc.events.entries()) readEvent(e, `events[${i}]`, out);
    return out;
  },
};

function readEvent(e: unknown, at: string, out: WebhookParse): void {
  if (!isObject(e)) {
    out.rejects.push({ at, reason: 'event is not an object', raw: e });
    return;
  }
  const type = typeof e.type === 'string' ? e.type.slice(0, 50) : '(none)';
  if (type !== 'message') {
    const what = Object.hasOwn(LINE_OTHER_EVENTS, type) ? LINE_OTHER_EVENTS[type] : undefined;
    out.rejects.push({
      at,
      reason: what ? `LINE ${type} event: ${what}, not a chat message` : `unknown LINE event type "${type}"`,
      raw: e,
    });
    return;
  }
  const m = isObject(e.message) ? e.message : null;
  if (!m) {
    out.rejects.push({ at, reason: 'message: missing', raw: e });
    return;
  }
  const mType = typeof m.type === 'string' ? m.type.slice(0, 50) : '(none)';
  const msgType = Object.hasOwn(LINE_MESSAGE_TYPES, mType) ? LINE_MESSAGE_TYPES[mType]! : undefined;
  if (!msgType) {
    out.rejects.push({ at, reason: `unknown LINE message type "${mType}"`, raw: e });
    return;
  }
  const source = isObject(e.source) ? e.source : {};
  const customer = str(source.userId, 200) ?? str(source.groupId, 200) ?? str(source.roomId, 200);
  if (!customer) {
    out.rejects.push({ at, reason: 'source: no userId, groupId or roomId', raw: e });
    return;
  }
  const id = str(e.webhookEventId) ?? str(m.id);
  if (!id) {
    out.rejects.push({ at, reason: 'webhookEventId: missing (and no message id)', raw: e });
    return;
  }
  const ts = epochMs(e.timestamp, 'ms');
  if (ts === null) {
    out.rejects.push({ at, reason: 'timestamp: expected unix milliseconds', raw: e });
    return;
  }
  const words =
    mType === 'file'
      ? text(m.fileName)
      : mType === 'location'
        ? text([m.title, m.address].filter((x) => typeof x === 'string' && x).join(' '))
        : text(m.text);
  keep(
    out,
    at,
    {
      kind: 'message',
      id,
      ts,
      channel: 'line',
      customer: { id: customer },
      role: 'customer',
      msgType,
      ...(words !== undefined ? { text: words } : {}),
    },
    e,
  );
}
