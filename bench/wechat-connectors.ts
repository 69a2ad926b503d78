/**
 * What the WeChat family costs: one callback request through verify + open + parse (公众号 plain
 * and safe mode, 企业微信 app), next to the baseline of the same run — parsing the same XML with
 * parseXml, no security — and one 1,000-item 微信客服 sync_msg page through the parser, next to
 * JSON.parse of the page. The server's budget is 5,000 events/s on 2 cores (≈200 µs an event).
 *
 *   node --import tsx bench/wechat-connectors.ts      (N requests, default 10,000)
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { OWN_FIXTURES } from '../src/connectors/shared/testing.ts';
import { parseXml } from '../src/connectors/shared/xml.ts';
import type { SourceCredentials, WebhookConnector, WebhookRequest } from '../src/connectors/webhooks.ts';
import { wechatOaWebhook } from '../src/connectors/wechat_oa/webhook.ts';
import { wecomAppWebhook } from '../src/connectors/wecom_app/webhook.ts';
import { wecomKfWebhook } from '../src/connectors/wecom_kf/webhook.ts';
import { randomAesKey, sha1Sorted, signedEncryptedPost } from '../test/support/wechat.ts';

const N = Number(process.env.N ?? 10_000);
const ts = String(Math.floor(Date.now() / 1000));
const xml = (i: number, agent = '') =>
  `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oCustomer${i % 500}]]></FromUserName><CreateTime>${ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好,我的订单 ${i} 还没发货,请帮忙查一下]]></Content><MsgId>${10_000_000_000 + i}</MsgId>${agent}</xml>`;
const aesKey = randomAesKey();

interface Case {
  name: string;
  connector: WebhookConnector;
  creds: SourceCredentials;
  request: (i: number) => WebhookRequest;
}

const CASES: Case[] = [
  {
    name: 'wechat_oa plain (SHA-1 signature)',
    connector: wechatOaWebhook,
    creds: { secret: 'tok', options: {} },
    request: (i) => ({
      headers: {},
      body: Buffer.from(xml(i)),
      query: { signature: sha1Sorted('tok', ts, String(i)), timestamp: ts, nonce: String(i) },
    }),
  },
  {
    name: 'wechat_oa safe mode (msg_signature + AES-256-CBC)',
    connector: wechatOaWebhook,
    creds: { secret: 'tok', options: { aesKey, appId: 'wxAPP' } },
    request: (i) => {
      const p = signedEncryptedPost(xml(i), {
        token: 'tok',
        aesKey,
        receiveId: 'wxAPP',
        timestamp: ts,
        nonce: String(i),
      });
      return { headers: {}, body: Buffer.from(p.body), query: p.query };
    },
  },
  {
    name: 'wecom_app (msg_signature + AES-256-CBC)',
    connector: wecomAppWebhook,
    creds: { secret: 'tok', options: { aesKey, corpId: 'wwCORP' } },
    request: (i) => {
      const p = signedEncryptedPost(xml(i, '<AgentID>1</AgentID>'), {
        token: 'tok',
        aesKey,
        receiveId: 'wwCORP',
        timestamp: ts,
        nonce: String(i),
      });
      return { headers: {}, body: Buffer.from(p.body), query: p.query };
    },
  },
];

function perItem<T>(items: T[], fn: (x: T) => void): number {
  for (const x of items.slice(0, 200)) fn(x); // warm up
  const t0 = process.hrtime.bigint();
  for (const x of items) fn(x);
  return Number(process.hrtime.bigint() - t0) / 1000 / items.length;
}

console.log(
  `## WeChat family, ${N} requests each, ${cpus()[0]?.model ?? '?'} ×${cpus().length}, Node ${process.version}`,
);
console.log('| connector | baseline parseXml | verify + open + parse | requests/s (one core) |');
console.log('| --- | --- | --- | --- |');
for (const c of CASES) {
  const reqs = Array.from({ length: N }, (_, i) => c.request(i));
  const base = perItem(reqs, (r) => parseXml(r.body.toString('utf8')));
  const full = perItem(reqs, (r) => {
    const why = c.connector.verify(r, c.creds);
    if (why !== null) throw new Error(`${c.name}: ${why}`);
    const opened = c.connector.open!(r, c.creds);
    if (!('doc' in opened) || c.connector.parse(opened.doc).events.length !== 1)
      throw new Error(`${c.name}: not parsed`);
  });
  console.log(
    `| ${c.name} | ${base.toFixed(1)} µs | ${full.toFixed(1)} µs | ${Math.round(1e6 / full).toLocaleString('en')} |`,
  );
}

// 微信客服: a full sync_msg page (1,000 items built from the fixture's), per page and per item.
const fixture = JSON.parse(readFileSync(join(OWN_FIXTURES, 'wecom_kf', 'sync_msg_response.json'), 'utf8'));
const pages = Array.from({ length: Math.max(5, Math.round(N / 1000)) }, (_, p) => {
  const msg_list = Array.from({ length: 1000 }, (_, i) => ({
    ...fixture.msg_list[i % 14],
    msgid: `m${p}_${i}`,
    send_time: 1615478585 + i,
  }));
  return JSON.stringify({ ...fixture, msg_list });
});
const kfBase = perItem(pages, (b) => JSON.parse(b));
const kfFull = perItem(pages, (b) => {
  if (wecomKfWebhook.parse(JSON.parse(b)).events.length < 800) throw new Error('kf: not parsed');
});
console.log(
  `| wecom_kf sync_msg page (1,000 items) | ${kfBase.toFixed(0)} µs JSON.parse | ${kfFull.toFixed(0)} µs (${(kfFull / 1000).toFixed(2)} µs an item) | ${Math.round(1e9 / kfFull).toLocaleString('en')} items/s |`,
);
