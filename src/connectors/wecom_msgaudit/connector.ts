/**
 * 企业微信 会话内容存档 as a connector: file import only. WeCom never pushes these records (the
 * customer pulls them with the Finance SDK and decrypts them with their private key), so the
 * connector is `live: false`: `sources add` refuses it and any request to it is refused.
 */
import type { WebhookConnector } from '../webhooks.ts';
import { isEncryptedChatData, isMsgauditRecord, parseMsgaudit } from './parse.ts';

export const wecomMsgauditConnector: WebhookConnector = {
  platform: 'wecom_msgaudit',
  label: { zh: '企业微信 会话内容存档(文件导入)', en: 'WeCom chat archive (会话内容存档, file import)' },
  live: false,
  verification: 'none: pull only — records are fetched with the Finance SDK and imported as files',
  verify: () => 'wecom_msgaudit is pull only: import the decrypted records as files (cspulse import)',
  detect: (doc) => isMsgauditRecord(doc) || isEncryptedChatData(doc),
  parse: parseMsgaudit,
};
