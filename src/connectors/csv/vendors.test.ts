/**
 * The exports of the Chinese customer-service SaaS (hand-made samples after their field lists),
 * saved mappings and user dictionaries, read through the real CSV/XLSX reader.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { matchColumns, mappingProblem } from './columns.ts';
import {
  DICTIONARY_DIR,
  parseDictionaryFile,
  VENDOR_DICTIONARIES,
  type VendorDictionary,
} from './field-dictionary.ts';

const DIR = join(OWN_FIXTURES, 'cn_saas');
const read = (name: string) => collect(readEvents(join(DIR, name), 'auto'));
// biome-ignore lint/suspicious/noExplicitAny: events are checked field by field.
const raws = (c: Awaited<ReturnType<typeof collect>>): any[] => c.items.map((i) => i.raw);
const local = (s: string) => Date.parse(`${s.replace(' ', 'T')}+08:00`);
const tmp = tempDir('cspulse-vendors-');
afterAll(() => tmp.cleanup());

describe('Chinese SaaS exports', () => {
  it('智齿 Sobot console export in GBK: Chinese headers, 用户/机器人/客服 roles, 图片 as image', async () => {
    expect(readFileSync(join(DIR, 'sobot_chat_detail_gbk.csv')).includes(Buffer.from('会话ID'))).toBe(false);
    const got = await read('sobot_chat_detail_gbk.csv');
    expect(got.rejects).toEqual([]);
    const e = raws(got);
    expect(e.map((x) => x.role)).toEqual(['customer', 'bot', 'customer', 'agent', 'customer', 'agent']);
    expect(e[0]).toMatchObject({
      conversationId: 'S20251103001',
      ts: local('2025-11-03 09:00:05'),
      customer: { id: '访客8842' },
      text: '你好，我的快递三天没动了',
      msgType: 'text',
    });
    expect(e[1]).toMatchObject({ account: '小智机器人' });
    expect(e[3]).toMatchObject({ account: '李娜', customer: { id: '访客8842' } });
    expect(e[4]).toMatchObject({ msgType: 'image' });
    for (const x of e) expect(validateEvent(x).ok).toBe(true);
  });

  it('Sobot API detail: sender_type codes 0/2, t in ms, agentid and visitorid', async () => {
    const e = raws(await read('sobot_api_detail.csv'));
    expect(e.map((x) => [x.role, x.account ?? null, x.ts])).toEqual([
      ['customer', null, 1762135200000],
      ['agent', 'a-1009', 1762135245000],
      ['customer', null, 1762135300000],
    ]);
    expect(e.every((x) => x.conversationId === 'c-7781' && x.customer.id === 'v-501')).toBe(true);
  });

  it('美洽 Meiqia XLSX under a title row: agent account and name, visitor region, local times', async () => {
    const got = await read('meiqia_conversations.xlsx');
    expect(got.rejects).toEqual([]);
    const e = raws(got);
    expect(e).toHaveLength(3);
    expect(e[1]).toMatchObject({
      role: 'agent',
      account: 'liuyang@shop',
      accountName: '刘洋',
      conversationId: 'mq-1201',
      customer: { id: 'mqv-77', region: '广东' },
      ts: local('2025-11-06 20:16:10'),
    });
  });

  it('网易七鱼 Qiyu: 机器人 is the bot, the session rating on the 100 scale is stored once', async () => {
    const e = raws(await read('qiyu_messages.csv'));
    expect(e.filter((x) => x.kind === 'message').map((x) => x.role)).toEqual([
      'bot',
      'customer',
      'agent',
      'customer',
    ]);
    const ratings = e.filter((x) => x.kind === 'rating');
    // Repeated on each row of the session: one id, so one rating once stored.
    expect(new Set(ratings.map((r) => r.id))).toEqual(new Set(['rating:QY-88']));
    expect(ratings[0]).toMatchObject({ score: 100, scale: '100', comment: '回复很快' });
  });

  it('环信 Easemob history: Visitor/Agent/Robot user types, msgId as the event id, ISO times', async () => {
    const e = raws(await read('easemob_history.csv'));
    expect(e.map((x) => [x.id, x.role, x.account ?? null])).toEqual([
      ['m-1', 'customer', null],
      ['m-2', 'agent', 'chenchen@corp'],
      ['m-3', 'bot', '小环'],
    ]);
    expect(e[0].ts).toBe(Date.parse('2025-11-05T10:00:00+08:00'));
  });

  it('企业微信客服 statistics: every row a reject naming it an aggregate, with its figures kept', async () => {
    const got = await read('wecom_kf_servicer_statistics.csv');
    expect(got.items).toEqual([]);
    expect(got.rejects.map((r) => r.line)).toEqual([2, 3]);
    expect(got.rejects[0]!.reason).toMatch(
      /^企业微信客服 statistics \(servicer zhangsan, 2025-11-03: session_cnt 12, customer_cnt 11, .*first_reply_average_sec 35\.5.*not events/,
    );
    expect(got.rejects[0]!.raw).toContain('0.92');
  });

  it('the corp-wide statistics with Chinese headers are aggregates too; one such column is not', async () => {
    const corp = join(tmp.dir, 'corp.csv');
    writeFileSync(corp, '日期,咨询会话数,咨询客户数,咨询消息总数,转人工率\n2025-11-03,120,98,1033,0.3\n');
    const got = await collect(readEvents(corp, 'auto'));
    expect(got.items).toEqual([]);
    expect(got.rejects[0]!.reason).toMatch(
      /^企业微信客服 statistics \(the whole corp, 2025-11-03: session_cnt 120, customer_cnt 98, customer_msg_cnt 1033, ai_transfer_rate 0\.3\)/,
    );
    const messages = join(tmp.dir, 'messages.csv');
    writeFileSync(messages, '时间,发送方,客服,内容,咨询会话数\n2025-11-03 10:00:00,客服,wang,您好,3\n');
    expect((await collect(readEvents(messages, 'auto'))).items).toHaveLength(1);
  });
});

describe('saved mappings and user dictionaries', () => {
  const odd = join(tmp.dir, 'taobao.csv');
  writeFileSync(
    odd,
    '聊天时间,买家旺旺,说话人,客服子账号,聊天文本,备注\n' +
      '2025-11-07 10:00:00,tb_buyer_1,买家,,在吗,x\n' +
      '2025-11-07 10:00:30,tb_buyer_1,卖家,店铺:小美,在的亲,y\n',
  );

  it('an export nobody knows is refused, naming what it found', async () => {
    await expect(collect(readEvents(odd, 'auto'))).rejects.toThrow(/no column header recognised.*"买家旺旺"/);
  });

  it('a mapping applied ahead of the dictionary reads it; ignore drops a column', async () => {
    const mapping = {
      聊天时间: 'ts',
      买家旺旺: 'customer.id',
      说话人: 'role',
      客服子账号: 'account',
      聊天文本: 'text',
      备注: 'ignore',
    };
    expect(mappingProblem(mapping)).toBeNull();
    const got = await collect(readEvents(odd, 'auto', { columns: { mapping } }));
    expect(got.rejects).toEqual([]);
    expect(got.batches[0]!.columns!.ignored).toEqual([
      { index: 5, header: '备注', reason: 'ignored by the mapping' },
    ]);
    expect(got.items.map((i) => i.raw)).toEqual([
      expect.objectContaining({ role: 'customer', customer: { id: 'tb_buyer_1' }, text: '在吗' }),
      expect.objectContaining({
        role: 'agent',
        account: '店铺:小美',
        text: '在的亲',
        ts: local('2025-11-07 10:00:30'),
      }),
    ]);
    // A mapping wins over the dictionary: 内容 would be text, the mapping says it is the comment.
    const report = matchColumns(['内容', '消息'], { mapping: { 内容: 'comment' } });
    expect(report.recognised.map((r) => [r.header, r.field])).toEqual([
      ['内容', 'comment'],
      ['消息', 'text'],
    ]);
  });

  it('a mapping with unknown fields is refused, naming them; one for another file says so', async () => {
    expect(mappingProblem({ a: 'agent', b: 'txt', c: 'text' })).toMatch(
      /unknown canonical fields "agent", "txt"; expected one of id, kind/,
    );
    expect(mappingProblem({})).toMatch(/no columns/);
    expect(mappingProblem({ 'Agent Name': 'account', agent_name: 'accountName' })).toMatch(/same header/);
    await expect(
      collect(readEvents(odd, 'auto', { columns: { mapping: { 坐席: 'account' } } })),
    ).rejects.toThrow(/none of the mapping's columns \("坐席"\) is in the header on line 1/);
  });

  it('user dictionaries add headers after the built-in ones; a built-in synonym keeps its meaning', () => {
    const mine: VendorDictionary = {
      name: 'taobao',
      headers: [
        { header: '买家旺旺', field: 'customer.id' },
        { header: '聊天文本', field: 'text' },
        { header: '内容', field: 'comment' },
      ],
    };
    const without = matchColumns(['买家旺旺', '聊天文本', '内容']);
    expect(without.recognised.map((r) => r.field)).toEqual(['text']);
    const withMine = matchColumns(['买家旺旺', '聊天文本', '内容'], { dictionaries: [mine] });
    expect(withMine.recognised.map((r) => [r.header, r.field, r.vendor ?? null])).toEqual([
      ['买家旺旺', 'customer.id', 'taobao'],
      ['内容', 'text', null],
    ]);
    expect(withMine.ignored.map((r) => r.header)).toEqual(['聊天文本']);
  });

  it('every dictionary file is valid data; a broken one is refused naming the file and the field', () => {
    expect(VENDOR_DICTIONARIES.map((d) => d.name)).toEqual(
      expect.arrayContaining(['sobot', 'wecom_kf', 'meiqia', 'qiyu', 'easemob', 'useasy', 'wecom_msgaudit']),
    );
    for (const d of VENDOR_DICTIONARIES)
      expect(parseDictionaryFile(join(DICTIONARY_DIR, `${d.name}.json`))).toEqual(d);
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', headers: [{ header: '工号', field: 'agent_no' }] }));
    expect(() => parseDictionaryFile(bad)).toThrow(
      new RegExp(`${bad.replace(/[.\\/]/g, '\\$&')}: headers\\.0\\.field: `),
    );
    writeFileSync(bad, '{"name": "x",');
    expect(() => parseDictionaryFile(bad)).toThrow(/bad\.json: not JSON/);
  });
});
