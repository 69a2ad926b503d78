/**
 * Keys and tokens as the Bot Framework makes them, for the tests (not used by production code): an
 * RSA key pair whose public half is published in a JWKS, and RS256 JWTs signed with it.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** A signing key as the Bot Framework publishes it: the public half in a JWKS. */
export function botKey(kid: string, endorsements?: string[]) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...publicKey.export({ format: 'jwk' }),
    kid,
    use: 'sig',
    ...(endorsements ? { endorsements } : {}),
  };
  return { privateKey, jwk };
}

export function botToken(
  privateKey: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  alg = 'RS256',
): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg, typ: 'JWT', kid });
  const body = enc(claims);
  const sig = sign('RSA-SHA256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url');
  return `${head}.${body}.${sig}`;
}
