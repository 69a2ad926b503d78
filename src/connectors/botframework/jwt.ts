/**
 * The Bot Framework's proof of origin: `Authorization: Bearer <JWT>`, RS256, signed by a key the
 * Bot Framework publishes as a JWKS (its OpenID metadata). CS Pulse runs without reaching out, so
 * the operator gives the JWKS as a source option; the token is checked against it here:
 * signature, issuer, audience (the bot's app id), expiry and not-before (5 minutes of clock skew,
 * as the Bot Framework SDKs allow), the key's channel endorsements, and the serviceUrl claim.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { isObject, type Obj } from '../shared/json-fields.ts';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
const SKEW_S = 300;

interface Jwk extends JsonWebKey {
  kid?: string;
  endorsements?: string[];
}

export function parseJwks(text: string): { keys: Jwk[] } | { error: string } {
  try {
    const doc = JSON.parse(text) as unknown;
    const keys = isObject(doc) && Array.isArray(doc.keys) ? doc.keys : Array.isArray(doc) ? doc : null;
    if (!keys) return { error: 'jwks: expected {"keys": [...]}' };
    return { keys: keys.filter(isObject) as Jwk[] };
  } catch (e) {
    return { error: `jwks: not JSON (${(e as Error).message})` };
  }
}

// A source's JWKS is parsed and its keys imported once: every request of a burst uses the same few.
const jwksCache = new Map<string, { keys: Jwk[] } | { error: string }>();
const imported = new WeakMap<Jwk, KeyObject>();

function cachedJwks(text: string): { keys: Jwk[] } | { error: string } {
  let set = jwksCache.get(text);
  if (!set) {
    set = parseJwks(text);
    if (jwksCache.size > 20) jwksCache.clear();
    jwksCache.set(text, set);
  }
  return set;
}

function publicKeyOf(jwk: Jwk): KeyObject {
  let key = imported.get(jwk);
  if (!key) {
    key = createPublicKey({ key: jwk, format: 'jwk' });
    imported.set(jwk, key);
  }
  return key;
}

function b64json(part: string): Obj | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

export interface JwtExpectations {
  jwks: string;
  appId: string;
  issuers: string[];
  /** The activity's channelId and serviceUrl, checked against endorsements and claims. */
  channelId?: string;
  serviceUrl?: string;
  nowS?: number;
}

/** null when the token is good; otherwise why not. */
export function checkBotToken(token: string, x: JwtExpectations): string | null {
  const parts = token.split('.');
  if (parts.length !== 3) return 'bearer token is not a JWT';
  const [h, p, s] = parts as [string, string, string];
  const head = b64json(h);
  const claims = b64json(p);
  if (!head || !claims) return 'bearer token: header or payload is not base64url JSON';
  if (head.alg !== 'RS256') return `bearer token: alg ${JSON.stringify(head.alg)}; expected RS256`;
  const set = cachedJwks(x.jwks);
  if ('error' in set) return set.error;
  const jwk =
    typeof head.kid === 'string'
      ? set.keys.find((k) => k.kid === head.kid)
      : set.keys.length === 1
        ? set.keys[0]
        : undefined;
  if (!jwk) return `bearer token: no key "${String(head.kid).slice(0, 80)}" in the source's jwks`;
  let ok = false;
  try {
    ok = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKeyOf(jwk), Buffer.from(s, 'base64url'));
  } catch (e) {
    return `bearer token: key "${String(jwk.kid)}" is unusable (${(e as Error).message})`;
  }
  if (!ok) return 'bearer token: signature does not match';
  const now = x.nowS ?? Math.floor(Date.now() / 1000);
  if (typeof claims.iss !== 'string' || !x.issuers.includes(claims.iss))
    return `bearer token: issuer ${JSON.stringify(claims.iss)} is not one of ${x.issuers.join(', ')}`;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(x.appId)) return "bearer token: audience is not this bot's appId";
  if (typeof claims.exp !== 'number' || claims.exp + SKEW_S < now) return 'bearer token: expired';
  if (typeof claims.nbf === 'number' && claims.nbf - SKEW_S > now) return 'bearer token: not valid yet';
  if (Array.isArray(jwk.endorsements) && x.channelId && !jwk.endorsements.includes(x.channelId))
    return `bearer token: key "${String(jwk.kid)}" is not endorsed for channel ${x.channelId}`;
  if (
    typeof claims.serviceUrl === 'string' &&
    x.serviceUrl !== undefined &&
    claims.serviceUrl !== x.serviceUrl
  )
    return "bearer token: serviceUrl claim differs from the activity's serviceUrl";
  return null;
}
