/**
 * Seven weeks of a three-agent team whose numbers are known by construction, for the bundle, the
 * CLI and delivery tests. Weeks 2025-W39 … W45 (Asia/Shanghai); each agent answers six
 * conversations a week, Monday to Saturday, every first response taking the agent's seconds of
 * that week. In W45 张三 slows to 200 s (his own history: 30, 32, 28, 31, 29, 30) and on Wednesday
 * 2025-11-05 holds three conversations at once from 14:50 to 15:40.
 */
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import { parseTimestamp } from '../../src/model/time.ts';
import type { Store } from '../../src/store/db.ts';

const at = (local: string) => parseTimestamp(local, 'Asia/Shanghai')!;

export const WEEKS = ['2025-W39', '2025-W40', '2025-W41', '2025-W42', '2025-W43', '2025-W44', '2025-W45'];
const MONDAYS = [
  '2025-09-22',
  '2025-09-29',
  '2025-10-06',
  '2025-10-13',
  '2025-10-20',
  '2025-10-27',
  '2025-11-03',
];

/** First response seconds per agent per week (W39 … W45). */
export const FRT: Record<string, number[]> = {
  zhang: [30, 29, 31, 28, 32, 30, 200],
  li: [40, 40, 40, 40, 40, 40, 40],
  wang: [45, 45, 45, 45, 45, 45, 45],
};
export const NAMES: Record<string, string> = { zhang: '张三', li: '李四', wang: '王五' };
const CHANNEL: Record<string, string> = { zhang: 'wecom_kf', li: 'web', wang: 'wecom_kf' };

export const ROSTER = [
  { name: '张三', employeeNo: 'KF001', group: '售后组', accounts: [{ account: 'zhang' }] },
  { name: '李四', employeeNo: 'KF002', group: '售前组', accounts: [{ account: 'li' }] },
  { name: '王五', employeeNo: 'KF003', group: '售后组', accounts: [{ account: 'wang' }] },
];

function conversation(id: string, account: string, channel: string, start: number, frt: number, end: number) {
  const base = { source: 'weeks', channel, conversationId: id };
  const customer = { id: `cust_${id}`, name: '王小明' };
  return [
    {
      ...base,
      kind: 'message',
      id: `${id}m1`,
      ts: start,
      role: 'customer',
      customer,
      text: `订单 ${id} 什么时候到`,
    },
    { ...base, kind: 'assignment', id: `${id}a`, ts: start, account },
    {
      ...base,
      kind: 'message',
      id: `${id}m2`,
      ts: start + frt * 1000,
      role: 'agent',
      account,
      text: '马上为您查询',
    },
    { ...base, kind: 'close', id: `${id}c`, ts: end },
  ] as CanonicalEventInput[];
}

export function weeksEvents(): CanonicalEventInput[] {
  const out: CanonicalEventInput[] = [];
  MONDAYS.forEach((monday, w) => {
    for (const [k, account] of Object.keys(FRT).entries()) {
      for (let d = 0; d < 6; d++) {
        const day = new Date(Date.parse(`${monday}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10);
        const start = at(`${day} 10:00:00`) + k * 3_600_000;
        out.push(
          ...conversation(
            `${account}${w}${d}`,
            account,
            CHANNEL[account]!,
            start,
            FRT[account]![w]!,
            start + 600_000,
          ),
        );
      }
    }
  });
  // The Wednesday peak: three of 张三's conversations open together 14:50–15:40, on the web.
  const peak: [string, string][] = [
    ['14:30', '16:00'],
    ['14:40', '15:50'],
    ['14:50', '15:40'],
  ];
  for (const [i, [from, to]] of peak.entries())
    out.push(
      ...conversation(
        `peak${i}`,
        'zhang',
        'web',
        at(`2025-11-05 ${from}:00`),
        200,
        at(`2025-11-05 ${to}:00`),
      ),
    );
  return out;
}

export async function loadWeeks(store: Store): Promise<void> {
  await importRoster(store, ROSTER);
  const r = await accept(
    store,
    weeksEvents().map((raw, i) => ({ line: i + 1, raw })),
    'weeks',
  );
  if (r.rejects.length) throw new Error(JSON.stringify(r.rejects.slice(0, 3)));
  await refreshFacts(store);
}
