import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { matchColumns } from './columns.ts';
import { inspectColumns, mapRow, readTableEvents, roleOf, toEpochMs } from './reader.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
function file(content: string | Buffer, ext = '.csv'): string {
  const p = join(tmp.dir, `f${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

const SH = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  Date.UTC(y, mo - 1, d, h - 8, mi, s);

describe('CSV reader on the hand-written Chinese export', () => {
  const path = join(OWN_FIXTURES, 'messages_zh.csv');

  it('skips the title row, reads BOM + CRLF + quoted newlines, maps every column', async () => {
    const c = await collect(readTableEvents(path, 'csv'));
    expect(c.batches[0]!.columns!.ignored.map((x) => x.header)).toEqual(['备注']);
    const byLine = new Map<number, Record<string, unknown>[]>();
    for (const it of c.items) byLine.set(it.line, [...(byLine.get(it.line) ?? []), it.raw]);
    expect([...byLine.keys()]).toEqual([3, 4, 6, 7, 10, 12]);
    expect(byLine.get(3)![0]).toMatchObject({
      kind: 'message',
      source: 'csv',
      ts: SH(2025, 11, 5, 14, 30),
      channel: 'wecom',
      conversationId: 'S1',
      role: 'customer',
      customer: { id: 'u_1001', name: '张三', region: '广东' },
      text: '在吗',
    });
    expect(byLine.get(3)![0]!.account).toBeUndefined();
    expect(byLine.get(4)![0]).toMatchObject({
      role: 'agent',
      account: 'zhangsan',
      accountName: '小张',
      tags: ['退款', '物流'],
      text: '您好，请问有什么可以帮您？\r\n我们在的',
    });
    // 访客 is a customer; the 满意度 on a message row becomes the conversation's rating.
    expect(byLine.get(6)!.map((e) => e.kind)).toEqual(['message', 'rating']);
    expect(byLine.get(6)![0]).toMatchObject({ role: 'customer', text: '订单 "123" 没到' });
    expect(byLine.get(6)![1]).toMatchObject({
      kind: 'rating',
      id: 'rating:S1',
      score: '满意',
      conversationId: 'S1',
    });
    expect(byLine.get(7)![0]).toMatchObject({ role: 'bot', account: 'xiaozhi' });
    // Empty channel cell → 'import'; epoch seconds; ISO with zone.
    expect(byLine.get(10)![0]).toMatchObject({ channel: 'import', ts: 1762326000000, role: 'customer' });
    expect(byLine.get(12)![0]).toMatchObject({
      ts: Date.UTC(2025, 10, 5, 7, 1),
      role: 'agent',
      account: 'lisi',
    });
    expect(c.rejects.map((r) => `${r.line}: ${r.reason}`)).toEqual([
      '8: ts: missing (column "发送时间" is empty)',
      '9: role (column "发送方"): expected 客户/客服/机器人/系统 or customer/agent/bot/system, got "未知角色"',
    ]);
    for (const it of c.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
  });

  it('derives the same ids when the file is imported twice', async () => {
    const a = await collect(readTableEvents(path, 'csv'));
    const b = await collect(readTableEvents(path, 'csv'));
    const ids = a.items.map((i) => i.raw.id);
    expect(ids).toEqual(b.items.map((i) => i.raw.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('reads naive times in the given timezone', async () => {
    const c = await collect(readTableEvents(path, 'csv', { timezone: 'UTC' }));
    expect(c.items[0]!.raw.ts).toBe(Date.UTC(2025, 10, 5, 14, 30));
  });

  it('inspects the columns without importing', async () => {
    const r = await inspectColumns(path, 'csv');
    expect(r.recognised).toHaveLength(12);
  });
});

describe('CSV encodings and layouts', () => {
  const header = '会话ID,时间,角色,客服,客户ID,内容\n';
  const body =
    'S9,2025-11-05 09:00:00,用户,,c1,你好，我想退货\nS9,2025-11-05 09:01:00,人工客服,wangwu,c1,好的，请提供订单号\n';

  it('decodes GBK (GB18030) when the bytes are not UTF-8', async () => {
    const p = file(iconv.encode(header + body, 'gbk'));
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.rejects).toEqual([]);
    expect(c.items.map((i) => i.raw.text)).toEqual(['你好，我想退货', '好的，请提供订单号']);
    expect(c.items[1]!.raw).toMatchObject({ role: 'agent', account: 'wangwu', ts: SH(2025, 11, 5, 9, 1) });
  });

  it('reads UTF-8 with BOM and CRLF the same as plain UTF-8', async () => {
    const plain = await collect(readTableEvents(file(header + body), 'csv'));
    const bom = await collect(
      readTableEvents(file(`\uFEFF${(header + body).replace(/\n/g, '\r\n')}`), 'csv'),
    );
    expect(bom.items.map((i) => i.raw)).toEqual(plain.items.map((i) => i.raw));
  });

  it('reads UTF-16 tab-separated ("Unicode text" from Excel)', async () => {
    const text = (header + body).replace(/,/g, '\t');
    const p = file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), '.txt');
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.items).toHaveLength(2);
    expect(c.items[0]!.raw.text).toBe('你好，我想退货');
  });

  it('reads semicolon-separated files', async () => {
    const c = await collect(readTableEvents(file((header + body).replace(/,/g, ';')), 'csv'));
    expect(c.items).toHaveLength(2);
  });

  it('rejects a row with an unclosed quote and carries on', async () => {
    const p = file(
      `${header}S9,2025-11-05 09:00:00,用户,,c1,"broken\nS9,2025-11-05 09:02:00,用户,,c1,fine\n`,
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.rejects).toEqual([
      expect.objectContaining({ line: 2, reason: expect.stringMatching(/quoted field .* never closes/) }),
    ]);
    expect(c.items.map((i) => [i.line, i.raw.text])).toEqual([[3, 'fine']]);
  });

  it('rejects an oversized row and carries on', async () => {
    const p = file(
      `${header}S9,2025-11-05 09:00:00,用户,,c1,${'x'.repeat(1_100_000)}\nS9,2025-11-05 09:02:00,用户,,c1,fine\n`,
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.rejects.map((r) => r.line)).toEqual([2]);
    expect(c.items.map((i) => i.line)).toEqual([3]);
  });

  it('throws, naming the file, when no header is recognised', async () => {
    const p = file('foo,bar\n1,2\n');
    await expect(collect(readTableEvents(p, 'csv'))).rejects.toThrow(`${p}: no column header recognised`);
  });
});

describe('role inference and other kinds', () => {
  it('infers the role from a sender column and the agent column', async () => {
    const p = file(
      [
        '时间,发送人,客服,客户,内容',
        '2025-11-05 10:00:00,c7,zhaoliu,c7,hi',
        '2025-11-05 10:00:30,zhaoliu,zhaoliu,c7,hello',
        '2025-11-05 10:01:00,someone,zhaoliu,c7,??',
        '2025-11-05 10:02:00,机器人,zhaoliu,c7,auto',
      ].join('\n'),
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.items.map((i) => [i.line, i.raw.role, i.raw.account])).toEqual([
      [2, 'customer', undefined],
      [3, 'agent', 'zhaoliu'],
      [5, 'bot', 'zhaoliu'],
    ]);
    expect(c.rejects).toEqual([
      expect.objectContaining({
        line: 4,
        reason: 'role: cannot infer: sender "someone" is neither the agent "zhaoliu" nor the customer "c7"',
      }),
    ]);
  });

  it('with only an agent column, a sender who is not the agent is the customer', async () => {
    const p = file(
      'timestamp,sender,agent,text\n2025-11-05 10:00:00,c7,a1,hi\n2025-11-05 10:00:10,a1,a1,yo\n',
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.items.map((i) => i.raw.role)).toEqual(['customer', 'agent']);
  });

  it('rejects rows whose role cannot be known', async () => {
    const p = file('timestamp,agent,text\n2025-11-05 10:00:00,a1,hi\n');
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.rejects[0]!.reason).toBe(
      'role: missing (no role column such as 发送方/role, and no sender column to infer it from)',
    );
  });

  it('reads a Sobot chat-detail export with its codes', async () => {
    const p = file(
      [
        'cid,sender_name,sender_type,receiver_name,ts,t,msg,msg_type',
        'C1,visitor9,0,小智,2025-11-05 10:00:00,1762308000000,在吗,0',
        'C1,小智,1,visitor9,2025-11-05 10:00:01,1762308001000,您好,0',
        'C1,agent_a,2,visitor9,2025-11-05 10:01:00,1762308060000,https://x/img.png,1',
      ].join('\n'),
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.batches[0]!.columns!.ignored).toEqual([
      { index: 5, header: 't', reason: 'duplicate: column "ts" already maps to ts' },
    ]);
    expect(
      c.items.map((i) => [i.raw.role, i.raw.account, (i.raw.customer as { id: string }).id, i.raw.msgType]),
    ).toEqual([
      ['customer', undefined, 'visitor9', 'text'],
      ['bot', '小智', 'visitor9', 'text'],
      ['agent', 'agent_a', 'visitor9', 'image'],
    ]);
    expect(c.items[0]!.raw).toMatchObject({ conversationId: 'C1', ts: SH(2025, 11, 5, 10, 0) });
  });

  it('reads WeCom kf origin codes and unix-second send_time', async () => {
    const p = file(
      'msgid,open_kfid,external_userid,send_time,origin,servicer_userid,msgtype,text.content\nm1,wk1,wm1,1615478585,3,Zhangsan,text,hello world\nm2,wk1,wm1,1615478600,5,Zhangsan,text,hi\n',
    );
    const c = await collect(readTableEvents(p, 'csv'));
    expect(c.items.map((i) => [i.raw.id, i.raw.role, i.raw.ts, i.raw.account])).toEqual([
      ['m1', 'customer', 1615478585000, undefined],
      ['m2', 'agent', 1615478600000, 'Zhangsan'],
    ]);
  });

  it('reads other event kinds from a kind column', async () => {
    const p = file(
      [
        '事件类型,时间,会话ID,客户ID,客服,满意度,工单ID,状态,金额',
        '分配,2025-11-05 10:00:00,S1,c1,a1,,,,',
        '转接,2025-11-05 10:05:00,S1,c1,a2,,,,',
        '结束,2025-11-05 10:10:00,S1,c1,a2,,,,',
        '评价,2025-11-05 10:11:00,S1,c1,,4,,,',
        '工单,2025-11-05 10:12:00,S1,c1,a2,,T9,已解决,',
        '订单,2025-11-06 10:00:00,,c1,,,,,"¥1,299.00"',
        '在线状态,2025-11-06 09:00:00,,,a1,,,忙碌,',
        '跳舞,2025-11-06 09:00:00,,,a1,,,,',
      ].join('\n'),
    );
    const c = await collect(readTableEvents(p, 'csv'));
    const evs = c.items.map((i) => i.raw);
    expect(evs.map((e) => e.kind)).toEqual([
      'assignment',
      'assignment',
      'close',
      'rating',
      'ticket',
      'order',
      'presence',
    ]);
    expect(evs[1]).toMatchObject({ transfer: true, account: 'a2' });
    expect(evs[3]).toMatchObject({ score: 4 });
    expect(evs[4]).toMatchObject({ ticketId: 'T9', status: 'resolved' });
    expect(evs[5]).toMatchObject({ type: 'order', amount: 1299 });
    expect(evs[6]).toMatchObject({ status: 'busy', account: 'a1' });
    expect(c.rejects[0]!.reason).toMatch(/^kind \(column "事件类型"\): expected message, assignment/);
    for (const e of evs) expect(validateEvent(e)).toMatchObject({ ok: true });
  });
});

describe('XLSX', () => {
  it('reads a workbook written with exceljs: dates as wall-clock time, numbers, rich text', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('会话记录');
    ws.addRow(['客服会话导出']);
    ws.addRow(['会话ID', '发送时间', '发送方', '客服账号', '客户ID', '消息内容', '满意度']);
    ws.addRow(['S1', new Date(Date.UTC(2025, 10, 5, 14, 30)), '客户', null, 'u1', '在吗', null]);
    ws.addRow([
      'S1',
      '2025-11-05 14:31:00',
      '客服',
      'zhangsan',
      'u1',
      { richText: [{ text: '您好' }, { text: '！' }] },
      9,
    ]);
    ws.addRow(['S1', 45966.6, '客服', 'zhangsan', 'u1', 'serial date', null]);
    ws.addRow([]);
    ws.addRow(['S1', 'soon', '客户', null, 'u1', 'bad date', null]);
    wb.addWorksheet('汇总').addRow(['合计', 3]);
    const p = join(tmp.dir, 'export.xlsx');
    await wb.xlsx.writeFile(p);

    const c = await collect(readTableEvents(p, 'xlsx'));
    expect(c.items.map((i) => i.line)).toEqual([3, 4, 4, 5]);
    expect(c.items[0]!.raw).toMatchObject({ ts: SH(2025, 11, 5, 14, 30), role: 'customer', text: '在吗' });
    expect(c.items[1]!.raw).toMatchObject({
      ts: SH(2025, 11, 5, 14, 31),
      account: 'zhangsan',
      text: '您好！',
    });
    expect(c.items[2]!.raw).toMatchObject({ kind: 'rating', score: 9, scale: '10' });
    expect(c.items[3]!.raw.ts).toBe(SH(2025, 11, 5, 14, 24));
    expect(c.rejects.map((r) => r.line)).toEqual([7]);
    expect(c.rejects[0]!.reason).toMatch(/^ts \(column "发送时间"\): expected a date/);
  });

  it('throws, naming the file, on a corrupt workbook', async () => {
    const p = file(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]), '.xlsx');
    await expect(collect(readTableEvents(p, 'xlsx'))).rejects.toThrow(p);
  });
});

describe('mapRow and helpers', () => {
  const ctx = { timezone: 'Asia/Shanghai', xlsx: false, columns: matchColumns(['时间', '角色', '内容']) };

  it('ignores empty rows', () => {
    expect(mapRow(['', '', ''], ctx)).toBeNull();
  });

  it('rejects a bad timestamp naming the field and the value', () => {
    expect(mapRow(['abc', '客户', 'x'], ctx)).toEqual({
      reject:
        'ts (column "时间"): expected a date like "2025-11-05 14:30:00", an ISO time or epoch seconds/ms, got "abc"',
    });
  });

  it('reads role words', () => {
    expect(roleOf('人工客服')).toBe('agent');
    expect(roleOf('智能机器人')).toBe('bot');
    expect(roleOf('Visitor')).toBe('customer');
    expect(roleOf('系统消息')).toBe('system');
    expect(roleOf('???')).toBeNull();
  });

  it('reads Chinese dates and Excel serials', () => {
    const c = { timezone: 'Asia/Shanghai', xlsx: true };
    expect(toEpochMs('2025年11月5日 14时30分', c)).toBe(SH(2025, 11, 5, 14, 30));
    expect(toEpochMs(45966.5, c)).toBe(SH(2025, 11, 5, 12, 0));
    expect(toEpochMs('Tue Oct 31 22:10:47 +0000 2017', c)).toBe(Date.UTC(2017, 9, 31, 22, 10, 47));
    expect(toEpochMs('nonsense', c)).toBeNull();
  });
});
