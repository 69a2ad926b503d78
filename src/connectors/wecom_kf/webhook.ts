/**
 * 企业微信 微信客服. Two ways in:
 * - the callback URL (POST /ingest/<id>): WeCom-style msg_signature and AES envelope, the GET
 *   echostr answered decrypted. The callback only announces new messages (kf_msg_or_event);
 *   the messages are read with sync_msg by the pull connector (pull/wecom-kf.ts,
 *   `cspulse sources pull <id>`), which needs the options corpId and kfSecret;
 * - files: saved sync_msg answers or items, read by the same parser.
 */
import { callbackProtocol } from '../shared/wechat-crypto.ts';
import { WECOM_CALLBACK_OPTIONS } from '../wecom_app/webhook.ts';
import { WECHAT_ACK } from '../wechat_oa/webhook.ts';
import type { WebhookConnector } from '../webhooks.ts';
import { isKfCallback, isKfItem, isSyncMsgAnswer, parseKf } from './parse.ts';

const protocol = callbackProtocol('wecom');

export const wecomKfWebhook: WebhookConnector = {
  platform: 'wecom_kf',
  label: { zh: '企业微信 微信客服', en: 'WeCom WeChat Customer Service (微信客服)' },
  verification:
    'callback: msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)), AES-256-CBC with the EncodingAESKey, GET echostr answered decrypted; messages pulled with sync_msg (access token from corpId + kfSecret)',
  secretHelp: { zh: '回调配置中的 Token', en: 'the Token of the callback configuration' },
  options: [
    { ...WECOM_CALLBACK_OPTIONS[0]!, required: false },
    WECOM_CALLBACK_OPTIONS[1]!,
    {
      name: 'kfSecret',
      required: false,
      help: {
        zh: '微信客服的 Secret,用于 sync_msg 拉取消息',
        en: 'the 微信客服 Secret, for pulling messages with sync_msg',
      },
    },
    {
      name: 'openKfId',
      required: false,
      help: { zh: '只拉取这个客服账号(open_kfid)的消息', en: 'pull only this kf account (open_kfid)' },
    },
    {
      name: 'apiBase',
      required: false,
      help: {
        zh: '接口地址(默认 https://qyapi.weixin.qq.com)',
        en: 'API address (default https://qyapi.weixin.qq.com)',
      },
    },
  ],
  handshake: protocol.handshake,
  verify: (req, creds) => protocol.verify(req, creds),
  open: protocol.open,
  ack: WECHAT_ACK,
  detect: (doc) => isSyncMsgAnswer(doc) || isKfItem(doc) || isKfCallback(doc),
  parse: parseKf,
};
