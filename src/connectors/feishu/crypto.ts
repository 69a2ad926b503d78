/**
 * Feishu/Lark event security. With an Encrypt Key set in the developer console, bodies arrive as
 * `{"encrypt": base64}`: AES-256-CBC, key = SHA-256(encrypt key), the first 16 bytes of the
 * decoded ciphertext are the IV, PKCS#7 padding. Requests are then signed:
 * X-Lark-Signature = hex(SHA-256(X-Lark-Request-Timestamp + X-Lark-Request-Nonce + encrypt key + raw body)).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const keyOf = (encryptKey: string) => createHash('sha256').update(encryptKey).digest();

export function decryptFeishu(encrypted: string, encryptKey: string): { text: string } | { error: string } {
  const buf = Buffer.from(encrypted, 'base64');
  // At least the IV and one block; whole blocks after it.
  if (buf.length < 32 || (buf.length - 16) % 16 !== 0)
    return {
      error: `encrypt: ${buf.length} bytes after base64 decoding; expected a 16-byte IV and whole AES blocks`,
    };
  try {
    const d = createDecipheriv('aes-256-cbc', keyOf(encryptKey), buf.subarray(0, 16));
    return { text: Buffer.concat([d.update(buf.subarray(16)), d.final()]).toString('utf8') };
  } catch {
    return { error: "encrypt: cannot be decrypted with the source's encryptKey (wrong key or corrupt data)" };
  }
}

/** What Feishu sends when an Encrypt Key is set; used by the tests and the docs' examples. */
export function encryptFeishu(plain: string, encryptKey: string, iv: Buffer = randomBytes(16)): string {
  const c = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]).toString('base64');
}

export function feishuSignature(timestamp: string, nonce: string, encryptKey: string, body: Buffer): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey)
    .update(body)
    .digest('hex');
}
