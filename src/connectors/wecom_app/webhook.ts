/**
 * 企业微信 self-built app callback (接收消息): members of the corp writing to an app — an internal
 * helpdesk. The XML is the 公众号's with an AgentID (wechat_oa/parse.ts reads both); the sender
 * (FromUserName, a member's userid) is the customer. Always encrypted: msg_signature over the
 * token, timestamp, nonce and Encrypt; the GET URL check sends an encrypted echostr to answer
 * decrypted; the receiver id inside is the corpid.
 */
import { callbackProtocol } from '../shared/wechat-crypto.ts';
import { WECHAT_ACK } from '../wechat_oa/webhook.ts';
import { isWechatXml, parseWechatXml } from '../wechat_oa/parse.ts';
import type { WebhookConnector } from '../webhooks.ts';

const protocol = callbackProtocol('wecom');

export const WECOM_CALLBACK_OPTIONS = [
  {
    name: 'aesKey',
    required: true,
    help: { zh: '回调配置的 EncodingAESKey(43 位)', en: 'the callback EncodingAESKey (43 characters)' },
  },
  {
    name: 'corpId',
    required: true,
    help: { zh: '企业 ID(corpid):解密后核对', en: 'the corp id, checked inside each decrypted message' },
  },
];

export const wecomAppWebhook: WebhookConnector = {
  platform: 'wecom_app',
  label: { zh: '企业微信自建应用(接收消息)', en: 'WeCom self-built app (received messages)' },
  verification:
    'msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)); AES-256-CBC with the EncodingAESKey; GET echostr answered decrypted',
  secretHelp: { zh: '回调配置中的 Token', en: 'the Token of the callback configuration' },
  options: WECOM_CALLBACK_OPTIONS,
  handshake: protocol.handshake,
  verify: (req, creds) => protocol.verify(req, creds),
  open: protocol.open,
  ack: WECHAT_ACK,
  detect: (doc) => isWechatXml(doc) && 'AgentID' in doc,
  parse: (doc) => parseWechatXml(doc, 'wecom_app'),
};
