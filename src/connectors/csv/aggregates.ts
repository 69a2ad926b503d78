/**
 * Exports that hold aggregates, not events: 企业微信 微信客服's「客户数据统计」(kf/get_corp_statistic and
 * kf/get_servicer_statistic, one row per day, per servicer or for the whole corp). Their numbers are
 * WeCom's own (its 平均首次响应时长 is not our FRT: other definitions, other business hours), so they
 * are never turned into facts. Each row is kept as a reject that says what it is and carries the
 * figures, for cross-checking our metrics against WeCom's by day and servicer.
 * Field names: shared/fixtures/cn_saas_fields/wecom_kf_statistic_fields.tsv (and their Chinese labels).
 */
import { normaliseHeader } from './columns.ts';

/** Statistic field → its Chinese label, both as they appear in exports. */
const WECOM_KF_STATISTICS: Record<string, string> = {
  session_cnt: '咨询会话数',
  customer_cnt: '咨询客户数',
  customer_msg_cnt: '咨询消息总数',
  upgrade_service_customer_cnt: '升级服务客户数',
  ai_session_reply_cnt: '智能回复会话数',
  ai_transfer_rate: '转人工率',
  ai_knowledge_hit_rate: '知识命中率',
  msg_rejected_customer_cnt: '被拒收消息的客户数',
  reply_rate: '人工回复率',
  first_reply_average_sec: '平均首次响应时长',
  satisfaction_investgate_cnt: '满意度评价发送数',
  satisfaction_participation_rate: '满意度参评率',
  satisfied_rate: '满意评价占比',
  middling_rate: '一般评价占比',
  dissatisfied_rate: '不满意评价占比',
  upgrade_service_member_invite_cnt: '专员服务邀请数',
  upgrade_service_member_customer_cnt: '添加专员的客户数',
  upgrade_service_groupchat_invite_cnt: '客户群服务邀请数',
  upgrade_service_groupchat_customer_cnt: '加入客户群的客户数',
};
const STATISTIC_KEYS = new Map<string, string>();
for (const [field, zh] of Object.entries(WECOM_KF_STATISTICS)) {
  STATISTIC_KEYS.set(normaliseHeader(field), field);
  STATISTIC_KEYS.set(normaliseHeader(zh), field);
}
STATISTIC_KEYS.set(normaliseHeader('接入人工会话数'), 'session_cnt');
const DAY = new Set(['stattime', '统计日期', '日期', 'date'].map(normaliseHeader));
const SERVICER = new Set(['servicer_userid', 'userid', '接待人员', '客服', '客服账号'].map(normaliseHeader));

/**
 * For an aggregate export's header, the reason to give each of its rows; null for any other file.
 * Three statistic columns make a statistics export (a message export has none of them).
 */
export function aggregateRows(header: readonly string[]): ((cells: readonly string[]) => string) | null {
  const keys = header.map((h) => normaliseHeader(h ?? ''));
  const stats = keys.map((k) => STATISTIC_KEYS.get(k));
  if (stats.filter(Boolean).length < 3) return null;
  const day = keys.findIndex((k) => DAY.has(k));
  const servicer = keys.findIndex((k) => SERVICER.has(k));
  return (cells) => {
    const when = day >= 0 ? dayOf(cells[day] ?? '') : '?';
    const who = servicer >= 0 && cells[servicer] ? `servicer ${cells[servicer]}` : 'the whole corp';
    const figures = stats
      .map((f, i) => (f && cells[i] !== undefined && cells[i] !== '' ? `${f} ${cells[i]}` : null))
      .filter(Boolean)
      .slice(0, 8)
      .join(', ');
    return `企业微信客服 statistics (${who}, ${when}: ${figures || 'no figures'}): a daily aggregate of WeCom's, not events; kept for cross-checking, never counted`;
  };
}

/** stat_time is the day's 00:00 as unix seconds (Beijing time); other exports write the date. */
function dayOf(v: string): string {
  if (/^\d{9,10}$/.test(v.trim())) return new Date((Number(v) + 8 * 3600) * 1000).toISOString().slice(0, 10);
  return v.trim().slice(0, 20) || '?';
}
