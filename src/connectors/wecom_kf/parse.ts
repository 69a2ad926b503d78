/**
 * 企业微信 微信客服 → canonical events, from sync_msg answers (the whole answer or single
 * `msg_list` items) and from the callback's XML notifications.
 *
 * - origin 3 is the customer (external_userid), 5 the servicer (agent, servicer_userid), 4 the
 *   system; every message type counts (text where there is one).
 * - session_status_change: change_type 1 (taken from the queue) and 4 (taken again) are
 *   assignments to new_servicer_userid, 2 a transfer to it, 3 a close by old_servicer_userid.
 * - servicer_status_change is presence (1 receiving → online; 2 stopped → offline, or away when
 *   stop_type 1 = 暂时挂起).
 * - enter_session, msg_send_fail, recalls and the other events are rejects that name them.
 * - A customer's answer to a satisfaction menu (text with a menu_id reading 满意/不满意…) adds a
 *   rating.
 *
 * Conversation: no conversationId. A 微信客服 session has no id of its own in the API; it is
 * (open_kfid, external_userid) from an assignment to a close. The sessioniser rebuilds exactly
 * that per customer — a close ends the conversation and the customer's next message starts one —
 * and splits a session left open past the idle timeout (settings.session.idleTimeoutByChannel
 * can give wecom_kf a longer one). send_time is unix seconds. Ids are msgid + type: msgids are
 * unique on the platform, and the documentation's examples reuse one for every item.
 */
import type { CanonicalEventInput } from '../../model/events.ts';
import type { WebhookParse } from '../webhooks.ts';
import { own } from '../wechat_oa/fields.ts';
import { isObject, str, unixSeconds } from '../wechat_oa/parse.ts';
import {
  CALLBACK_EVENTS,
  MESSAGE_TYPES,
  ORIGINS,
  OTHER_EVENTS,
  RATING_WORDS,
  SERVICER_STATUS,
  SESSION_CHANGES,
} from './fields.ts';
import { announceKf } from './notices.ts';

type Obj = Record<string, unknown>;
const CHANNEL = 'wecom_kf';

/** A sync_msg answer (or a page of one saved to a file). */
export const isSyncMsgAnswer = (doc: unknown): doc is Obj & { msg_list: unknown[] } =>
  isObject(doc) && Array.isArray(doc.msg_list);

/** One msg_list item. */
export const isKfItem = (doc: unknown): doc is Obj =>
  isObject(doc) && typeof doc.msgid === 'string' && 'open_kfid' in doc && 'msgtype' in doc;

/** The callback's notification XML (inner `<xml>`). */
export const isKfCallback = (doc: unknown): doc is Obj =>
  isObject(doc) && typeof doc.Event === 'string' && Object.hasOwn(CALLBACK_EVENTS, doc.Event);

export function parseKf(doc: unknown): WebhookParse {
  const out: WebhookParse = { events: [], rejects: [] };
  if (isSyncMsgAnswer(doc)) {
    if (doc.errcode !== undefined && doc.errcode !== 0 && doc.errcode !== '0')
      out.rejects.push({
        at: 'errcode',
        reason: `sync_msg answered errcode ${String(doc.errcode)}: ${String(doc.errmsg ?? '')}`.slice(0, 300),
      });
    doc.msg_list.forEach((item, i) => {
      parseItem(item, `msg_list[${i}]`, out);
    });
    return out;
  }
  if (isKfCallback(doc)) {
    // The notification only says "pull": the pull connector reads the messages themselves.
    const event = String(doc.Event);
    const corpId = str(doc.ToUserName);
    if (event === 'kf_msg_or_event' && corpId)
      announceKf({ corpId, openKfId: str(doc.OpenKfId), token: str(doc.Token, 128) });
    if (event !== 'kf_msg_or_event')
      out.rejects.push({
        at: `Event ${event}`,
        reason: `callback ${event} (${CALLBACK_EVENTS[event]!.zh}) is not conversation`,
        raw: doc,
      });
    return out;
  }
  if (isObject(doc) && 'msgid' in doc) {
    parseItem(doc, 'item', out);
    return out;
  }
  out.rejects.push({ at: 'document', reason: 'not a 微信客服 sync_msg answer, item or callback', raw: doc });
  return out;
}

function parseItem(item: unknown, at: string, out: WebhookParse): boolean {
  const reject = (reason: string, where = at) => {
    out.rejects.push({ at: where, reason, raw: item });
    return false;
  };
  if (!isObject(item)) return reject('item is not an object');
  // Room for the type suffix within the model's 500-character ids.
  const msgid = str(item.msgid, 380);
  if (!msgid) return reject('msgid missing or over 380 characters');
  const msgtype = str(item.msgtype, 50);
  if (!msgtype) return reject('msgtype missing');
  const ts = unixSeconds(item.send_time);
  if (ts === undefined) return reject('send_time is not unix seconds between 1990 and 2100');
  if (msgtype === 'event') return parseEvent(item, msgid, ts, at, out);

  const customer = str(item.external_userid);
  if (!customer) return reject('external_userid (the customer) missing');
  const origin = own(ORIGINS, Number(item.origin));
  if (!origin)
    return reject(`unknown origin ${JSON.stringify(item.origin)?.slice(0, 40)} (3, 4 or 5 expected)`);
  const account = origin.role === 'agent' ? str(item.servicer_userid, 200) : undefined;
  if (origin.role === 'agent' && !account) return reject('origin 5 (servicer) without servicer_userid');
  const body = isObject(item[msgtype]) ? (item[msgtype] as Obj) : {};
  const text = (own(MESSAGE_TYPES, msgtype)?.text ?? [])
    .map((f) => (typeof body[f] === 'string' ? (body[f] as string).trim() : ''))
    .filter(Boolean)
    .join('\n');
  const base = { ts, channel: CHANNEL, customer: { id: customer } };
  out.events.push({
    kind: 'message',
    id: `${msgid}:${msgtype}`,
    ...base,
    role: origin.role,
    ...(account ? { account } : {}),
    msgType: msgtype,
    ...(text ? { text: text.slice(0, 100_000) } : {}),
  });
  if (
    origin.role === 'customer' &&
    msgtype === 'text' &&
    body.menu_id !== undefined &&
    RATING_WORDS.includes(text)
  )
    out.events.push({ kind: 'rating', id: `${msgid}:rating`, ...base, score: text });
  return true;
}

function parseEvent(item: Obj, msgid: string, ts: number, at: string, out: WebhookParse): boolean {
  const reject = (reason: string, where = at) => {
    out.rejects.push({ at: where, reason, raw: item });
    return false;
  };
  const ev = item.event;
  if (!isObject(ev)) return reject('event item without an event object');
  const type = str(ev.event_type, 100);
  if (!type) return reject('event_type missing');
  const id = `${msgid}:${type}`;
  if (type === 'servicer_status_change') {
    const account = str(ev.servicer_userid, 200);
    if (!account) return reject('servicer_status_change without servicer_userid');
    const status = own(SERVICER_STATUS, Number(ev.status));
    if (!status)
      return reject(`servicer_status_change with unknown status ${JSON.stringify(ev.status)?.slice(0, 40)}`);
    const presence = Number(ev.status) === 1 ? 'online' : Number(ev.stop_type) === 1 ? 'away' : 'offline';
    out.events.push({ kind: 'presence', id, ts, channel: CHANNEL, account, status: presence });
    return true;
  }
  if (type === 'session_status_change') {
    const customer = str(ev.external_userid) ?? str(item.external_userid);
    if (!customer) return reject('session_status_change without external_userid');
    const change = own(SESSION_CHANGES, Number(ev.change_type));
    if (!change)
      return reject(
        `session_status_change with unknown change_type ${JSON.stringify(ev.change_type)?.slice(0, 40)}`,
      );
    const base = { id, ts, channel: CHANNEL, customer: { id: customer } };
    let event: CanonicalEventInput;
    if (change.becomes === 'close') {
      const account = str(ev.old_servicer_userid, 200);
      event = { kind: 'close', ...base, ...(account ? { account } : {}) };
    } else {
      const account = str(ev.new_servicer_userid, 200);
      if (!account)
        return reject(`session_status_change ${ev.change_type} (${change.en}) without new_servicer_userid`);
      event = {
        kind: 'assignment',
        ...base,
        account,
        ...(change.becomes === 'transfer' ? { transfer: true } : {}),
      };
    }
    out.events.push(event);
    return true;
  }
  const other = own(OTHER_EVENTS, type);
  if (other) return reject(`event ${type} (${other.zh}, ${other.en}) is not conversation`, `${at} ${type}`);
  return reject(`unknown event type "${type}"`, `${at} ${type}`);
}
