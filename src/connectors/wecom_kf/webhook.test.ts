import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutatedFrom } from '../../../test/support/mutate.ts';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { splitDocuments } from '../platform/reader.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { wecomKfWebhook } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'wecom_kf');
const doc = (name: string) => splitDocuments(readFileSync(join(DIR, name), 'utf8'))[0]!.doc;
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field.
const answer = () => structuredClone(doc('sync_msg_response.json')) as any;
const item = (i: number) => answer().msg_list[i];
const CUSTOMER = 'wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw';
const MSGID = 'from_msgid_4622416642169452483';

describe('企业微信 微信客服', () => {
  it('reads the sync_msg answer: every message type, session and servicer events, rejects naming the rest', () => {
    const r = wecomKfWebhook.parse(answer());
    for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
    const messages = r.events.filter((e) => e.kind === 'message');
    expect(messages.map((e) => (e.kind === 'message' ? e.msgType : ''))).toEqual([
      'text',
      'image',
      'voice',
      'video',
      'file',
      'location',
      'link',
      'business_card',
      'miniprogram',
      'msgmenu',
    ]);
    // The documentation reuses one msgid for every item: the type keeps them apart.
    expect(new Set(r.events.map((e) => e.id)).size).toBe(r.events.length);
    expect(messages[0]).toEqual({
      kind: 'message',
      id: `${MSGID}:text`,
      ts: 1615478585000,
      channel: 'wecom_kf',
      customer: { id: CUSTOMER },
      role: 'customer',
      msgType: 'text',
      text: 'hello world',
    });
    expect(messages[5]).toMatchObject({ text: '广州国际媒体港(广州市海珠区)\n广东省广州市海珠区滨江东路' });
    expect(messages[9]).toMatchObject({ text: '您对本次服务是否满意呢?\n欢迎再次光临' });
    expect(r.events.filter((e) => e.kind !== 'message')).toEqual([
      {
        kind: 'presence',
        id: `${MSGID}:servicer_status_change`,
        ts: 1615478585000,
        channel: 'wecom_kf',
        account: 'SERVICER_USERID',
        status: 'online',
      },
      {
        kind: 'assignment',
        id: `${MSGID}:session_status_change`,
        ts: 1615478585000,
        channel: 'wecom_kf',
        customer: { id: CUSTOMER },
        account: 'NEW_SERVICER_USERID',
      },
    ]);
    expect(r.rejects.map((j) => [j.at, j.reason])).toEqual([
      [
        'msg_list[10] enter_session',
        'event enter_session (用户进入会话, the customer opened the chat (no message yet)) is not conversation',
      ],
      [
        'msg_list[11] msg_send_fail',
        'event msg_send_fail (消息发送失败, a message did not reach the customer) is not conversation',
      ],
    ]);
  });

  it('servicer messages, transfer, close, reopen, stop receiving, and a satisfaction answer', () => {
    const agent = {
      ...item(0),
      msgid: 'm2',
      origin: 5,
      servicer_userid: 'zhangsan',
      text: { content: '您好' },
    };
    const session = (change_type: number, msgid: string) => {
      const it = item(13);
      it.msgid = msgid;
      it.event.change_type = change_type;
      it.event.old_servicer_userid = 'zhangsan';
      it.event.new_servicer_userid = 'lisi';
      return it;
    };
    const stop = item(12);
    stop.event.status = 2;
    stop.event.stop_type = 1;
    const rating = { ...item(0), msgid: 'm9', text: { content: '满意', menu_id: '101' } };
    const recall = { ...item(10), msgid: 'm10', event: { event_type: 'user_recall_msg', recall_msgid: 'x' } };
    const odd = { ...item(10), msgid: 'm11', event: { event_type: 'brand_new' } };
    const r = wecomKfWebhook.parse({
      msg_list: [agent, session(2, 'm3'), session(3, 'm4'), session(4, 'm5'), stop, rating, recall, odd],
    });
    expect(r.events.map((e) => [e.kind, 'account' in e ? e.account : null])).toEqual([
      ['message', 'zhangsan'],
      ['assignment', 'lisi'],
      ['close', 'zhangsan'],
      ['assignment', 'lisi'],
      ['presence', 'SERVICER_USERID'],
      ['message', null],
      ['rating', null],
    ]);
    expect(r.events[0]).toMatchObject({ role: 'agent', text: '您好' });
    expect(r.events[1]).toMatchObject({ transfer: true });
    expect(r.events[3]).not.toHaveProperty('transfer');
    expect(r.events[4]).toMatchObject({ status: 'away' });
    expect(r.events[6]).toMatchObject({ id: 'm9:rating', score: '满意', customer: { id: CUSTOMER } });
    expect(r.rejects.map((j) => j.reason)).toEqual([
      'event user_recall_msg (用户撤回消息, the customer recalled a message) is not conversation',
      'unknown event type "brand_new"',
    ]);
    const noServicer = { ...agent, servicer_userid: undefined };
    expect(wecomKfWebhook.parse(noServicer).rejects[0]!.reason).toBe(
      'origin 5 (servicer) without servicer_userid',
    );
  });

  it('the callbacks: kf_msg_or_event only says "pull"; other notifications are rejects', () => {
    const notify = doc('kf_msg_or_event_callback.xml');
    expect(detectPlatform(notify)?.platform).toBe('wecom_kf');
    expect(wecomKfWebhook.parse(notify)).toEqual({ events: [], rejects: [] });
    const auth = doc('kf_account_auth_change_callback.xml');
    expect(detectPlatform(auth)?.platform).toBe('wecom_kf');
    expect(wecomKfWebhook.parse(auth).rejects[0]!.reason).toMatch(/kf_account_auth_change/);
    expect(
      wecomKfWebhook.parse({ errcode: 45009, errmsg: 'limit', msg_list: [] }).rejects[0]!.reason,
    ).toMatch(/errcode 45009/);
  });

  it('cspulse import --format auto reads the fixture folder', async () => {
    const files = readdirSync(DIR).filter((f) => /\.(xml|json)$/.test(f));
    expect(files).toHaveLength(3);
    const got = { items: 0, rejects: 0 };
    for (const f of files) {
      const r = await collect(readEvents(join(DIR, f), 'auto'));
      got.items += r.items.length;
      got.rejects += r.rejects.length;
      for (const j of r.rejects) expect(j.reason).toMatch(/^wecom_kf /);
    }
    expect(got).toEqual({ items: 12, rejects: 3 });
  });

  it('survives 10,000 mutated payloads with only valid events or typed rejects', () => {
    const a = answer();
    const bases = [a, ...a.msg_list, doc('kf_msg_or_event_callback.xml'), { msg_list: a.msg_list.slice(10) }];
    fc.assert(
      fc.property(mutatedFrom(bases), (d) => {
        const r = wecomKfWebhook.parse(d);
        for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
        for (const j of r.rejects) expect(typeof j.reason).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('ids, accounts and customers at every length up to past the model’s limits: valid or rejected', () => {
    const a = answer();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: a.msg_list.length - 1 }),
        fc.constantFrom(
          'msgid',
          'external_userid',
          'servicer_userid',
          'event.new_servicer_userid',
          'event.servicer_userid',
        ),
        fc.integer({ min: 1, max: 520 }),
        (i, field, n) => {
          const it = structuredClone(a.msg_list[i]);
          it.origin = field === 'servicer_userid' ? 5 : it.origin;
          const [head, tail] = field.split('.');
          if (tail && it[head!]) it[head!][tail] = 'x'.repeat(n);
          else if (!tail) it[head!] = 'x'.repeat(n);
          for (const e of wecomKfWebhook.parse(it).events) expect(validateEvent(e).ok).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
