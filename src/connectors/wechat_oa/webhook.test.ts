import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mutatedFrom } from '../../../test/support/mutate.ts';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { splitDocuments } from '../platform/reader.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { wechatOaWebhook } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'wechat_oa');
const tmp = tempDir();
afterAll(tmp.cleanup);
const files = readdirSync(DIR).filter((f) => /\.(xml|json)$/.test(f));
const doc = (name: string) => {
  const d = splitDocuments(readFileSync(join(DIR, name), 'utf8'))[0]!;
  expect(d.error).toBeUndefined();
  return d.doc;
};
const parse = (name: string) => wechatOaWebhook.parse(doc(name));

describe('微信公众号', () => {
  it('reads every fixture as valid events or typed rejects, and recognises each as 公众号', () => {
    expect(files.length).toBe(26);
    let events = 0;
    let rejects = 0;
    for (const f of files) {
      const d = doc(f);
      expect(detectPlatform(d)?.platform, f).toBe('wechat_oa');
      const r = wechatOaWebhook.parse(d);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
      for (const j of r.rejects) expect(j.reason.length, f).toBeGreaterThan(10);
      events += r.events.length;
      rejects += r.rejects.length;
    }
    // 7 messages + 3 session events from the XML, 2 chat records; 10 other events and 5 API snapshots.
    expect({ events, rejects }).toEqual({ events: 12, rejects: 15 });
  });

  it('a user message: MsgId, seconds to ms, the openid as customer, the type and its text', () => {
    expect(parse('oa__test_parser__test_parse_text_message.xml').events).toEqual([
      {
        kind: 'message',
        id: '1234567890123456',
        ts: 1348831860000,
        channel: 'wechat_oa',
        customer: { id: 'fromUser' },
        role: 'customer',
        msgType: 'text',
        text: 'this is a test',
      },
    ]);
    expect(parse('oa__test_parser__test_parse_location_message.xml').events[0]).toMatchObject({
      msgType: 'location',
      text: '位置信息',
    });
    expect(parse('oa__test_parser__test_parse_link_message.xml').events[0]).toMatchObject({
      msgType: 'link',
      text: '公众平台官网链接\n公众平台官网链接',
    });
    for (const [f, type] of [
      ['image', 'image'],
      ['voice', 'voice'],
      ['video', 'video'],
      ['unknown', 'notsure'],
    ])
      expect(parse(`oa__test_parser__test_parse_${f}_message.xml`).events[0], f).toMatchObject({
        kind: 'message',
        role: 'customer',
        msgType: type,
      });
  });

  it('多客服 events: create → assignment, switch → transfer to ToKfAccount, close → close', () => {
    const base = { ts: 1399197672000, channel: 'wechat_oa', customer: { id: 'fromuser' } };
    expect(parse('oa__test_events__test_kf_create_session_event.xml').events).toEqual([
      { kind: 'assignment', id: 'fromuser:1399197672:kf_create_session', ...base, account: 'test1@test' },
    ]);
    expect(parse('oa__test_events__test_kf_switch_session_event.xml').events).toEqual([
      {
        kind: 'assignment',
        id: 'fromuser:1399197672:kf_switch_session',
        ...base,
        account: 'test2@test',
        transfer: true,
      },
    ]);
    expect(parse('oa__test_events__test_kf_close_session_event.xml').events).toEqual([
      { kind: 'close', id: 'fromuser:1399197672:kf_close_session', ...base, account: 'test1@test' },
    ]);
  });

  it('menu clicks, follows, scans and unknown events are rejects naming the event', () => {
    expect(parse('oa__test_parser__test_parse_click_event.xml').rejects[0]!.reason).toMatch(
      /event click \(点击菜单, menu click\) is not conversation/,
    );
    expect(parse('oa__test_events__test_subscribe_event.xml').rejects[0]!.reason).toMatch(/subscribe/);
    expect(parse('oa__test_parser__test_parse_scan_event.xml').rejects[0]!.reason).toMatch(/scan/);
    const odd = { ...(doc('oa__test_events__test_click_event.xml') as object), Event: 'brand_new_event' };
    expect(wechatOaWebhook.parse(odd).rejects[0]).toMatchObject({
      at: 'Event brand_new_event',
      reason: 'unknown event type "brand_new_event"',
    });
    const noAgent = { ...(doc('oa__test_events__test_kf_switch_session_event.xml') as object) };
    delete (noAgent as Record<string, unknown>).ToKfAccount;
    expect(wechatOaWebhook.parse(noAgent).rejects[0]!.reason).toMatch(/without ToKfAccount/);
  });

  it('客服 chat records give both sides (worker trimmed); session lists are rejects saying why', () => {
    const r = parse('api__customservice_msgrecord_getmsglist.json');
    expect(r.rejects).toEqual([]);
    expect(r.events).toMatchObject([
      {
        kind: 'message',
        ts: 1400563710000,
        role: 'agent',
        account: 'test1',
        customer: { id: 'oDF3iY9WMaswOPWjCIp_f3Bnpljk' },
        text: '您好，客服test1为您服务。',
      },
      { kind: 'message', ts: 1400563731000, role: 'customer', text: '你好，有什么事情？' },
    ]);
    expect(wechatOaWebhook.parse(doc('api__customservice_msgrecord_getmsglist.json')).events[0]!.id).toBe(
      r.events[0]!.id,
    );
    const ops = wechatOaWebhook.parse({
      recordlist: [
        { worker: 'kf2@acc', openid: 'o1', opercode: 1001, time: 1400563700, text: '' },
        { worker: 'kf3@acc', openid: 'o1', opercode: 1003, time: 1400563800, text: '' },
        { worker: 'kf3@acc', openid: 'o1', opercode: 1004, time: 1400563900, text: '' },
        { worker: 'kf3@acc', openid: 'o1', opercode: 1000, time: 1400563600, text: '' },
        { worker: 'kf3@acc', openid: 'o1', opercode: 9999, time: 1400563600, text: '' },
      ],
    });
    expect(ops.events.map((e) => [e.kind, 'account' in e ? e.account : null, 'transfer' in e])).toEqual([
      ['assignment', 'kf2@acc', false],
      ['assignment', 'kf3@acc', true],
      ['close', 'kf3@acc', false],
    ]);
    expect(ops.rejects.map((j) => j.reason)).toEqual([
      'opercode 1000 (创建未接入会话, session waiting in the queue) is not an event',
      'unknown opercode 9999',
    ]);
    expect(parse('api__customservice_kfsession_getsessionlist.json').rejects[0]!.reason).toMatch(
      /without naming the agent/,
    );
  });

  it('cspulse import --format auto reads the fixture folder through this connector', async () => {
    let items = 0;
    let rejects = 0;
    for (const f of files) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      for (const it of got.items) expect(it.raw.channel, f).toBe('wechat_oa');
      items += got.items.length;
      rejects += got.rejects.length;
      for (const j of got.rejects) expect(j.reason, f).toMatch(/^wechat_oa /);
    }
    expect({ items, rejects }).toEqual({ items: 12, rejects: 15 });
  });

  it('survives 10,000 mutated payloads with only valid events or typed rejects', () => {
    const bases = files.map(doc);
    fc.assert(
      fc.property(mutatedFrom(bases), (d) => {
        const r = wechatOaWebhook.parse(d);
        for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
        for (const j of r.rejects) expect(typeof j.reason).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('hostile bodies: deep nesting, wrong encodings, entities, junk — a 400 reason or events, never a throw', async () => {
    const open = (body: Buffer | string) =>
      wechatOaWebhook.open!(
        { headers: {}, body: Buffer.isBuffer(body) ? body : Buffer.from(body), query: {} },
        { secret: 't', options: {} },
      );
    const deep = `<xml>${'<a>'.repeat(20_000)}x${'</a>'.repeat(20_000)}</xml>`;
    expect(open(deep)).toEqual({ error: expect.stringMatching(/unreadable XML: Maximum nested tags/) });
    const gbk = Buffer.concat([
      Buffer.from(
        '<xml><FromUserName>o1</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>',
      ),
      Buffer.from([0xc4, 0xfa, 0xba, 0xc3]),
      Buffer.from('</Content><MsgId>5</MsgId></xml>'),
    ]);
    const opened = open(gbk);
    expect('doc' in opened && wechatOaWebhook.parse(opened.doc).events[0]).toMatchObject({
      text: '\ufffd\ufffd\ufffd\ufffd',
    });
    const bomb =
      '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><c>&b;&b;</c></xml>';
    expect(JSON.stringify(open(bomb)).length).toBeLessThan(200);
    const file = join(tmp.dir, 'deep.xml');
    writeFileSync(
      file,
      `${readFileSync(join(DIR, 'oa__test_parser__test_parse_text_message.xml'), 'utf8')}\n${deep}`,
    );
    const got = await collect(readEvents(file, 'auto'));
    expect(got.items).toHaveLength(1);
    expect(got.rejects[0]!.reason).toMatch(/unreadable XML/);

    const texts = files.filter((f) => f.endsWith('.xml')).map((f) => readFileSync(join(DIR, f), 'utf8'));
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.nat(),
        fc.oneof(
          fc.string(),
          fc.constantFrom('<', '</xml>', ']]>', '<![CDATA[', '&#0;', '&lt;', '<a><b>', '\ud800'),
        ),
        (xml, at, insert) => {
          const i = at % (xml.length + 1);
          const o = open(xml.slice(0, i) + insert + xml.slice(i));
          if ('doc' in o) {
            const r = wechatOaWebhook.parse(o.doc);
            for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
          } else expect('error' in o).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('openids, MsgIds and agent accounts at every length up to past the model’s limits: valid or rejected', () => {
    const bases = files.filter((f) => f.endsWith('.xml')).map(doc) as Record<string, unknown>[];
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.constantFrom('FromUserName', 'MsgId', 'KfAccount', 'ToKfAccount', 'Event', 'MsgType'),
        fc.integer({ min: 1, max: 520 }),
        (base, field, n) => {
          const d = { ...base, [field]: 'x'.repeat(n) };
          for (const e of wechatOaWebhook.parse(d).events) expect(validateEvent(e).ok).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
