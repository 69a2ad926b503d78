import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listDictionary, matchColumns, matchHeader, normaliseHeader } from './columns.ts';
import { FIELD_DICTIONARY } from './field-dictionary.ts';

describe('header dictionary', () => {
  it('never maps one normalised header to two fields', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const e of FIELD_DICTIONARY) {
      for (const h of [...e.zh, ...e.en, ...(e.vendor ?? []).map((v) => v.header)]) {
        const k = normaliseHeader(h);
        const prev = owner.get(k);
        if (prev && prev !== e.field) clashes.push(`${h}: ${prev} vs ${e.field}`);
        owner.set(k, e.field);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('can be listed', () => {
    const list = listDictionary();
    expect(list.find((x) => x.field === 'account')!.headers).toContain('servicer_userid');
    expect(list.find((x) => x.field === 'role')!.headers).toContain('sender_type (sobot)');
  });
});

describe('matchHeader', () => {
  it.each([
    ['客服账号', 'account'],
    ['接待客服', 'account'],
    ['服务人员ID', 'account'],
    ['UserName', 'account'],
    ['Staff Name', 'account'],
    ['AGENT_ID', 'account'],
    ['servicer_userid', 'account'],
    ['agent_name', 'accountName'],
    ['客服昵称', 'accountName'],
    ['external_userid', 'customer.id'],
    ['openid', 'customer.id'],
    ['Visitor ID', 'customer.id'],
    ['顾客', 'customer.id'],
    ['客户昵称', 'customer.name'],
    ['省份', 'customer.region'],
    ['msgtime', 'ts'],
    ['发送时间', 'ts'],
    ['发送时间（北京时间）', 'ts'],
    ['Created At', 'ts'],
    ['from_type', 'role'],
    ['发送者角色', 'role'],
    ['聊天内容', 'text'],
    ['msgtype', 'msgType'],
    ['接入渠道', 'channel'],
    ['source', 'channel'],
    ['会话编号', 'conversationId'],
    ['chat_id', 'conversationId'],
    ['会话标签', 'tags'],
    ['csat', 'rating'],
    ['message_id', 'id'],
    ['事件类型', 'kind'],
    ['ｓｅｎｄ＿ｔｉｍｅ', 'ts'],
  ])('%s → %s', (header, field) => {
    expect(matchHeader(header)?.field).toBe(field);
  });

  it('knows the Chinese SaaS vendor headers', () => {
    expect(matchHeader('sender_type')).toMatchObject({
      field: 'role',
      vendor: 'sobot',
      codes: { '2': 'agent' },
    });
    expect(matchHeader('origin')).toMatchObject({
      field: 'role',
      vendor: 'wecom_kf',
      codes: { '5': 'agent' },
    });
    expect(matchHeader('cid')).toMatchObject({ field: 'conversationId', vendor: 'sobot' });
    expect(matchHeader('conv_id')?.field).toBe('conversationId');
    expect(matchHeader('agent_account')?.field).toBe('account');
    expect(matchHeader('staffId')?.field).toBe('account');
    expect(matchHeader('evaluation')).toMatchObject({ field: 'rating', scale: '100' });
    expect(matchHeader('visitor_location')?.field).toBe('customer.region');
    expect(matchHeader('msg')?.field).toBe('text');
    expect(matchHeader('msg_type')).toMatchObject({ field: 'msgType', codes: { '1': 'image' } });
  });

  it('maps every Sobot chat-detail field it should, from the fixture', () => {
    const path = new URL(
      '../../../../shared/fixtures/cn_saas_fields/sobot_api_response_fields.tsv',
      import.meta.url,
    );
    let tsv: string;
    try {
      tsv = readFileSync(path, 'utf8');
    } catch {
      console.log('shared/fixtures/cn_saas_fields not found: skipping');
      return;
    }
    const detail = tsv
      .split('\n')
      .filter((l) => l.startsWith('OnlineService/GetDetailByCId/Response/Items.php'))
      .map((l) => l.split('\t')[1]!);
    const want: Record<string, string> = {
      sender_name: 'sender',
      sender_type: 'role',
      sender_type_cn: 'role',
      receiver_name: 'receiver',
      ts: 'ts',
      t: 'ts',
      msg: 'text',
      msg_type: 'msgType',
      msg_type_cn: 'msgType',
      cid: 'conversationId',
    };
    expect(detail.length).toBeGreaterThan(10);
    for (const h of detail) expect([h, matchHeader(h)?.field ?? null]).toEqual([h, want[h] ?? null]);
  });

  it('returns null for unknown and empty headers', () => {
    expect(matchHeader('备注')).toBeNull();
    expect(matchHeader('')).toBeNull();
    expect(matchHeader('   ')).toBeNull();
  });
});

describe('matchColumns', () => {
  it('reports recognised and ignored columns', () => {
    const r = matchColumns(['发送时间', '客服', '客服ID', '备注', '', 'text', '消息内容']);
    expect(r.recognised.map((x) => `${x.header}=${x.field}`)).toEqual([
      '发送时间=ts',
      '客服=account',
      '客服ID=accountName',
      '消息内容=text',
    ]);
    expect(r.ignored).toEqual([
      { index: 3, header: '备注', reason: 'not in the field dictionary' },
      { index: 4, header: '', reason: 'empty header' },
      // Chinese synonyms come first in the dictionary, so they win a tie.
      { index: 5, header: 'text', reason: 'duplicate: column "消息内容" already maps to text' },
    ]);
    expect(r.fields.ts).toEqual({ index: 0, header: '发送时间' });
  });

  it('prefers the earlier synonym when two columns mean the same field', () => {
    const r = matchColumns(['agent_id', 'agent', 'agent_name']);
    expect(r.fields.account!.header).toBe('agent');
    expect(r.fields.accountName!.header).toBe('agent_name');
    expect(r.ignored[0]!.header).toBe('agent_id');
  });
});
