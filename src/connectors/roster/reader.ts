/**
 * Roster import (CSV or XLSX): who the agents are, their employee number and group, and the platform
 * accounts that are theirs, so that "zhangsan" on WeCom and "AppleSupport ^JK" on Twitter are one person.
 *
 * Accounts come from an accounts column (several per cell, separated by ; , 、 | or newlines, each
 * optionally "platform:account") and from one-column-per-platform headers (企业微信账号, 飞书账号, …).
 * Platform names are folded to short ids (企业微信 → wecom). Rows without a name are rejected.
 */
import type { Reject } from '../../model/events.ts';
import { normaliseHeader } from '../csv/columns.ts';
import { findHeader, openTable, type TableKind } from '../csv/reader.ts';
import { openInput } from '../shared/input.ts';
import { cellText } from '../shared/table.ts';
import { clip, quote } from '../types.ts';

export interface RosterRow {
  name: string;
  employeeNo?: string;
  group?: string;
  accounts: { platform?: string; account: string }[];
}

type RosterField = 'name' | 'employeeNo' | 'group' | 'accounts';

export const ROSTER_FIELDS: Readonly<Record<RosterField, readonly string[]>> = {
  name: [
    '姓名',
    '名字',
    '客服姓名',
    '员工姓名',
    '真实姓名',
    'name',
    'full_name',
    'agent_name',
    'staff_name',
    'employee_name',
  ],
  employeeNo: [
    '工号',
    '工号ID',
    '员工编号',
    '员工号',
    '工号编号',
    'employee_no',
    'employee_id',
    'employee_number',
    'staff_no',
    'emp_no',
    'job_number',
  ],
  group: [
    '组',
    '分组',
    '客服组',
    '小组',
    '班组',
    '技能组',
    '部门',
    '团队',
    'group',
    'team',
    'department',
    'dept',
    'skill_group',
  ],
  accounts: [
    '账号',
    '帐号',
    '平台账号',
    '账号列表',
    '客服账号',
    'accounts',
    'account',
    'platform_accounts',
    'aliases',
  ],
};

/** Platform names as people write them → the short id used on events. */
export const PLATFORM_ALIASES: Readonly<Record<string, string>> = {
  企业微信: 'wecom',
  企微: 'wecom',
  企业微信客服: 'wecom',
  微信客服: 'wecom',
  wecom: 'wecom',
  wxwork: 'wecom',
  workweixin: 'wecom',
  飞书: 'feishu',
  feishu: 'feishu',
  lark: 'feishu',
  微信: 'wechat',
  公众号: 'wechat',
  wechat: 'wechat',
  weixin: 'wechat',
  钉钉: 'dingtalk',
  dingtalk: 'dingtalk',
  推特: 'twitter',
  twitter: 'twitter',
  x: 'twitter',
  whatsapp: 'whatsapp',
  telegram: 'telegram',
  line: 'line',
  抖音: 'douyin',
  douyin: 'douyin',
  淘宝: 'taobao',
  千牛: 'taobao',
  taobao: 'taobao',
  京东: 'jd',
  jd: 'jd',
  拼多多: 'pdd',
  pdd: 'pdd',
  智齿: 'sobot',
  sobot: 'sobot',
  七鱼: 'qiyu',
  网易七鱼: 'qiyu',
  qiyu: 'qiyu',
  美洽: 'meiqia',
  meiqia: 'meiqia',
  环信: 'easemob',
  easemob: 'easemob',
  chatwoot: 'chatwoot',
  intercom: 'intercom',
  zendesk: 'zendesk',
  邮箱: 'email',
  email: 'email',
};

const FIELD_INDEX = new Map<string, RosterField>();
for (const [field, names] of Object.entries(ROSTER_FIELDS) as [RosterField, readonly string[]][]) {
  for (const n of names) FIELD_INDEX.set(normaliseHeader(n), field);
}

/** The platform a per-platform column is for ("企业微信账号", "飞书 ID", "wecom_account"), or null. */
export function platformOfHeader(header: string): string | null {
  const key = normaliseHeader(header);
  const m = /^(.+?)(账号|帐号|账户|用户名|userid|account|id|handle)?$/.exec(key);
  if (!m) return null;
  return PLATFORM_ALIASES[m[1]!] ?? null;
}

export function normalisePlatform(p: string): string {
  const key = normaliseHeader(p);
  return PLATFORM_ALIASES[key] ?? key;
}

/** Split an accounts cell into accounts, each optionally "platform:account". */
export function parseAccounts(
  cell: string,
  defaultPlatform?: string,
): { platform?: string; account: string }[] {
  const out: { platform?: string; account: string }[] = [];
  for (const part of cell.split(/[;,、|\n\r；，]+/)) {
    const s = part.trim();
    if (!s) continue;
    const m = /^([^:：\s]{1,30})\s*[:：]\s*(.+)$/.exec(s);
    if (m && !/^https?$/i.test(m[1]!)) {
      out.push({ platform: normalisePlatform(m[1]!), account: m[2]!.trim() });
    } else {
      out.push(defaultPlatform ? { platform: defaultPlatform, account: s } : { account: s });
    }
  }
  return out;
}

function rosterScore(cells: string[]): number {
  let n = 0;
  for (const c of cells) if (c && (FIELD_INDEX.has(normaliseHeader(c)) || platformOfHeader(c))) n++;
  return n;
}

export async function readRoster(path: string): Promise<{ rows: RosterRow[]; rejects: Reject[] }> {
  const kind: TableKind = (await looksXlsx(path)) ? 'xlsx' : 'csv';
  const blocks = await openTable(path, kind);
  const rows: RosterRow[] = [];
  const rejects: Reject[] = [];
  try {
    const { found } = await findHeader(blocks, rosterScore, 2);
    if (!found) throw new Error(`${path}: no data (only empty rows)`);
    const cols: Partial<Record<RosterField, number>> = {};
    const platformCols: { index: number; platform: string }[] = [];
    found.header.forEach((h, i) => {
      const f = FIELD_INDEX.get(normaliseHeader(h));
      if (f && cols[f] === undefined) cols[f] = i;
      else if (!f) {
        const p = platformOfHeader(h);
        if (p) platformCols.push({ index: i, platform: p });
      }
    });
    if (cols.name === undefined) {
      throw new Error(
        `${path}: no name column in the roster header on line ${found.headerLine} (expected 姓名 or name); found ${found.header
          .slice(0, 10)
          .map((h) => quote(h))
          .join(', ')}`,
      );
    }
    const consume = (block: typeof found.pending): void => {
      for (const row of block) {
        if ('error' in row) {
          rejects.push({ file: path, line: row.line, reason: row.error });
          continue;
        }
        const cells = row.cells.map(cellText);
        if (cells.every((c) => c === '')) continue;
        const name = cells[cols.name!] ?? '';
        if (name === '') {
          rejects.push({
            file: path,
            line: row.line,
            reason: `name (column "${found.header[cols.name!]}"): missing`,
            raw: clip(cells.join(',')),
          });
          continue;
        }
        const r: RosterRow = { name, accounts: [] };
        const emp = cols.employeeNo === undefined ? '' : (cells[cols.employeeNo] ?? '');
        if (emp) r.employeeNo = emp;
        const group = cols.group === undefined ? '' : (cells[cols.group] ?? '');
        if (group) r.group = group;
        const accounts = [
          ...(cols.accounts === undefined ? [] : parseAccounts(cells[cols.accounts] ?? '')),
          ...platformCols.flatMap((p) => parseAccounts(cells[p.index] ?? '', p.platform)),
        ];
        const seen = new Set<string>();
        for (const a of accounts) {
          const key = `${a.platform ?? ''}\u0000${a.account}`;
          if (seen.has(key)) continue;
          seen.add(key);
          r.accounts.push(a);
        }
        rows.push(r);
      }
    };
    consume(found.pending);
    for (;;) {
      const r = await blocks.next();
      if (r.done) break;
      consume(r.value.rows);
    }
  } finally {
    await blocks.return(undefined);
  }
  return { rows, rejects };
}

async function looksXlsx(path: string): Promise<boolean> {
  const { head } = await openInput(path);
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}
