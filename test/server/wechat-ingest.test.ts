/** 公众号, 企业微信 app and 微信客服 callbacks through the real server on 127.0.0.1 and SQLite. */
import { afterEach, describe, expect, it } from 'vitest';
import { addSource, sourceStatus } from '../../src/ingest/sources.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { freshStore } from '../support/stores.ts';
import { randomAesKey, sha1Sorted, signedEncryptedPost, wechatEncrypt } from '../support/wechat.ts';

const now = () => String(Math.floor(Date.now() / 1000));
const textXml = (msgId: string, content: string, agentId = '') =>
  `<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oCustomer1]]></FromUserName><CreateTime>${now()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId>${agentId}</xml>`;

describe('WeChat-family callbacks (sqlite)', () => {
  let store: Store;
  let server: Server;
  let base: string;

  async function start() {
    store = await freshStore('sqlite');
    server = await buildServer(store, { refreshDelayMs: 20 });
    base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  }
  afterEach(async () => {
    await server?.close();
    await store?.close();
  });

  const call = (method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: string) =>
    fetch(`${base}${path}?${new URLSearchParams(query)}`, {
      method,
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'text/xml' } }),
    });
  const status = async (id: string) => (await sourceStatus(store)).find((s) => s.id === id)!;

  it('公众号 safe mode: a signed encrypted message is stored and answered "success"; a retry is a duplicate; forgeries are 401', async () => {
    await start();
    const aesKey = randomAesKey();
    const src = await addSource(store, {
      platform: 'wechat_oa',
      name: '服务号',
      secret: 'oaToken',
      options: { aesKey, appId: 'wxAPP' },
    });
    const path = `/ingest/${src.id}`;
    const post = signedEncryptedPost(textXml('9001', '我的快递到哪了'), {
      token: 'oaToken',
      aesKey,
      receiveId: 'wxAPP',
    });
    const ok = await call('POST', path, post.query, post.body);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('success');
    expect(await (await call('POST', path, post.query, post.body)).text()).toBe('success');
    expect(await status(src.id)).toMatchObject({ accepted: 1, duplicates: 1, badSignatures: 0 });
    const stored = await store.db.selectFrom('event_ids').select(['source', 'ext_id']).execute();
    expect(stored).toEqual([{ source: src.id, ext_id: '9001' }]);

    // Signed with another token; and a plain-mode request to a safe-mode source.
    const forged = signedEncryptedPost(textXml('9002', 'x'), { token: 'guess', aesKey, receiveId: 'wxAPP' });
    expect((await call('POST', path, forged.query, forged.body)).status).toBe(401);
    const ts = now();
    const plain = { signature: sha1Sorted('oaToken', ts, '1'), timestamp: ts, nonce: '1' };
    expect((await call('POST', path, plain, textXml('9003', 'y'))).status).toBe(401);
    const s = await status(src.id);
    expect(s).toMatchObject({ accepted: 1, badSignatures: 2 });
    expect(s.rejectReasons.map((r) => r.reason).join('\n')).toMatch(
      /signature: msg_signature does not match/,
    );

    // The URL check of 公众号 echoes echostr when the plain signature is right.
    const q = { signature: sha1Sorted('oaToken', ts, '5'), timestamp: ts, nonce: '5', echostr: 'abc123' };
    const hs = await call('GET', path, q);
    expect([hs.status, await hs.text()]).toEqual([200, 'abc123']);
    expect((await call('GET', path, { ...q, nonce: '6' })).status).toBe(401);
  });

  it('公众号 plain mode, and the 多客服 events through it', async () => {
    await start();
    const src = await addSource(store, { platform: 'wechat_oa', name: '订阅号', secret: 'plainTok' });
    const ts = now();
    const q = { signature: sha1Sorted('plainTok', ts, '77'), timestamp: ts, nonce: '77' };
    const create = `<xml><ToUserName>gh</ToUserName><FromUserName>oC</FromUserName><CreateTime>${ts}</CreateTime><MsgType>event</MsgType><Event>kf_create_session</Event><KfAccount>kf1@acc</KfAccount></xml>`;
    const click = `<xml><ToUserName>gh</ToUserName><FromUserName>oC</FromUserName><CreateTime>${ts}</CreateTime><MsgType>event</MsgType><Event>CLICK</Event></xml>`;
    expect(await (await call('POST', `/ingest/${src.id}`, q, create)).text()).toBe('success');
    expect(await (await call('POST', `/ingest/${src.id}`, q, click)).text()).toBe('success');
    expect((await call('POST', `/ingest/${src.id}`, q, '<xml><oops></xml>')).status).toBe(400);
    const s = await status(src.id);
    expect(s).toMatchObject({ accepted: 1, rejected: 2 });
    expect(s.rejectReasons.map((r) => r.reason).join('\n')).toMatch(/event click .* is not conversation/);
  });

  it('企业微信 app: the encrypted GET echostr is answered decrypted; messages are stored', async () => {
    await start();
    const aesKey = randomAesKey();
    const src = await addSource(store, {
      platform: 'wecom_app',
      name: 'IT 服务台',
      secret: 'appTok',
      options: { aesKey, corpId: 'wwCORP' },
    });
    const path = `/ingest/${src.id}`;
    const ts = now();
    const echostr = wechatEncrypt('5927001237', aesKey, 'wwCORP');
    const hs = await call('GET', path, {
      msg_signature: sha1Sorted('appTok', ts, '3', echostr),
      timestamp: ts,
      nonce: '3',
      echostr,
    });
    expect([hs.status, await hs.text()]).toEqual([200, '5927001237']);
    const post = signedEncryptedPost(textXml('8001', '电脑蓝屏', '<AgentID>1000002</AgentID>'), {
      token: 'appTok',
      aesKey,
      receiveId: 'wwCORP',
    });
    expect(await (await call('POST', path, post.query, post.body)).text()).toBe('success');
    // Encrypted for another corp with the right key and token: refused at opening, kept as a reject.
    const other = signedEncryptedPost(textXml('8002', 'x', '<AgentID>1</AgentID>'), {
      token: 'appTok',
      aesKey,
      receiveId: 'wwOTHER',
    });
    expect((await call('POST', path, other.query, other.body)).status).toBe(400);
    expect(await status(src.id)).toMatchObject({ accepted: 1, rejected: 1 });
    const rows = await store.db.selectFrom('event_ids').select('ext_id').execute();
    expect(rows.map((r) => r.ext_id)).toEqual(['8001']);
  });

  it('微信客服 callback: verified and acknowledged; the notification itself stores nothing', async () => {
    await start();
    const aesKey = randomAesKey();
    const src = await addSource(store, {
      platform: 'wecom_kf',
      name: '微信客服',
      secret: 'kfTok',
      options: { aesKey, corpId: 'wwCORP', kfSecret: 's' },
    });
    const notify = `<xml><ToUserName><![CDATA[wwCORP]]></ToUserName><CreateTime>${now()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCtoken]]></Token><OpenKfId><![CDATA[wkA]]></OpenKfId></xml>`;
    const post = signedEncryptedPost(notify, { token: 'kfTok', aesKey, receiveId: 'wwCORP' });
    const r = await call('POST', `/ingest/${src.id}`, post.query, post.body);
    expect([r.status, await r.text()]).toEqual([200, 'success']);
    expect((await call('POST', `/ingest/${src.id}`, { ...post.query, nonce: 'x' }, post.body)).status).toBe(
      401,
    );
    expect(await status(src.id)).toMatchObject({ accepted: 0, rejected: 0, badSignatures: 1 });
  });
});
