/**
 * The platforms a live source can be (`sources add --platform`), by name: what the command line
 * lists without loading every connector. webhooks.ts maps each to its connector, and the compiler
 * holds the two to the same names.
 */
export const PLATFORMS = [
  'generic',
  'telegram',
  'chatwoot',
  'intercom',
  'zendesk',
  'wechat_oa',
  'wecom_app',
  'wecom_kf',
  'wecom_msgaudit',
  'feishu',
  'whatsapp',
  'line',
  'qq',
  'botframework',
] as const;

export type Platform = (typeof PLATFORMS)[number];
