/**
 * Skype, Microsoft Teams, Web Chat… through the Bot Framework Activity protocol: one Activity per
 * POST to the bot's messaging endpoint.
 *
 * - `message`: from.role "bot" (or "skill") is the bot, anyone else the customer (human agents
 *   answer from their own desk, not through this endpoint). conversation.id is the conversation;
 *   the channel is the activity's channelId (msteams, skype, webchat…), so Teams and Skype stay
 *   apart. msgType: text, else the first attachment's kind (image, audio, video, card, file).
 * - Bot handoff (a `handoff` activity, or an `event` named handoff.initiate): the bot hands the
 *   conversation to people — an assignment to the live-agent hub (the recipient, or the channel's
 *   queue when the handoff names none). METRICS.md: after a bot, first response starts at the
 *   handoff, and the sessioniser takes that time from this assignment.
 * - `endOfConversation` closes the conversation; code completedSuccessfully is resolved, the
 *   failure codes are not.
 * - conversationUpdate, contactRelationUpdate, typing, messageReaction, messageUpdate,
 *   messageDelete, installationUpdate, invoke, trace, suggestion and other events are rejects that
 *   name the type (and the event's name).
 *
 * Timestamps: `timestamp` (UTC) or else `localTimestamp` (with its offset).
 *
 * Verification: the Bearer JWT (RS256) checked against the JWKS given as the `jwks` option, the
 * app id (`appId`) as audience, the Bot Framework issuer (or `issuers`), expiry and not-before.
 */
import type { CanonicalEventInput } from '../../model/events.ts';
import { emptyParse, epochMs, isObject, keep, name, type Obj, str, text } from '../shared/json-fields.ts';
import { header } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';
import { BOT_FRAMEWORK_ISSUER, checkBotToken } from './jwt.ts';

/** Activity types that are not conversation, with what they are. */
export const BOT_FRAMEWORK_OTHER_ACTIVITIES: Record<string, string> = {
  conversationUpdate: 'members joined or left, or the conversation changed',
  contactRelationUpdate: 'the user added or removed the bot',
  typing: 'a typing indicator',
  messageReaction: 'a reaction to an earlier message',
  messageUpdate: 'an edit of an earlier message',
  messageDelete: 'a deletion of an earlier message',
  installationUpdate: 'the bot was installed or removed',
  invoke: 'a card or task action (invoke)',
  trace: 'a debugging trace',
  suggestion: 'a private suggestion to one member',
  deleteUserData: 'a request to delete user data',
  command: 'a command',
  commandResult: 'a command result',
};

export const botframeworkWebhook: WebhookConnector = {
  platform: 'botframework',
  label: { zh: 'Skype / Teams(Bot Framework)', en: 'Skype / Teams (Bot Framework)' },
  verification: 'Authorization: Bearer JWT (RS256) checked against the jwks option; audience = appId',
  secretHelp: {
    zh: '未使用:请求以 Bot Framework 签发的 JWT 证明来源(见 --option jwks、appId)',
    en: 'not used: requests carry a JWT issued by the Bot Framework (see --option jwks, appId)',
  },
  options: [
    {
      name: 'appId',
      required: true,
      help: { zh: '机器人的 Microsoft App ID', en: "the bot's Microsoft App ID" },
    },
    {
      name: 'jwks',
      required: true,
      help: {
        zh: 'Bot Framework 签名公钥(JWKS JSON,由运维从其 OpenID 元数据获取)',
        en: 'the Bot Framework signing keys (JWKS JSON, fetched by the operator from its OpenID metadata)',
      },
    },
    {
      name: 'issuers',
      required: false,
      help: {
        zh: '可接受的签发者,逗号分隔(默认 https://api.botframework.com)',
        en: 'accepted issuers, comma-separated (default https://api.botframework.com)',
      },
    },
  ],
  verify(req, { options }) {
    if (!options.appId || !options.jwks) return 'the source needs the appId and jwks options';
    const auth = header(req.headers, 'authorization');
    const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    if (!m) return 'missing Authorization: Bearer token';
    let activity: Obj = {};
    try {
      const doc = JSON.parse(req.body.toString('utf8')) as unknown;
      if (isObject(doc)) activity = doc;
    } catch {
      // The body is refused as not JSON after the token check.
    }
    return checkBotToken(m[1]!, {
      jwks: options.jwks,
      appId: options.appId,
      issuers: options.issuers
        ? options.issuers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [BOT_FRAMEWORK_ISSUER],
      ...(typeof activity.channelId === 'string' ? { channelId: activity.channelId } : {}),
      ...(typeof activity.serviceUrl === 'string' ? { serviceUrl: activity.serviceUrl } : {}),
    });
  },
  detect: (doc) =>
    isObject(doc) &&
    typeof doc.type === 'string' &&
    typeof doc.channelId === 'string' &&
    isObject(doc.conversation) &&
    isObject(doc.from),
  parse(doc): WebhookParse {
    const out = emptyParse();
    if (!isObject(doc) || typeof doc.type !== 'string') {
      out.rejects.push({ at: 'activity', reason: 'not a Bot Framework Activity (no type)', raw: doc });
      return out;
    }
    const type = doc.type.slice(0, 50);
    const at = `${type}${typeof doc.id === 'string' ? `:${doc.id.slice(0, 100)}` : ''}`;
    const handoff = type === 'handoff' || (type === 'event' && doc.name === 'handoff.initiate');
    if (type !== 'message' && type !== 'endOfConversation' && !handoff) {
      const what = Object.hasOwn(BOT_FRAMEWORK_OTHER_ACTIVITIES, type)
        ? BOT_FRAMEWORK_OTHER_ACTIVITIES[type]
        : undefined;
      const reason =
        type === 'event'
          ? `Bot Framework event "${str(doc.name, 80) ?? '(no name)'}" is not a message or handoff`
          : what
            ? `Bot Framework ${type}: ${what}, not a message`
            : `unknown Bot Framework activity type "${type}"`;
      out.rejects.push({ at, reason, raw: doc });
      return out;
    }
    const conversation = isObject(doc.conversation) ? str(doc.conversation.id) : undefined;
    if (!conversation) {
      out.rejects.push({ at, reason: 'conversation.id: missing', raw: doc });
      return out;
    }
    const ts = epochMs(doc.timestamp, 'iso') ?? epochMs(doc.localTimestamp, 'iso');
    if (ts === null) {
      out.rejects.push({
        at,
        reason: 'timestamp: missing or not an ISO time (nor localTimestamp)',
        raw: doc,
      });
      return out;
    }
    const id = str(doc.id);
    if (!id) {
      out.rejects.push({ at, reason: 'id: missing (the activity id)', raw: doc });
      return out;
    }
    const from = isObject(doc.from) ? doc.from : {};
    const recipient = isObject(doc.recipient) ? doc.recipient : {};
    const fromBot = from.role === 'bot' || from.role === 'skill';
    // The customer is whoever is not the bot: the sender of a user's message, else its recipient.
    // A close or handoff may come from either side; its conversation id is enough.
    const person = fromBot ? recipient : from;
    const customerId = type === 'message' ? str(person.id, 200) : undefined;
    const customerName = name(person.name);
    const channel = str(doc.channelId, 100) ?? 'botframework';
    const base = {
      ts,
      channel,
      conversationId: conversation,
      ...(customerId
        ? { customer: { id: customerId, ...(customerName ? { name: customerName } : {}) } }
        : {}),
    };
    let event: CanonicalEventInput;
    if (type === 'message') {
      const words = text(doc.text);
      event = {
        kind: 'message',
        id,
        ...base,
        role: fromBot ? 'bot' : 'customer',
        ...(fromBot && str(from.id, 200) ? { account: str(from.id, 200)! } : {}),
        ...(fromBot && name(from.name) ? { accountName: name(from.name)! } : {}),
        msgType: words !== undefined ? 'text' : (attachmentKind(doc.attachments) ?? 'other'),
        ...(words !== undefined ? { text: words } : {}),
      };
    } else if (type === 'endOfConversation') {
      const code = typeof doc.code === 'string' ? doc.code : undefined;
      event = {
        kind: 'close',
        id,
        ...base,
        ...(code === 'completedSuccessfully'
          ? { resolved: true }
          : code && code !== 'unknown'
            ? { resolved: false }
            : {}),
      };
    } else {
      // The hub that takes the conversation: the handoff's recipient, or the channel's queue.
      const hub = type === 'handoff' ? str(recipient.id, 200) : undefined;
      const hubName = type === 'handoff' ? name(recipient.name) : undefined;
      event = {
        kind: 'assignment',
        id,
        ...base,
        account: hub ?? `handoff:${channel}`.slice(0, 200),
        accountName: hubName ?? '人工客服队列',
      };
    }
    keep(out, at, event, doc);
    return out;
  },
};

function attachmentKind(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments) || attachments.length === 0) return undefined;
  const a = attachments[0];
  const type = isObject(a) && typeof a.contentType === 'string' ? a.contentType.toLowerCase() : '';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return 'voice';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('application/vnd.microsoft.card')) return 'card';
  return 'file';
}
