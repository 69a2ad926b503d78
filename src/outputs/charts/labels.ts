/**
 * Display names of what reports are keyed by, for charts, tables and files. Channel ids are what
 * connectors write (wecom_kf, whatsapp…); a manager reads 企业微信客服, so every output maps them
 * here, and an id nobody listed is shown as it is rather than hidden.
 */
import type { ReportRow } from '../../metrics/report.ts';

const CHANNELS: Record<string, { zh: string; en: string }> = {
  wecom: { zh: '企业微信', en: 'WeCom' },
  wecom_kf: { zh: '企业微信客服', en: 'WeCom KF' },
  wechat_oa: { zh: '微信公众号', en: 'WeChat OA' },
  wechat_kf: { zh: '微信客服', en: 'WeChat KF' },
  feishu: { zh: '飞书', en: 'Feishu' },
  lark: { zh: '飞书', en: 'Lark' },
  dingtalk: { zh: '钉钉', en: 'DingTalk' },
  qq: { zh: 'QQ', en: 'QQ' },
  whatsapp: { zh: 'WhatsApp', en: 'WhatsApp' },
  telegram: { zh: 'Telegram', en: 'Telegram' },
  line: { zh: 'LINE', en: 'LINE' },
  zendesk: { zh: 'Zendesk', en: 'Zendesk' },
  chatwoot: { zh: 'Chatwoot', en: 'Chatwoot' },
  intercom: { zh: 'Intercom', en: 'Intercom' },
  web: { zh: '网页', en: 'Web' },
  app: { zh: 'App', en: 'App' },
  email: { zh: '邮件', en: 'E-mail' },
  phone: { zh: '电话', en: 'Phone' },
  twitter: { zh: 'Twitter', en: 'Twitter' },
};

export function channelLabel(id: string | null | undefined, lang: 'zh' | 'en' = 'zh'): string {
  if (id === null || id === undefined || id === '') return lang === 'zh' ? '(无渠道)' : '(no channel)';
  return CHANNELS[id]?.[lang] ?? id;
}

export type RowKind = 'agent' | 'group' | 'channel';

export const ROW_KIND_LABEL: Record<RowKind, { zh: string; en: string }> = {
  agent: { zh: '客服', en: 'Agent' },
  group: { zh: '客服组', en: 'Group' },
  channel: { zh: '渠道', en: 'Channel' },
};

/** The name a summary row goes by: the agent's name (未分配 from the report), the group, the channel. */
export function rowLabel(row: ReportRow, by: RowKind, lang: 'zh' | 'en' = 'zh'): string {
  const v = row.key[by];
  if (by === 'channel') return channelLabel(v === null || v === undefined ? null : String(v), lang);
  if (v === null || v === undefined || v === '') return lang === 'zh' ? '(未分组)' : '(no group)';
  return String(v);
}
