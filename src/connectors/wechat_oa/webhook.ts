/**
 * 微信公众号 webhook (the server configuration's URL). Verification: plain mode `signature` =
 * sha1(sort(token, timestamp, nonce)); safe mode `msg_signature` = sha1(sort(token, timestamp,
 * nonce, Encrypt)) and the AES envelope (shared/wechat-crypto.ts). The GET URL check echoes
 * `echostr`. WeChat wants the plain text `success` back, or it retries and then warns the user.
 * Files of saved callbacks (XML) and 客服 API answers (JSON) are read by the same parser.
 */
import { callbackProtocol } from '../shared/wechat-crypto.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';
import { isKfCallback } from '../wecom_kf/parse.ts';
import { customServiceShape, isWechatXml, parseCustomService, parseWechatXml } from './parse.ts';

const protocol = callbackProtocol('oa');

/** The success answer of the WeChat family: anything else makes the platform retry. */
export const WECHAT_ACK = { status: 200, contentType: 'text/plain', body: 'success' } as const;

export const wechatOaWebhook: WebhookConnector = {
  platform: 'wechat_oa',
  label: {
    zh: '微信公众号(消息与多客服事件)',
    en: 'WeChat Official Account (messages and customer-service events)',
  },
  verification:
    'plain mode: signature = sha1(sort(token, timestamp, nonce)); safe mode (encrypt_type=aes): msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)) and AES-256-CBC with the EncodingAESKey',
  secretHelp: { zh: '服务器配置中的令牌(Token)', en: 'the Token of the server configuration' },
  options: [
    {
      name: 'aesKey',
      required: false,
      help: {
        zh: '消息加解密密钥 EncodingAESKey(43 位);设置后只接受安全模式',
        en: 'EncodingAESKey (43 characters); when set, only safe mode is accepted',
      },
    },
    {
      name: 'appId',
      required: false,
      help: { zh: '公众号 AppID:解密后核对', en: 'the AppID, checked inside each decrypted message' },
    },
  ],
  handshake: protocol.handshake,
  verify: (req, creds) => protocol.verify(req, creds),
  open: protocol.open,
  ack: WECHAT_ACK,
  // 微信客服's callbacks share the XML shape but belong to wecom_kf.
  detect: (doc) =>
    (isWechatXml(doc) && !('AgentID' in doc) && !isKfCallback(doc)) || customServiceShape(doc) !== null,
  parse(doc): WebhookParse {
    if (customServiceShape(doc) !== null) return parseCustomService(doc);
    return parseWechatXml(doc, 'wechat_oa');
  },
};
