/**
 * Saved mappings, field dictionaries and vendor exports through the command line: a real process,
 * a real SQLite file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/cspulse.js');
const CN_SAAS = join(import.meta.dirname, '../fixtures/connectors/cn_saas');

async function cspulse(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, CI: 'true' },
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

// Each command is a process start (about 1 s unloaded, far more on a busy machine).
const SLOW = 300_000;

describe('cspulse mappings, sources dictionaries and vendor exports', () => {
  let dir: string;
  let db: string;
  let odd: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-map-'));
    db = join(dir, 'm.db');
    odd = join(dir, 'taobao.csv');
    writeFileSync(
      odd,
      '聊天时间,买家旺旺,说话人,客服子账号,聊天文本\n' +
        '2025-11-07 10:00:00,tb_buyer_1,买家,,在吗\n' +
        '2025-11-07 10:00:30,tb_buyer_1,卖家,店铺:小美,在的亲\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'refuses a mapping to unknown fields, naming them; saves, lists and applies a good one',
    async () => {
      const bad = await cspulse(
        'mappings',
        'save',
        '淘宝',
        '--column',
        '客服子账号=agent',
        '--column',
        '聊天文本=txt',
        '--db',
        db,
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/unknown canonical fields "agent", "txt"/);
      const malformed = await cspulse('mappings', 'save', '淘宝', '--column', '客服子账号', '--db', db);
      expect(malformed.stderr).toMatch(/--column "客服子账号": expected 源列=canonical_field/);

      const mappingFile = join(dir, 'taobao-mapping.json');
      writeFileSync(
        mappingFile,
        JSON.stringify({ columns: { 聊天时间: 'ts', 买家旺旺: 'customer.id' }, description: '淘宝千牛导出' }),
      );
      const saved = await cspulse(
        'mappings',
        'save',
        '淘宝',
        '--from',
        mappingFile,
        '--column',
        '说话人=role',
        '--column',
        '客服子账号=account',
        '--column',
        '聊天文本=text',
        '--db',
        db,
      );
      expect(saved.stdout).toContain('mapping saved: 淘宝 (5 columns)');
      const list = JSON.parse((await cspulse('mappings', 'list', '--json', '--db', db)).stdout);
      expect(list.mappings[0]).toMatchObject({
        name: '淘宝',
        description: '淘宝千牛导出',
        columns: { 说话人: 'role' },
      });

      const without = await cspulse('import', odd, '--json', '--db', db);
      expect(JSON.parse(without.stdout)).toMatchObject({ accepted: 0, failedFiles: [odd] });
      const unknown = await cspulse('import', odd, '--mapping', '天猫', '--db', db);
      expect(unknown.stderr).toMatch(/no saved mapping "天猫"; saved: 淘宝/);
      const withMapping = JSON.parse(
        (await cspulse('import', odd, '--mapping', '淘宝', '--json', '--db', db)).stdout,
      );
      expect(withMapping).toMatchObject({ accepted: 2, rejected: 0, failedFiles: [] });
      const agents = await cspulse('agents', 'list', '--unknown', '--db', db);
      expect(agents.stdout).toContain('店铺:小美');
    },
    SLOW,
  );

  it(
    'lists the dictionaries; one platform with its codes; a user dictionary stored and used',
    async () => {
      const all = JSON.parse((await cspulse('sources', 'dictionaries', '--json', '--db', db)).stdout);
      expect(all.dictionaries.map((d: { name: string }) => d.name)).toEqual(
        expect.arrayContaining(['standard', 'sobot', 'wecom_kf', 'meiqia', 'qiyu', 'easemob']),
      );
      const sobot = await cspulse('sources', 'dictionaries', '--platform', 'sobot', '--db', db);
      expect(sobot.stdout).toMatch(/sender_type → role {2}codes 0→customer 1→bot 2→agent/);
      const none = await cspulse('sources', 'dictionaries', '--platform', 'zhichi', '--db', db);
      expect(none.stderr).toMatch(/no dictionary "zhichi"; there are: standard, /);

      const other = join(dir, 'jd.csv');
      writeFileSync(
        other,
        '咚咚时间,顾客PIN,角色,咚咚客服,咚咚内容\n2025-11-08 09:00:00,jd_u1,客户,,发货了吗\n',
      );
      // Only 角色 is known: the row has no time.
      const before = JSON.parse((await cspulse('import', other, '--json', '--db', db)).stdout);
      expect(before).toMatchObject({ accepted: 0, rejected: 1 });
      expect(before.rejects[0].reason).toMatch(/^ts: missing/);
      const dictFile = join(dir, 'jd.json');
      writeFileSync(
        dictFile,
        JSON.stringify({
          name: 'jd',
          label: { zh: '京东咚咚', en: 'JD Dongdong' },
          headers: [
            { header: '咚咚时间', field: 'ts' },
            { header: '顾客PIN', field: 'customer.id' },
            { header: '咚咚客服', field: 'account' },
            { header: '咚咚内容', field: 'text' },
          ],
        }),
      );
      expect((await cspulse('sources', 'dictionaries', '--add', dictFile, '--db', db)).stdout).toContain(
        'dictionary saved: jd (4 headers)',
      );
      const listed = JSON.parse(
        (await cspulse('sources', 'dictionaries', '--platform', 'jd', '--json', '--db', db)).stdout,
      );
      expect(listed.dictionaries[0]).toMatchObject({
        name: 'jd',
        origin: 'database',
        headers: expect.any(Array),
      });
      const imported = JSON.parse((await cspulse('import', other, '--json', '--db', db)).stdout);
      expect(imported).toMatchObject({ accepted: 1, failedFiles: [] });
      const badDict = join(dir, 'bad.json');
      writeFileSync(badDict, JSON.stringify({ name: 'bad', headers: [{ header: 'x', field: 'agent_no' }] }));
      expect((await cspulse('sources', 'dictionaries', '--add', badDict, '--db', db)).stderr).toMatch(
        /bad\.json: headers\.0\.field/,
      );
    },
    SLOW,
  );

  it(
    'imports every Chinese SaaS sample with --format auto; the statistics export only as rejects',
    async () => {
      const files = [
        'sobot_chat_detail_gbk.csv',
        'sobot_api_detail.csv',
        'meiqia_conversations.xlsx',
        'qiyu_messages.csv',
        'easemob_history.csv',
      ];
      const r = JSON.parse(
        (await cspulse('import', ...files.map((f) => join(CN_SAAS, f)), '--json', '--db', db)).stdout,
      );
      // 6 + 3 + 3 + 4 messages and one Qiyu rating (its repeat a duplicate) + 3.
      expect(r).toMatchObject({ accepted: 20, duplicates: 1, rejected: 0, failedFiles: [] });
      const stats = JSON.parse(
        (await cspulse('import', join(CN_SAAS, 'wecom_kf_servicer_statistics.csv'), '--json', '--db', db))
          .stdout,
      );
      expect(stats).toMatchObject({ accepted: 0, rejected: 2, failedFiles: [] });
      expect(stats.rejects[0].reason).toMatch(/企业微信客服 statistics .*not events/);
    },
    SLOW,
  );
});
