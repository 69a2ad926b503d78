/**
 * Live connectors: one per platform, each turning a verified webhook body into canonical events.
 * The server (src/server/ingest.ts) knows nothing of platforms; it asks the connector of the
 * source's platform to answer the URL check (GET), to verify the request, to open the body
 * (decrypt, parse XML, answer a challenge), then to parse it, and stores what comes out.
 * The same `parse` reads the platform's payloads saved to files (`cspulse import`), found by `detect`.
 */
import type { CanonicalEventInput } from '../model/events.ts';
import type { Platform } from './platforms.ts';
import { botframeworkWebhook } from './botframework/webhook.ts';
import { chatwootWebhook } from './chatwoot/webhook.ts';
import { feishuWebhook } from './feishu/webhook.ts';
import { genericWebhook } from './generic/webhook.ts';
import { intercomWebhook } from './intercom/webhook.ts';
import { lineWebhook } from './line/webhook.ts';
import { qqWebhook } from './qq/webhook.ts';
import { telegramWebhook } from './telegram/webhook.ts';
import { wechatOaWebhook } from './wechat_oa/webhook.ts';
import { wecomAppWebhook } from './wecom_app/webhook.ts';
import { wecomKfWebhook } from './wecom_kf/webhook.ts';
import { wecomMsgauditConnector } from './wecom_msgaudit/connector.ts';
import { whatsappWebhook } from './whatsapp/webhook.ts';
import { zendeskWebhook } from './zendesk/webhook.ts';

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: signatures are computed over these bytes. */
  body: Buffer;
  query: Record<string, string | undefined>;
}

/** What a source knows to prove its platform's requests and to open them. */
export interface SourceCredentials {
  /** The main secret: app secret, channel secret, HMAC key, secret token. */
  secret: string | null;
  /** The platform's other credentials (verify token, EncodingAESKey, corp id, encrypt key…). */
  options: Record<string, string>;
}

/** An answer the platform expects, other than the default JSON summary. */
export interface WebhookReply {
  status: number;
  contentType?: string;
  body: string | Record<string, unknown>;
}

/** What came out of one body: events, and the parts that are not events, with the reason why. */
export interface WebhookParse {
  events: CanonicalEventInput[];
  /** `at` names the part of the body (a JSON path such as `events[3]`, or the update's kind). */
  rejects: { at: string; reason: string; raw?: unknown }[];
}

/** A credential a platform needs beyond the secret, for `sources add --option name=value`. */
export interface CredentialOption {
  name: string;
  required: boolean;
  help: { zh: string; en: string };
}

export type Opened = { doc: unknown } | { reply: WebhookReply } | { error: string };

export interface WebhookConnector {
  platform: string;
  label: { zh: string; en: string };
  /** How the sender proves itself, for `sources add` and the docs. */
  verification: string;
  /** What `secret` means for this platform (default: the shared secret). */
  secretHelp?: { zh: string; en: string };
  options?: CredentialOption[];
  /**
   * GET on the webhook URL: the platform's URL check (WhatsApp hub.challenge, WeCom and 公众号
   * echostr). Absent: GET is 405.
   */
  handshake?(req: WebhookRequest, creds: SourceCredentials): WebhookReply;
  /** null when the request is authentic; otherwise why not (the request gets 401). */
  verify(req: WebhookRequest, creds: SourceCredentials): string | null;
  /**
   * The verified body as the platform's document: decrypted, XML parsed. `reply` ends the request
   * there without storing anything (Feishu url_verification); `error` is a 400 kept as a reject.
   * Absent: the body is JSON.
   */
  open?(req: WebhookRequest, creds: SourceCredentials): Opened;
  /** The document, already verified and opened. Never throws: anything unexpected is a reject. */
  parse(doc: unknown): WebhookParse;
  /** The answer on success when the platform wants a particular one (WeChat: "success"). */
  ack?: WebhookReply;
  /**
   * For `cspulse import --format auto`: whether a document read from a file (JSON, or XML parsed
   * with parseXml) is this platform's. Files hold the platform's payloads as they were received
   * (decrypted), one document, an array of them, or one per line.
   */
  detect?(doc: unknown): boolean;
  /**
   * false: the platform never pushes (WeCom 会话内容存档 is pulled with the customer's SDK), so
   * the connector reads files only: `sources add` refuses it, and `verify` refuses every request.
   */
  live?: boolean;
}

const REGISTRY = {
  generic: genericWebhook,
  telegram: telegramWebhook,
  chatwoot: chatwootWebhook,
  intercom: intercomWebhook,
  zendesk: zendeskWebhook,
  wechat_oa: wechatOaWebhook,
  wecom_app: wecomAppWebhook,
  wecom_kf: wecomKfWebhook,
  wecom_msgaudit: wecomMsgauditConnector,
  feishu: feishuWebhook,
  whatsapp: whatsappWebhook,
  line: lineWebhook,
  qq: qqWebhook,
  botframework: botframeworkWebhook,
} satisfies Record<Platform, WebhookConnector>;

export const WEBHOOK_CONNECTORS: Record<string, WebhookConnector> = REGISTRY;

export function webhookConnector(platform: string): WebhookConnector | undefined {
  return Object.hasOwn(WEBHOOK_CONNECTORS, platform) ? WEBHOOK_CONNECTORS[platform] : undefined;
}

/** The platform whose connector recognises a document read from a file, if any. */
export function detectPlatform(doc: unknown): WebhookConnector | undefined {
  return Object.values(WEBHOOK_CONNECTORS).find((c) => c.detect?.(doc));
}
