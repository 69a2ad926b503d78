/**
 * 公众号 payloads → canonical events. Two shapes:
 *
 * - The callback XML (decrypted): a user's message (text, image, voice, video, shortvideo,
 *   location, link…) is a customer message; the 多客服 events kf_create_session,
 *   kf_switch_session and kf_close_session are assignment, transfer and close, `KfAccount` (or
 *   `ToKfAccount`) being the agent. Agents answer through the 客服 API, so their messages are not
 *   in the callbacks: they come from the chat records below. Menu clicks, follows, scans and other
 *   events are not conversation and are rejects naming the event. The same XML from a 企业微信
 *   self-built app (`AgentID`) is read with channel `wecom_app`: the sender is a member of the
 *   corp asking through the app.
 * - The 客服 API's JSON: chat records (msgrecord/getmsglist, `recordlist`) give both sides and the
 *   session operations; the session and queue lists (kfsession/*) and agent lists are recognised
 *   but hold no event (they are snapshots without the customer or the time), so they are rejects
 *   that say so.
 *
 * Time: CreateTime and `time` are unix seconds. There is no session id: conversations are found
 * by the sessioniser per customer (openid), closed by kf_close_session.
 */
import { createHash } from 'node:crypto';
import type { CanonicalEventInput } from '../../model/events.ts';
import { parseTimestamp } from '../../model/time.ts';
import type { WebhookParse } from '../webhooks.ts';
import { MESSAGE_TYPES, OPERCODES, OTHER_EVENTS, own, SESSION_EVENTS } from './fields.ts';

type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string field of at most `max` characters (XML values are strings; JSON ids may be numbers). */
export function str(v: unknown, max = 500): string | undefined {
  const s =
    typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  return s && s.length <= max ? s : undefined;
}

/**
 * Unix seconds (a string of digits in XML, a number in JSON) as epoch ms, or undefined — also
 * outside the years the model accepts (parseTimestamp), so a bad time is this parser's reject.
 */
export function unixSeconds(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{1,11}$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n >= 1e11) return undefined;
  return parseTimestamp(n * 1000) ?? undefined;
}

export const shortHash = (...parts: unknown[]) =>
  createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 24);

const clipText = (s: string) => s.slice(0, 100_000);

/** Whether a document is a callback XML message or event of this family (inner `<xml>`). */
export function isWechatXml(doc: unknown): doc is Obj {
  return (
    isObject(doc) &&
    typeof doc.MsgType === 'string' &&
    typeof doc.FromUserName === 'string' &&
    typeof doc.CreateTime === 'string'
  );
}

export function parseWechatXml(doc: unknown, channel: string): WebhookParse {
  const out: WebhookParse = { events: [], rejects: [] };
  const reject = (at: string, reason: string) => {
    out.rejects.push({ at, reason, raw: doc });
    return out;
  };
  if (!isObject(doc)) return reject('xml', 'not a WeChat XML message (an <xml> element expected)');
  const msgType = str(doc.MsgType, 50)?.toLowerCase();
  if (!msgType) return reject('MsgType', 'MsgType missing');
  // Openids are 28 characters; the bound keeps derived ids within the model's 500.
  const customer = str(doc.FromUserName, 200);
  if (!customer) return reject('FromUserName', 'FromUserName (the user) missing or over 200 characters');
  const event = msgType === 'event' ? str(doc.Event, 100)?.toLowerCase() : undefined;
  if (msgType === 'event') {
    // What an event is says more than a bad time: name it first.
    if (!event) return reject('Event', 'event without an Event name');
    if (!own(SESSION_EVENTS, event)) {
      const other = own(OTHER_EVENTS, event);
      if (other)
        return reject(`Event ${event}`, `event ${event} (${other.zh}, ${other.en}) is not conversation`);
      return reject(`Event ${event}`, `unknown event type "${event}"`);
    }
  }
  const ts = unixSeconds(doc.CreateTime);
  if (ts === undefined) return reject('CreateTime', 'CreateTime is not unix seconds between 1990 and 2100');
  const base = { ts, channel, customer: { id: customer } };

  if (event) {
    const name = event;
    // WeChat's own rule for events, which have no MsgId: FromUserName + CreateTime identify one.
    const id = `${customer}:${doc.CreateTime}:${name}`;
    const session = own(SESSION_EVENTS, name)!;
    const field = session.becomes === 'transfer' ? 'ToKfAccount' : 'KfAccount';
    const account = str(doc[field], 200);
    if (session.becomes === 'close') {
      out.events.push({ kind: 'close', id, ...base, ...(account ? { account } : {}) });
      return out;
    }
    if (!account) return reject(field, `${name} without ${field} (the agent account)`);
    out.events.push({
      kind: 'assignment',
      id,
      ...base,
      account,
      ...(session.becomes === 'transfer' ? { transfer: true } : {}),
    });
    return out;
  }

  const msgId = str(doc.MsgId);
  const known = own(MESSAGE_TYPES, msgType);
  // A type the platform added after this table still is a user writing: counted, named as sent.
  if (!known && !msgId) return reject(`MsgType ${msgType}`, `unknown MsgType "${msgType}" without a MsgId`);
  const text = (known?.text ?? [])
    .map((f) => (typeof doc[f] === 'string' ? (doc[f] as string) : ''))
    .filter(Boolean)
    .join('\n');
  out.events.push({
    kind: 'message',
    id: msgId ?? `${customer}:${doc.CreateTime}:${msgType}`,
    ...base,
    role: 'customer',
    msgType,
    ...(text ? { text: clipText(text) } : {}),
  });
  return out;
}

/** Which 客服 API answer a JSON document is, if any. */
export function customServiceShape(
  doc: unknown,
): 'msgrecord' | 'sessionlist' | 'session' | 'waitcase' | 'kflist' | null {
  if (!isObject(doc)) return null;
  if (Array.isArray(doc.recordlist)) return 'msgrecord';
  if (Array.isArray(doc.sessionlist)) return 'sessionlist';
  if (Array.isArray(doc.waitcaselist)) return 'waitcase';
  if (Array.isArray(doc.kf_list) || Array.isArray(doc.kf_online_list)) return 'kflist';
  if (typeof doc.kf_account === 'string' && 'createtime' in doc) return 'session';
  return null;
}

const SNAPSHOT_REASONS = {
  sessionlist:
    'kfsession/getsessionlist lists one agent’s open sessions without naming the agent (it is in the request) and with the session’s start only: import msgrecord/getmsglist for the conversation',
  session:
    'kfsession/getsession answers for one customer whose openid is only in the request: import msgrecord/getmsglist for the conversation',
  waitcase: 'kfsession/getwaitcase is a snapshot of the waiting queue, not events',
  kflist: 'getkflist/getonlinekflist list the agents (use them for the roster), not events',
} as const;

export function parseCustomService(doc: unknown): WebhookParse {
  const out: WebhookParse = { events: [], rejects: [] };
  const shape = customServiceShape(doc);
  if (shape === null) {
    out.rejects.push({ at: 'document', reason: 'not a 公众号 客服 API answer', raw: doc });
    return out;
  }
  if (shape !== 'msgrecord') {
    out.rejects.push({ at: shape, reason: SNAPSHOT_REASONS[shape], raw: doc });
    return out;
  }
  const list = (doc as { recordlist: unknown[] }).recordlist;
  for (let i = 0; i < list.length; i++) parseRecord(list[i], i, out);
  return out;
}

function parseRecord(r: unknown, i: number, out: WebhookParse): boolean {
  const at = `recordlist[${i}]`;
  const reject = (reason: string) => {
    out.rejects.push({ at, reason, raw: r });
    return false;
  };
  if (!isObject(r)) return reject('record is not an object');
  const customer = str(r.openid);
  if (!customer) return reject('openid (the customer) missing');
  const ts = unixSeconds(r.time);
  if (ts === undefined) return reject('time is not unix seconds between 1990 and 2100');
  const code = typeof r.opercode === 'string' ? Number(r.opercode) : r.opercode;
  const op = typeof code === 'number' ? own(OPERCODES, code) : undefined;
  if (!op) return reject(`unknown opercode ${JSON.stringify(r.opercode)}`);
  if (op.becomes === null) return reject(`opercode ${code} (${op.zh}, ${op.en}) is not an event`);
  // The API's worker has been seen with a leading space (" test1").
  const worker = str(r.worker, 200);
  const text = typeof r.text === 'string' ? r.text.trim() : undefined;
  const base = { ts, channel: 'wechat_oa', customer: { id: customer } };
  if (op.becomes === 'customer') {
    // 2001 and 2003 may both record one message: the id leaves the code and agent out.
    out.events.push({
      kind: 'message',
      id: `rec:${shortHash(customer, 'customer', r.time, text ?? '')}`,
      ...base,
      role: 'customer',
      msgType: 'text',
      ...(text ? { text: clipText(text) } : {}),
    });
    return true;
  }
  if (op.becomes === 'close') {
    out.events.push({
      kind: 'close',
      id: `rec:${shortHash(customer, code, r.time, worker ?? '')}`,
      ...base,
      ...(worker ? { account: worker } : {}),
    });
    return true;
  }
  if (!worker) return reject(`opercode ${code} (${op.en}) without worker (the agent account)`);
  const event: CanonicalEventInput =
    op.becomes === 'agent'
      ? {
          kind: 'message',
          id: `rec:${shortHash(customer, 'agent', worker, r.time, text ?? '')}`,
          ...base,
          role: 'agent',
          account: worker,
          msgType: 'text',
          ...(text ? { text: clipText(text) } : {}),
        }
      : {
          kind: 'assignment',
          id: `rec:${shortHash(customer, code, r.time, worker)}`,
          ...base,
          account: worker,
          ...(op.becomes === 'transfer' ? { transfer: true } : {}),
        };
  out.events.push(event);
  return true;
}
