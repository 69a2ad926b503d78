/**
 * What one webhook request costs in the Feishu, WhatsApp, LINE, QQ and Bot Framework connectors:
 * verification (HMAC, AES + SHA-256, Ed25519, RS256 JWT), opening and parsing, per request, next to
 * the baseline of the same run: JSON.parse of the same body. The server's budget is 5,000 events/s
 * on 2 cores, so a connector's share should stay well under 200 µs a request.
 *
 *   node --import tsx bench/intl-connectors.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BOT_FRAMEWORK_ISSUER } from '../src/connectors/botframework/jwt.ts';
import { botKey, botToken } from '../src/connectors/botframework/test-keys.ts';
import { botframeworkWebhook } from '../src/connectors/botframework/webhook.ts';
import { encryptFeishu } from '../src/connectors/feishu/crypto.ts';
import { feishuWebhook } from '../src/connectors/feishu/webhook.ts';
import { lineWebhook } from '../src/connectors/line/webhook.ts';
import { signHex } from '../src/connectors/qq/ed25519.ts';
import { qqWebhook } from '../src/connectors/qq/webhook.ts';
import { OWN_FIXTURES } from '../src/connectors/shared/testing.ts';
import type { SourceCredentials, WebhookConnector, WebhookRequest } from '../src/connectors/webhooks.ts';
import { whatsappWebhook } from '../src/connectors/whatsapp/webhook.ts';

const N = Number(process.env.N ?? 20_000);
const fixture = (p: string, f: string) => readFileSync(join(OWN_FIXTURES, p, f), 'utf8');

interface Case {
  name: string;
  connector: WebhookConnector;
  creds: SourceCredentials;
  /** The i-th request: a distinct body (a distinct message id), signed as the platform signs it. */
  request: (i: number) => WebhookRequest;
}

const req = (body: string, headers: Record<string, string>): WebhookRequest => ({
  headers,
  body: Buffer.from(body),
  query: {},
});

const waText = JSON.parse(fixture('whatsapp', 'pywa_updates_message.json')).text;
const lineText = JSON.parse(fixture('line', 'webhook_v3.json')).events[0];
const feishuEvent = JSON.parse(fixture('feishu', 'im.message.receive_v1.event.json'));
const qqText = JSON.parse(fixture('qq', 'c2c_message_create.json'));
const bfText = JSON.parse(fixture('botframework', '01-message.json'));
const { privateKey, jwk } = botKey('k1');
const now = Math.floor(Date.now() / 1000);
const bfToken = botToken(privateKey, 'k1', { iss: BOT_FRAMEWORK_ISSUER, aud: 'app', exp: now + 3600 });

const CASES: Case[] = [
  {
    name: 'whatsapp (HMAC-SHA256)',
    connector: whatsappWebhook,
    creds: { secret: 'app-secret', options: { verifyToken: 'v' } },
    request: (i) => {
      const b = structuredClone(waText);
      b.entry[0].changes[0].value.messages[0].id = `wamid.${i}`;
      const body = JSON.stringify(b);
      return req(body, {
        'x-hub-signature-256': `sha256=${createHmac('sha256', 'app-secret').update(body).digest('hex')}`,
      });
    },
  },
  {
    name: 'line (HMAC-SHA256 base64)',
    connector: lineWebhook,
    creds: { secret: 'channel-secret', options: {} },
    request: (i) => {
      const body = JSON.stringify({
        destination: 'U1',
        events: [{ ...lineText, webhookEventId: `ev-${i}` }],
      });
      return req(body, {
        'x-line-signature': createHmac('sha256', 'channel-secret').update(body).digest('base64'),
      });
    },
  },
  {
    name: 'feishu (AES-256-CBC + X-Lark-Signature)',
    connector: feishuWebhook,
    creds: { secret: null, options: { verifyToken: feishuEvent.header.token, encryptKey: 'k3y' } },
    request: (i) => {
      const e = structuredClone(feishuEvent);
      e.event.message.message_id = `om_${i}`;
      const body = JSON.stringify({ encrypt: encryptFeishu(JSON.stringify(e), 'k3y') });
      const sig = createHash('sha256').update(`1700000000n1k3y${body}`).digest('hex');
      return req(body, {
        'x-lark-request-timestamp': '1700000000',
        'x-lark-request-nonce': 'n1',
        'x-lark-signature': sig,
      });
    },
  },
  {
    name: 'qq (Ed25519)',
    connector: qqWebhook,
    creds: { secret: 'DG5g3B4j9X2KOErG', options: {} },
    request: (i) => {
      const body = JSON.stringify({ ...qqText, d: { ...qqText.d, id: `ROBOT1.0_${i}` } });
      return req(body, {
        'x-signature-timestamp': '1762135200',
        'x-signature-ed25519': signHex('DG5g3B4j9X2KOErG', `1762135200${body}`),
      });
    },
  },
  {
    name: 'botframework (RS256 JWT)',
    connector: botframeworkWebhook,
    creds: { secret: null, options: { appId: 'app', jwks: JSON.stringify({ keys: [jwk] }) } },
    request: (i) => req(JSON.stringify({ ...bfText, id: `a-${i}` }), { authorization: `Bearer ${bfToken}` }),
  },
];

function perRequest(reqs: WebhookRequest[], fn: (r: WebhookRequest) => void): number {
  for (const r of reqs.slice(0, 500)) fn(r); // warm up
  const t0 = process.hrtime.bigint();
  for (const r of reqs) fn(r);
  return Number(process.hrtime.bigint() - t0) / 1000 / reqs.length;
}

console.log(
  `## intl connectors, ${N} requests each, ${cpus()[0]?.model ?? '?'} ×${cpus().length}, Node ${process.version}`,
);
console.log('| connector | baseline JSON.parse | verify + open + parse | requests/s (one core) | events |');
console.log('| --- | --- | --- | --- | --- |');
for (const c of CASES) {
  const reqs = Array.from({ length: N }, (_, i) => c.request(i));
  let events = 0;
  const base = perRequest(reqs, (r) => JSON.parse(r.body.toString('utf8')));
  const full = perRequest(reqs, (r) => {
    if (c.connector.verify(r, c.creds) !== null) throw new Error(`${c.name}: not verified`);
    const opened = c.connector.open
      ? c.connector.open(r, c.creds)
      : { doc: JSON.parse(r.body.toString('utf8')) };
    if (!('doc' in opened)) throw new Error(`${c.name}: not opened`);
    events += c.connector.parse(opened.doc).events.length;
  });
  // The warm-up requests are the first 500 again: count the timed ones.
  events -= Math.min(500, N);
  console.log(
    `| ${c.name} | ${base.toFixed(1)} µs | ${full.toFixed(1)} µs | ${Math.round(1e6 / full).toLocaleString('en')} | ${events} |`,
  );
}
