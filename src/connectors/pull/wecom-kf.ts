/**
 * 微信客服 sync_msg: the pull half of the 微信客服 connector (the callback only announces that
 * there is something to read). Access token from corpid + the 微信客服 secret via gettoken, cached
 * until shortly before it expires and fetched again when the API calls it invalid or expired.
 * Pages of up to 1,000 items follow next_cursor while has_more is 1; the page answers are parsed
 * by the same parser as files (wecom_kf/parse.ts).
 *
 * Errors: 45009 (调用超过限制), 45033 (并发超过限制), 45011 (API 调用太频繁) and -1 (系统繁忙)
 * are retried with backoff, as are 5xx and network failures; 40014, 42001, 40001 (token invalid
 * or expired) get a fresh token; any other errcode stops the pass with the code and message.
 */
import type { SourceCredentials } from '../webhooks.ts';
import type { TokenBucket } from './rate-limit.ts';
import { PullError } from './retry.ts';
import type { PullClient } from './runner.ts';

export const WECOM_API = 'https://qyapi.weixin.qq.com';
/** 企业微信's documented frequency limit per API per corp. */
export const WECOM_CALLS_PER_MINUTE = 1800;
export const RATE_LIMIT_CODES = new Set([45009, 45033, 45011, -1]);
export const TOKEN_CODES = new Set([40014, 42001, 40001, 41001]);
const SYNC_LIMIT = 1000;
const TIMEOUT_MS = 30_000;

interface Token {
  value: string;
  expiresAt: number;
}

export function wecomKfStream(creds: SourceCredentials): string {
  return creds.options.openKfId || '*';
}

export function wecomKfClient(creds: SourceCredentials, limiter: TokenBucket): PullClient {
  const { corpId, kfSecret, openKfId } = creds.options;
  if (!corpId || !kfSecret)
    throw new PullError(
      'wecom_kf pull needs --option corpId=… and --option kfSecret=… (the 微信客服 Secret)',
      false,
    );
  const base = (creds.options.apiBase || WECOM_API).replace(/\/+$/, '');
  let token: Token | null = null;

  async function call(url: string, init?: RequestInit, gettoken = false): Promise<Record<string, unknown>> {
    await limiter.take();
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw new PullError(`${redact(url)}: ${(e as Error).message}`, true);
    }
    if (res.status >= 500 || res.status === 429)
      throw new PullError(`${redact(url)}: HTTP ${res.status}`, true);
    if (!res.ok) throw new PullError(`${redact(url)}: HTTP ${res.status}`, false);
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw new PullError(`${redact(url)}: answer is not JSON (${(e as Error).message})`, true);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new PullError(`${redact(url)}: answer is not a JSON object`, false);
    const b = body as Record<string, unknown>;
    const code = Number(b.errcode ?? 0);
    if (code !== 0) {
      const what = `${redact(url)}: errcode ${code} ${String(b.errmsg ?? '').slice(0, 200)}`;
      // From gettoken these codes mean a wrong corpid or secret: no retry will fix that.
      if (TOKEN_CODES.has(code) && !gettoken) {
        token = null;
        throw new PullError(what, true);
      }
      throw new PullError(what, RATE_LIMIT_CODES.has(code));
    }
    return b;
  }

  async function accessToken(): Promise<string> {
    if (token && Date.now() < token.expiresAt) return token.value;
    const q = new URLSearchParams({ corpid: corpId!, corpsecret: kfSecret! });
    const b = await call(`${base}/cgi-bin/gettoken?${q}`, undefined, true);
    if (typeof b.access_token !== 'string' || !b.access_token)
      throw new PullError('gettoken: answer without access_token', false);
    const expiresIn = Number(b.expires_in) > 0 ? Number(b.expires_in) : 7200;
    // Renewed five minutes early (or halfway, for short lives), as WeCom recommends caching it.
    token = {
      value: b.access_token,
      expiresAt: Date.now() + Math.max(expiresIn / 2, expiresIn - 300) * 1000,
    };
    return token.value;
  }

  return {
    async page(cursor, hint) {
      const t = await accessToken();
      const body = {
        ...(cursor ? { cursor } : {}),
        ...(hint?.token ? { token: hint.token } : {}),
        limit: SYNC_LIMIT,
        ...(openKfId ? { open_kfid: openKfId } : {}),
      };
      const doc = await call(`${base}/cgi-bin/kf/sync_msg?access_token=${encodeURIComponent(t)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!Array.isArray(doc.msg_list)) throw new PullError('sync_msg: answer without msg_list', false);
      const next =
        typeof doc.next_cursor === 'string' && doc.next_cursor ? doc.next_cursor : (cursor ?? null);
      return { doc, next, more: Number(doc.has_more) === 1 && next !== cursor };
    },
  };
}

/** Secrets stay out of error messages and logs. */
function redact(url: string): string {
  return url.replace(/(access_token|corpsecret)=[^&]*/g, '$1=…');
}
