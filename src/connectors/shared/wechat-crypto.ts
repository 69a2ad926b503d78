/**
 * The WeChat family's callback security (WXBizMsgCrypt), shared by 公众号, 企业微信 apps and
 * 微信客服: the SHA-1 signatures over the sorted strings, and the AES-256-CBC envelope.
 *
 * Envelope: AESKey = base64(EncodingAESKey + '='), 32 bytes; IV = its first 16 bytes; the
 * plaintext is 16 random bytes, the message length (4 bytes, big-endian), the message, then the
 * receiver id (公众号 appid, 企业微信 corpid), PKCS#7-padded to a multiple of 32 bytes (not 16:
 * the padding is done by hand, so Node's own is turned off).
 */
import { createDecipheriv, createHash } from 'node:crypto';
import type { Opened, SourceCredentials, WebhookReply, WebhookRequest } from '../webhooks.ts';
import { sameSecret } from './signatures.ts';
import { parseXml } from './xml.ts';

/** sha1 of the strings sorted and joined, in hex: `signature` and `msg_signature` alike. */
export function wechatSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** Whether `given` is the signature of `parts`, compared in constant time. */
export function signatureMatches(given: string | undefined, ...parts: string[]): boolean {
  return sameSecret(given?.toLowerCase(), wechatSignature(...parts));
}

/** The 32-byte AES key of an EncodingAESKey, or why it is not one. */
export function aesKeyOf(encodingAESKey: string): Buffer | string {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey))
    return 'EncodingAESKey must be 43 characters of A–Z, a–z, 0–9 (as the admin console shows it)';
  return Buffer.from(`${encodingAESKey}=`, 'base64');
}

export type Decrypted = { message: string; receiveId: string } | { error: string };

/**
 * Open an `Encrypt` value. `expectReceiveId`, when given, must equal the receiver id inside: a
 * message encrypted for another account or corp is refused even when the key happens to match.
 */
export function decryptMessage(
  encrypted: string,
  encodingAESKey: string,
  expectReceiveId?: string,
): Decrypted {
  const key = aesKeyOf(encodingAESKey);
  if (typeof key === 'string') return { error: key };
  if (!/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(encrypted)) return { error: 'Encrypt is not base64' };
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0)
    return { error: `Encrypt is ${data.length} bytes, not a whole number of AES blocks` };
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (e) {
    return { error: `cannot decrypt: ${(e as Error).message}` };
  }
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > 32 || pad > plain.length)
    return { error: 'wrong key or corrupt message: bad PKCS#7 padding' };
  for (let i = plain.length - pad; i < plain.length; i++)
    if (plain[i] !== pad) return { error: 'wrong key or corrupt message: bad PKCS#7 padding' };
  const body = plain.subarray(16, plain.length - pad);
  if (body.length < 4) return { error: 'wrong key or corrupt message: no length field' };
  const length = body.readUInt32BE(0);
  if (length > body.length - 4)
    return { error: `wrong key or corrupt message: length ${length} exceeds the ${body.length - 4} bytes` };
  const message = body.subarray(4, 4 + length).toString('utf8');
  const receiveId = body.subarray(4 + length).toString('utf8');
  if (expectReceiveId !== undefined && expectReceiveId !== '' && receiveId !== expectReceiveId)
    return { error: `encrypted for "${receiveId.slice(0, 64)}", not for ${expectReceiveId}` };
  return { message, receiveId };
}

// ---- The callback protocol on top of the primitives: GET URL check, POST verification, opening.

/** Requests signed longer ago than this are refused as replays (WeChat retries within seconds). */
export const MAX_CLOCK_SKEW_S = 15 * 60;

const bodies = new WeakMap<Buffer, { doc: Record<string, unknown> } | { error: string }>();

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Names the general parser refuses or renames (Object's own: constructor, toString…): left to it. */
const reserved = (name: string) => name in Object.prototype || name === 'prototype';

/**
 * The WeChat family's messages are flat: `<xml>` holding leaf elements, each one CDATA section or
 * plain text. Read that shape in one linear scan (the general parser validates and parses, two
 * passes, several times the cost); anything else — attributes, nesting, entities, repeated
 * names, mixed content — returns null and goes to the general parser. Values as parseXml gives
 * them: CDATA as is, text trimmed.
 */
export function flatXml(text: string): Record<string, string> | null {
  let i = skipSpace(text, 0);
  if (!text.startsWith('<xml>', i)) return null;
  i += 5;
  const out: Record<string, string> = {};
  for (;;) {
    i = skipSpace(text, i);
    if (text.startsWith('</xml>', i))
      return skipSpace(text, i + 6) === text.length && Object.keys(out).length ? out : null;
    if (text[i] !== '<') return null;
    const close = text.indexOf('>', i);
    if (close < 0) return null;
    const name = text.slice(i + 1, close);
    if (!NAME.test(name) || Object.hasOwn(out, name) || reserved(name)) return null;
    i = close + 1;
    let value: string;
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) return null;
      value = text.slice(i + 9, end);
      i = end + 3;
    } else {
      const end = text.indexOf('<', i);
      if (end < 0) return null;
      value = text.slice(i, end);
      if (value.includes('&') || value.includes('>')) return null;
      value = value.trim();
      i = end;
    }
    const endTag = `</${name}>`;
    if (!text.startsWith(endTag, i)) return null;
    i += endTag.length;
    out[name] = value;
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
    i++;
  return i;
}

/** The callback body's `<xml>` element, parsed once per request. */
export function callbackXml(body: Buffer): { doc: Record<string, unknown> } | { error: string } {
  const hit = bodies.get(body);
  if (hit) return hit;
  const text = body.toString('utf8');
  const flat = flatXml(text);
  if (flat) {
    bodies.set(body, { doc: flat });
    return { doc: flat };
  }
  const parsed = parseXml(text);
  let out: { doc: Record<string, unknown> } | { error: string };
  if ('error' in parsed) out = parsed;
  else {
    const inner = parsed.doc.xml;
    out =
      inner && typeof inner === 'object' && !Array.isArray(inner)
        ? { doc: inner as Record<string, unknown> }
        : { error: 'body is not a WeChat <xml> document' };
  }
  bodies.set(body, out);
  return out;
}

function timestampProblem(ts: string | undefined, now: number): string | null {
  if (!ts || !/^\d{1,12}$/.test(ts)) return 'timestamp missing or not unix seconds';
  if (Math.abs(now / 1000 - Number(ts)) > MAX_CLOCK_SKEW_S)
    return `timestamp ${ts} is more than ${MAX_CLOCK_SKEW_S / 60} minutes from this server's clock (a replay, or a wrong clock)`;
  return null;
}

const text = (status: number, body: string): WebhookReply => ({ status, contentType: 'text/plain', body });

/**
 * How one platform of the family runs its callback.
 * - `wecom`: 企业微信 (apps, 微信客服): always encrypted; the GET echostr is encrypted and answered
 *   decrypted; receiver id = corpid (option `corpId`).
 * - `oa`: 公众号: plain mode (`signature` over token, timestamp, nonce — it does not cover the
 *   body) or safe mode (`encrypt_type=aes`, `msg_signature` covering the Encrypt too); the GET
 *   echostr is plain and echoed; receiver id = appid (option `appId`). A source given an aesKey
 *   accepts safe mode only, so a captured plain signature cannot carry a forged body.
 */
export type CallbackStyle = 'wecom' | 'oa';

export interface CallbackProtocol {
  handshake(req: WebhookRequest, creds: SourceCredentials): WebhookReply;
  verify(req: WebhookRequest, creds: SourceCredentials, now?: number): string | null;
  open(req: WebhookRequest, creds: SourceCredentials): Opened;
}

export function callbackProtocol(style: CallbackStyle): CallbackProtocol {
  const receiverOption = style === 'wecom' ? 'corpId' : 'appId';
  return {
    handshake(req, { secret, options }) {
      const q = req.query;
      if (!secret) return text(401, 'the source has no token (secret)');
      if (!q.echostr) return text(400, 'echostr missing: this URL answers the platform URL check');
      if (style === 'oa' && q.signature) {
        if (!signatureMatches(q.signature, secret, q.timestamp ?? '', q.nonce ?? ''))
          return text(401, 'signature does not match the token');
        return text(200, q.echostr);
      }
      if (!q.msg_signature) return text(401, 'msg_signature missing');
      if (!signatureMatches(q.msg_signature, secret, q.timestamp ?? '', q.nonce ?? '', q.echostr))
        return text(401, 'msg_signature does not match the token');
      if (!options.aesKey) return text(400, 'the source has no aesKey (EncodingAESKey)');
      const d = decryptMessage(q.echostr, options.aesKey, options[receiverOption]);
      if ('error' in d) return text(400, `echostr: ${d.error}`);
      return text(200, d.message);
    },

    verify(req, { secret, options }, now = Date.now()) {
      if (!secret) return 'the source has no token (secret); set the callback Token as its secret';
      const q = req.query;
      const safe = style === 'wecom' || q.encrypt_type === 'aes' || q.msg_signature !== undefined;
      if (!safe) {
        if (options.aesKey) return 'unencrypted request to a source in safe mode (encrypt_type=aes expected)';
        if (!q.signature) return 'signature missing';
        const stale = timestampProblem(q.timestamp, now);
        if (stale) return stale;
        return signatureMatches(q.signature, secret, q.timestamp!, q.nonce ?? '')
          ? null
          : 'signature does not match the token';
      }
      if (!q.msg_signature) return 'msg_signature missing';
      const stale = timestampProblem(q.timestamp, now);
      if (stale) return stale;
      const xml = callbackXml(req.body);
      const encrypt = 'doc' in xml ? xml.doc.Encrypt : undefined;
      if (typeof encrypt !== 'string' || !encrypt)
        return 'no <Encrypt> in the body to check the signature of';
      return signatureMatches(q.msg_signature, secret, q.timestamp!, q.nonce ?? '', encrypt)
        ? null
        : 'msg_signature does not match the token';
    },

    open(req, { options }) {
      const xml = callbackXml(req.body);
      if ('error' in xml) return xml;
      const encrypt = xml.doc.Encrypt;
      if (typeof encrypt !== 'string') return { doc: xml.doc };
      if (!options.aesKey) return { error: 'encrypted body, but the source has no aesKey (EncodingAESKey)' };
      const d = decryptMessage(encrypt, options.aesKey, options[receiverOption]);
      if ('error' in d) return { error: `Encrypt: ${d.error}` };
      const inner = callbackXml(Buffer.from(d.message, 'utf8'));
      if ('error' in inner) return { error: `decrypted message: ${inner.error}` };
      return { doc: inner.doc };
    },
  };
}
