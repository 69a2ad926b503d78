/**
 * The QQ bot open platform signs webhooks with Ed25519. The key pair is derived from the bot's
 * AppSecret: the secret repeated until it is at least 32 bytes, its first 32 bytes the seed.
 * The platform signs X-Signature-Timestamp + raw body; our answer to the URL check (op 13) is
 * signed over event_ts + plain_token with the same key.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

// PKCS#8 DER for an Ed25519 private key, followed by the 32-byte seed (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function seedOf(secret: string): Buffer {
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length === 0) throw new Error('empty bot secret');
  let seed = bytes;
  while (seed.length < 32) seed = Buffer.concat([seed, bytes]);
  return seed.subarray(0, 32);
}

const cache = new Map<string, { priv: KeyObject; pub: KeyObject }>();

export function keysOf(secret: string): { priv: KeyObject; pub: KeyObject } {
  const hit = cache.get(secret);
  if (hit) return hit;
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seedOf(secret)]),
    format: 'der',
    type: 'pkcs8',
  });
  const keys = { priv, pub: createPublicKey(priv) };
  // A handful of sources at most; the bound only keeps a misuse from growing without limit.
  if (cache.size > 100) cache.clear();
  cache.set(secret, keys);
  return keys;
}

export function signHex(secret: string, message: Buffer | string): string {
  return sign(null, Buffer.from(message), keysOf(secret).priv).toString('hex');
}

export function verifyHex(secret: string, message: Buffer, signatureHex: string): boolean {
  if (!/^[0-9a-f]{128}$/i.test(signatureHex)) return false;
  return verify(null, message, keysOf(secret).pub, Buffer.from(signatureHex, 'hex'));
}
