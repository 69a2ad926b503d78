/**
 * The sending side of the WeChat callback protocol, written from the platform's documentation
 * for the tests (production code only ever receives): encrypt as WeChat does, sign as WeChat does.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

export function sha1Sorted(...parts: string[]): string {
  return createHash('sha1').update(parts.slice().sort().join('')).digest('hex');
}

/** random(16) + length (4 bytes, big-endian) + message + receiver id, PKCS#7 to 32, AES-256-CBC. */
export function wechatEncrypt(
  message: string,
  encodingAESKey: string,
  receiveId: string,
  random = randomBytes(16),
): string {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const plain = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** The POST a WeChat server sends in safe mode: the query and the `<xml>` body with Encrypt. */
export function signedEncryptedPost(
  xml: string,
  o: { token: string; aesKey: string; receiveId: string; timestamp?: string; nonce?: string },
): { query: Record<string, string>; body: string } {
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? String(Math.floor(Math.random() * 1e9));
  const encrypt = wechatEncrypt(xml, o.aesKey, o.receiveId);
  return {
    query: {
      msg_signature: sha1Sorted(o.token, timestamp, nonce, encrypt),
      timestamp,
      nonce,
      encrypt_type: 'aes',
    },
    body: `<xml><ToUserName><![CDATA[${o.receiveId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  };
}

/** A 43-character EncodingAESKey. */
export const randomAesKey = () => randomBytes(32).toString('base64').slice(0, 43);
