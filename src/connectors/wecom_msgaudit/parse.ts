/**
 * 企业微信 会话内容存档 (msgaudit): records pulled with the Finance SDK and decrypted by the
 * customer, saved one JSON object per record (or an array, or one per line). There is no webhook:
 * the platform never pushes them, so this platform is file import only (`live: false`).
 *
 * - Roles by id: external contacts (wo…/wm…) are customers, robots (wb…) bots, any other id a
 *   member of the corp: an agent, whose userid is the account.
 * - The customer: in a 1:1 chat the external party; in a group (roomid) the group itself, so a
 *   customer group is one thread. A chat whose sender and receivers are all members is internal
 *   and is rejected as such: it is not customer service.
 * - Conversations: no session id; the sessioniser splits each customer's thread by idle time.
 * - msgtime is epoch milliseconds; 0 (seen in the documentation's image example) means unknown
 *   and is rejected rather than dated 1970.
 * - action recall and switch, and agree/disagree (archiving consent) are not messages: rejects.
 */
import type { CanonicalEventInput } from '../../model/events.ts';
import { parseTimestamp } from '../../model/time.ts';
import type { WebhookParse } from '../webhooks.ts';
import { own } from '../wechat_oa/fields.ts';
import { isObject, str } from '../wechat_oa/parse.ts';
import { ACTIONS, EXTERNAL_PREFIXES, MESSAGE_TYPES, NOT_MESSAGES, ROBOT_PREFIX } from './fields.ts';

type Obj = Record<string, unknown>;
export const CHANNEL = 'wecom';

const isExternal = (id: string) => EXTERNAL_PREFIXES.some((p) => id.startsWith(p));

/** A decrypted msgaudit record: msgid and an action of send/recall/switch. */
export const isMsgauditRecord = (doc: unknown): doc is Obj =>
  isObject(doc) &&
  typeof doc.msgid === 'string' &&
  typeof doc.action === 'string' &&
  ('msgtime' in doc || doc.action === 'switch');

/** Still encrypted: GetChatData's answer or one of its records, before the SDK's DecryptData. */
export const isEncryptedChatData = (doc: unknown): doc is Obj =>
  isObject(doc) && (Array.isArray(doc.chatdata) || typeof doc.encrypt_chat_msg === 'string');

const ENCRYPTED =
  'an encrypted GetChatData record (encrypt_random_key, encrypt_chat_msg): decrypt it with the Finance SDK (RSA private key, then DecryptData) and import the decrypted JSON';

export function parseMsgaudit(doc: unknown): WebhookParse {
  const out: WebhookParse = { events: [], rejects: [] };
  if (Array.isArray(doc)) {
    for (const d of doc) {
      const r = parseRecord(d);
      out.events.push(...r.events);
      out.rejects.push(...r.rejects);
    }
    return out;
  }
  return parseRecord(doc);
}

function parseRecord(doc: unknown): WebhookParse {
  const out: WebhookParse = { events: [], rejects: [] };
  const reject = (at: string, reason: string) => {
    out.rejects.push({ at, reason, raw: doc });
    return out;
  };
  if (isEncryptedChatData(doc)) return reject('record', ENCRYPTED);
  if (!isObject(doc)) return reject('record', 'not a msgaudit record (an object with msgid expected)');
  const msgid = str(doc.msgid);
  if (!msgid) return reject('msgid', 'msgid missing');
  const action = str(doc.action, 50);
  if (action !== 'send') {
    const known = action ? own(ACTIONS, action) : undefined;
    return reject(
      `action ${action ?? '(none)'}`,
      known
        ? `action ${action} (${known.zh}, ${known.en}) is not a message`
        : `unknown action ${JSON.stringify(doc.action)?.slice(0, 40)} (send, recall or switch expected)`,
    );
  }
  const msgtype = str(doc.msgtype, 50);
  if (!msgtype) return reject('msgtype', 'msgtype missing');
  const not = own(NOT_MESSAGES, msgtype);
  if (not) return reject(`msgtype ${msgtype}`, `msgtype ${msgtype} (${not.zh}, ${not.en}) is not a message`);
  const from = str(doc.from, 200);
  if (!from) return reject('from', 'from (the sender) missing');
  const tolist = Array.isArray(doc.tolist)
    ? doc.tolist.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 200)
    : [];
  const ts = msgtimeMs(doc.msgtime);
  if (ts === undefined)
    return reject(
      'msgtime',
      `msgtime ${JSON.stringify(doc.msgtime)?.slice(0, 40)} is not epoch milliseconds between 1990 and 2100`,
    );
  const roomid = str(doc.roomid);
  const external = isExternal(from) ? from : tolist.find(isExternal);
  if (!external)
    return reject(
      'from/tolist',
      `internal chat (${roomid ? 'group' : '1:1'} of members only, no external contact): not customer service`,
    );
  const role = isExternal(from) ? 'customer' : from.startsWith(ROBOT_PREFIX) ? 'bot' : 'agent';
  const known = own(MESSAGE_TYPES, msgtype);
  const text = textOf(doc, msgtype, known?.body ?? msgtype, known?.text);
  const event: CanonicalEventInput = {
    kind: 'message',
    id: msgid,
    ts,
    channel: CHANNEL,
    customer: { id: roomid ?? external },
    role,
    ...(role !== 'customer' ? { account: from } : {}),
    // A type added after this table is still someone writing: counted under its own name.
    msgType: msgtype,
    ...(text ? { text: text.slice(0, 100_000) } : {}),
  };
  out.events.push(event);
  return out;
}

/** Milliseconds as documented; a value in seconds (some SDK wrappers convert) is read as such. */
function msgtimeMs(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return undefined;
  return parseTimestamp(v < 1e11 ? v * 1000 : v) ?? undefined;
}

function textOf(doc: Obj, msgtype: string, bodyKey: string, paths: string[][] | undefined): string {
  const body = doc[bodyKey];
  if (msgtype === 'mixed') return mixedText(body);
  if (!isObject(body) || !paths) return '';
  return paths
    .map((path) => {
      let v: unknown = body;
      for (const k of path) v = isObject(v) || Array.isArray(v) ? (v as Obj)[k] : undefined;
      return typeof v === 'string' ? v.trim() : '';
    })
    .filter(Boolean)
    .join('\n');
}

/** mixed: items whose `content` is JSON in a string; the text items' content is the text. */
function mixedText(body: unknown): string {
  const items = isObject(body) && Array.isArray(body.item) ? body.item : [];
  const parts: string[] = [];
  for (const it of items.slice(0, 1000)) {
    if (!isObject(it) || it.type !== 'text' || typeof it.content !== 'string') continue;
    try {
      const c = JSON.parse(it.content) as unknown;
      if (isObject(c) && typeof c.content === 'string' && c.content.trim()) parts.push(c.content.trim());
    } catch {
      // Not JSON after all: the string itself is what was written.
      if (it.content.trim()) parts.push(it.content.trim());
    }
  }
  return parts.join('\n');
}
