import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { parseAccounts, platformOfHeader, readRoster } from './reader.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('parseAccounts', () => {
  it('splits on ; , 、 | and newlines, with optional platform prefixes', () => {
    expect(parseAccounts('wecom:zhangsan; twitter:AppleSupport ^JK')).toEqual([
      { platform: 'wecom', account: 'zhangsan' },
      { platform: 'twitter', account: 'AppleSupport ^JK' },
    ]);
    expect(parseAccounts('a、b|c\nd，企业微信：zs')).toEqual([
      { account: 'a' },
      { account: 'b' },
      { account: 'c' },
      { account: 'd' },
      { platform: 'wecom', account: 'zs' },
    ]);
    expect(parseAccounts('ou_1', 'feishu')).toEqual([{ platform: 'feishu', account: 'ou_1' }]);
    expect(parseAccounts('')).toEqual([]);
  });

  it('knows per-platform column headers', () => {
    expect(platformOfHeader('企业微信账号')).toBe('wecom');
    expect(platformOfHeader('飞书账号')).toBe('feishu');
    expect(platformOfHeader('Twitter Handle')).toBe('twitter');
    expect(platformOfHeader('wecom_account')).toBe('wecom');
    expect(platformOfHeader('备注')).toBeNull();
  });
});

describe('readRoster', () => {
  const expected = [
    {
      name: '张三',
      employeeNo: 'E001',
      group: '售前一组',
      accounts: [
        { platform: 'wecom', account: 'zhangsan' },
        { platform: 'twitter', account: 'AppleSupport ^JK' },
        { platform: 'feishu', account: 'ou_123' },
      ],
    },
    {
      name: '李四',
      employeeNo: 'E002',
      group: '售后组',
      accounts: [
        { account: 'lisi' },
        { platform: 'twitter', account: 'Delta *AST' },
        { platform: 'feishu', account: 'ou_456' },
      ],
    },
    { name: '王五', accounts: [{ account: 'wangwu' }, { account: 'ww2' }] },
  ];

  it('reads a CSV roster and rejects rows without a name', async () => {
    const path = join(OWN_FIXTURES, 'roster.csv');
    const r = await readRoster(path);
    expect(r.rows).toEqual(expected);
    expect(r.rejects).toEqual([
      { file: path, line: 4, reason: 'name (column "姓名"): missing', raw: ',E003,售后组,nobody,,' },
    ]);
  });

  it('reads a GBK roster with English headers', async () => {
    const p = join(tmp.dir, 'roster-gbk.csv');
    writeFileSync(
      p,
      iconv.encode(
        'name,employee_no,team,accounts\n赵六,E9,夜班,"wecom:zhaoliu,twitter:Delta -Becky"\n',
        'gbk',
      ),
    );
    const r = await readRoster(p);
    expect(r.rows).toEqual([
      {
        name: '赵六',
        employeeNo: 'E9',
        group: '夜班',
        accounts: [
          { platform: 'wecom', account: 'zhaoliu' },
          { platform: 'twitter', account: 'Delta -Becky' },
        ],
      },
    ]);
  });

  it('reads an XLSX roster', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('花名册');
    ws.addRow(['姓名', '工号', '客服组', '账号', '企业微信账号', '飞书账号']);
    ws.addRow(['张三', 'E001', '售前一组', 'wecom:zhangsan; twitter:AppleSupport ^JK', 'zhangsan', 'ou_123']);
    ws.addRow(['李四', 'E002', '售后组', 'lisi、twitter:Delta *AST|feishu:ou_456', null, null]);
    ws.addRow([null, 'E003', '售后组', 'nobody']);
    ws.addRow(['王五', null, null, 'wangwu\nww2']);
    const p = join(tmp.dir, 'roster.xlsx');
    await wb.xlsx.writeFile(p);
    const r = await readRoster(p);
    expect(r.rows).toEqual(expected);
    expect(r.rejects.map((x) => x.line)).toEqual([4]);
  });

  it('throws without a name column, naming the file', async () => {
    const p = join(tmp.dir, 'bad-roster.csv');
    writeFileSync(p, '工号,账号\nE1,a\n');
    await expect(readRoster(p)).rejects.toThrow(`${p}: no name column`);
  });
});
