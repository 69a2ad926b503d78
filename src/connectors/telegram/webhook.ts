/**
 * Telegram Bot API updates (one Update per POST; `date` is unix seconds).
 *
 * - `message`: a customer writing to the team's bot. Bots never receive their own messages, so
 *   the bot's side of the conversation is not in the stream.
 * - `business_message`: Telegram Business. The bot is connected to a human's business account and
 *   sees both sides of their private chats: the customer is the chat, a message from anyone else
 *   (the account owner or their staff) is the agent's, one sent through the bot is the bot's.
 * - Edits, deletions, reactions, callbacks and the other update kinds are not messages: they are
 *   kept as rejects that say so, and never fail the request.
 *
 * Verification: the `secret_token` given to setWebhook comes back as
 * X-Telegram-Bot-Api-Secret-Token on every request.
 */
import type { CanonicalEventInput } from '../../model/events.ts';
import { header, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

interface TgUser {
  id: number;
  is_bot?: boolean;
  first_name?: string;
  last_name?: string;
  username?: string;
}

interface TgMessage {
  message_id: number;
  from?: TgUser;
  sender_business_bot?: TgUser;
  chat: {
    id: number;
    type?: string;
    first_name?: string;
    last_name?: string;
    title?: string;
    username?: string;
  };
  date: number;
  text?: string;
  caption?: string;
  [part: string]: unknown;
}

/** The message's kind, by the first content field it has (Bot API Message object). */
const CONTENT_TYPES = [
  'text',
  'photo',
  'sticker',
  'voice',
  'video',
  'video_note',
  'audio',
  'animation',
  'document',
  'contact',
  'location',
  'venue',
  'poll',
  'dice',
  'game',
  'invoice',
  'story',
] as const;

/** Service messages (members joining, pins…) are not conversation: rejects with this reason. */
const SERVICE_FIELDS = [
  'new_chat_members',
  'left_chat_member',
  'pinned_message',
  'new_chat_title',
  'new_chat_photo',
  'delete_chat_photo',
  'group_chat_created',
  'message_auto_delete_timer_changed',
];

const UPDATE_KINDS_WITH_MESSAGES = ['message', 'business_message'] as const;

export const telegramWebhook: WebhookConnector = {
  platform: 'telegram',
  label: { zh: 'Telegram(机器人与 Telegram Business)', en: 'Telegram (Bot API and Telegram Business)' },
  verification: 'X-Telegram-Bot-Api-Secret-Token equal to the secret_token given to setWebhook',
  verify(req, { secret }) {
    if (!secret) return 'the source has no secret; set one and pass it to setWebhook as secret_token';
    if (!sameSecret(header(req.headers, SECRET_HEADER), secret)) return `${SECRET_HEADER} missing or wrong`;
    return null;
  },
  detect: (doc) => isObject(doc) && typeof doc.update_id === 'number',
  parse(body): WebhookParse {
    const out: WebhookParse = { events: [], rejects: [] };
    if (!isObject(body) || typeof body.update_id !== 'number') {
      out.rejects.push({ at: 'update', reason: 'not a Telegram Update (no numeric update_id)', raw: body });
      return out;
    }
    const kind = Object.keys(body).find((k) => k !== 'update_id') ?? '(empty)';
    const m = (UPDATE_KINDS_WITH_MESSAGES as readonly string[]).includes(kind) ? body[kind] : undefined;
    if (m === undefined) {
      out.rejects.push({ at: kind, reason: `Telegram update "${kind}" carries no chat message`, raw: body });
      return out;
    }
    const problem = messageProblem(m);
    if (problem) {
      out.rejects.push({ at: kind, reason: `Telegram ${kind}: ${problem}`, raw: body });
      return out;
    }
    const msg = m as TgMessage;
    const service = SERVICE_FIELDS.find((f) => f in msg);
    if (service) {
      out.rejects.push({
        at: kind,
        reason: `Telegram ${kind}: service message (${service}), not conversation`,
        raw: body,
      });
      return out;
    }
    out.events.push(toEvent(msg, kind === 'business_message'));
    return out;
  },
};

function messageProblem(m: unknown): string | null {
  if (!isObject(m)) return 'message is not an object';
  if (typeof m.message_id !== 'number') return 'message_id is not a number';
  if (typeof m.date !== 'number') return 'date is not a number (unix seconds expected)';
  if (!isObject(m.chat) || typeof m.chat.id !== 'number') return 'chat.id is not a number';
  if (m.from !== undefined && (!isObject(m.from) || typeof m.from.id !== 'number'))
    return 'from.id is not a number';
  return null;
}

function toEvent(m: TgMessage, business: boolean): CanonicalEventInput {
  const privateChat = m.chat.type === undefined || m.chat.type === 'private';
  // In a private chat the chat is the customer; in a group the customer is whoever wrote.
  const customerUser = privateChat ? m.chat : (m.from ?? m.chat);
  const customerId = String(customerUser.id);
  let role: 'customer' | 'agent' | 'bot' = 'customer';
  let sender: TgUser | undefined;
  if (business && m.sender_business_bot) {
    role = 'bot';
    sender = m.sender_business_bot;
  } else if (business && m.from && String(m.from.id) !== customerId) {
    role = 'agent';
    sender = m.from;
  } else if (m.from?.is_bot) {
    role = 'bot';
    sender = m.from;
  }
  const msgType = CONTENT_TYPES.find((t) => t in m) ?? 'other';
  const text = typeof m.text === 'string' ? m.text : typeof m.caption === 'string' ? m.caption : undefined;
  const name = [customerUser.first_name, customerUser.last_name].filter(Boolean).join(' ') || undefined;
  return {
    kind: 'message',
    // Message ids are unique within a chat; a retried update carries the same one.
    id: `${m.chat.id}:${m.message_id}`,
    ts: m.date,
    channel: 'telegram',
    customer: { id: customerId, ...(name ? { name: name.slice(0, 200) } : {}) },
    role,
    ...(sender ? { account: sender.username ?? String(sender.id), accountName: displayName(sender) } : {}),
    msgType,
    ...(text !== undefined ? { text: text.slice(0, 100_000) } : {}),
  };
}

function displayName(u: TgUser): string | undefined {
  const n = [u.first_name, u.last_name].filter(Boolean).join(' ');
  return n ? n.slice(0, 200) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
