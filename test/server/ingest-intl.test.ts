/**
 * Feishu, WhatsApp, LINE, QQ and Bot Framework webhooks through the real server on 127.0.0.1 and a
 * real SQLite and PostgreSQL store: each platform's URL check, a signed request stored, a bad signature refused
 * with 401 and counted, the platform's retry of the same body counted as duplicates.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_FRAMEWORK_ISSUER } from '../../src/connectors/botframework/jwt.ts';
import { botKey, botToken } from '../../src/connectors/botframework/test-keys.ts';
import { encryptFeishu } from '../../src/connectors/feishu/crypto.ts';
import { signHex } from '../../src/connectors/qq/ed25519.ts';
import { OWN_FIXTURES } from '../../src/connectors/shared/testing.ts';
import { addSource, type Source } from '../../src/ingest/sources.ts';
import { runReport } from '../../src/metrics/report.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

const fixture = (platform: string, name: string) => readFileSync(join(OWN_FIXTURES, platform, name), 'utf8');

describe.each(DIALECTS)('international platforms through the webhook server (%s)', (dialect) => {
  let store: Store;
  let server: Server;
  let base: string;

  async function start() {
    store = await freshStore(dialect);
    server = await buildServer(store, { refreshDelayMs: 20 });
    base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  }

  afterEach(async () => {
    await server?.close();
    await store?.close();
  });

  const post = (src: Source, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/ingest/${src.id}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field.
  const json = async (r: Response): Promise<any> => r.json();
  const monitor = async (src: Source) =>
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    ((await json(await fetch(`${base}/api/sources`))).sources as any[]).find((s) => s.id === src.id);
  const storedIds = async () =>
    (await store.db.selectFrom('event_ids').select('ext_id').execute()).map((r) => r.ext_id).sort();

  it('WhatsApp: hub.challenge handshake, X-Hub-Signature-256, retries as duplicates, statuses as rejects', async () => {
    await start();
    const src = await addSource(store, {
      platform: 'whatsapp',
      name: 'WhatsApp 海外',
      secret: 'meta-app-secret',
      options: { verifyToken: 'vt-9' },
    });
    const hub = (token: string) =>
      fetch(`${base}/ingest/${src.id}?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`);
    const ok = await hub('vt-9');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect((await hub('wrong')).status).toBe(403);

    const body = JSON.stringify(JSON.parse(fixture('whatsapp', 'pywa_updates_message.json')).text);
    const sign = (secret: string, b: string) =>
      `sha256=${createHmac('sha256', secret).update(b).digest('hex')}`;
    const first = await post(src, body, { 'x-hub-signature-256': sign('meta-app-secret', body) });
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ accepted: 1, duplicates: 0, rejected: 0 });
    const retry = await post(src, body, { 'x-hub-signature-256': sign('meta-app-secret', body) });
    expect(await json(retry)).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post(src, body, { 'x-hub-signature-256': sign('guess', body) })).status).toBe(401);
    expect((await post(src, body)).status).toBe(401);

    const status = JSON.stringify(JSON.parse(fixture('whatsapp', 'pywa_updates_message_status.json')).read);
    const r = await post(src, status, { 'x-hub-signature-256': sign('meta-app-secret', status) });
    expect(await json(r)).toMatchObject({ accepted: 0, rejected: 1 });
    expect(await storedIds()).toEqual(['wamid.xyzxyz']);
    const m = await monitor(src);
    expect(m).toMatchObject({ accepted: 1, duplicates: 1, badSignatures: 2, rejected: 1 });
    expect(m.rejectReasons.map((x: { reason: string }) => x.reason).join('\n')).toMatch(/signature/);
  });

  it('hostile bodies, correctly signed, get 400 or typed rejects and the server carries on', async () => {
    await start();
    const src = await addSource(store, { platform: 'line', name: 'LINE', secret: 'cs' });
    const sig = (b: Buffer | string) => createHmac('sha256', 'cs').update(b).digest('base64');
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const wrongTypes = JSON.stringify({
      destination: 1,
      events: [{ type: 'message', message: 7, source: [] }, null, 'x'],
    });
    const gbk = Buffer.from([0x7b, 0x22, 0xc4, 0xe3, 0xba, 0xc3, 0x22, 0x3a, 0x31, 0x7d]); // {"你好":1} in GBK
    for (const body of [deep, wrongTypes, gbk, '{"events":', 'null']) {
      const r = await fetch(`${base}/ingest/${src.id}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-line-signature': sig(body) },
      });
      expect([200, 400]).toContain(r.status);
    }
    const ok = JSON.stringify({
      destination: 'U1',
      events: [{ ...JSON.parse(fixture('line', 'webhook_v3.json')).events[0], webhookEventId: 'after-1' }],
    });
    expect(await json(await post(src, ok, { 'x-line-signature': sig(ok) }))).toMatchObject({ accepted: 1 });
    expect((await monitor(src)).rejected).toBeGreaterThanOrEqual(5);
  });

  it('LINE: X-Line-Signature; a redelivered event is a duplicate', async () => {
    await start();
    const src = await addSource(store, { platform: 'line', name: 'LINE 日本', secret: 'channel-secret' });
    const v3 = JSON.parse(fixture('line', 'webhook_v3.json'));
    const events = [
      { ...v3.events[0], webhookEventId: '01HVEVENT0001' },
      { ...v3.events[5], webhookEventId: '01HVEVENT0002' },
      v3.events[6],
    ];
    const body = JSON.stringify({ destination: v3.destination, events });
    const sig = (secret: string, b: string) => createHmac('sha256', secret).update(b).digest('base64');
    const r = await post(src, body, { 'x-line-signature': sig('channel-secret', body) });
    expect(await json(r)).toMatchObject({ accepted: 2, rejected: 1 });
    const redelivery = JSON.stringify({
      destination: v3.destination,
      events: [{ ...events[0], deliveryContext: { isRedelivery: true } }],
    });
    expect(
      await json(await post(src, redelivery, { 'x-line-signature': sig('channel-secret', redelivery) })),
    ).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post(src, body, { 'x-line-signature': sig('other', body) })).status).toBe(401);
    expect(await storedIds()).toEqual(['01HVEVENT0001', '01HVEVENT0002']);
    expect(await monitor(src)).toMatchObject({ accepted: 2, duplicates: 1, badSignatures: 1 });
  });

  it('Feishu: the encrypted URL check is answered; signed encrypted events are stored once', async () => {
    await start();
    const src = await addSource(store, {
      platform: 'feishu',
      name: '飞书服务台',
      options: { verifyToken: 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV', encryptKey: 'k3y-飞书' },
    });
    const check = JSON.stringify({
      challenge: 'c-42',
      token: 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV',
      type: 'url_verification',
    });
    const answer = await post(src, JSON.stringify({ encrypt: encryptFeishu(check, 'k3y-飞书') }));
    expect(answer.status).toBe(200);
    expect(await json(answer)).toEqual({ challenge: 'c-42' });

    const body = JSON.stringify({
      encrypt: encryptFeishu(fixture('feishu', 'helpdesk.ticket_message.created_v1.event.json'), 'k3y-飞书'),
    });
    const headers = (key: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const nonce = 'nonce-1';
      return {
        'x-lark-request-timestamp': ts,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': createHash('sha256')
          .update(ts + nonce + key + body)
          .digest('hex'),
      };
    };
    const r = await post(src, body, headers('k3y-飞书'));
    expect(r.status).toBe(200);
    // The message and the ticket owner's assignment.
    expect(await json(r)).toMatchObject({ accepted: 2, rejected: 0 });
    expect(await json(await post(src, body, headers('k3y-飞书')))).toMatchObject({
      accepted: 0,
      duplicates: 2,
    });
    expect((await post(src, body, headers('guessed'))).status).toBe(401);
    expect((await post(src, body)).status).toBe(401);
    const forged = JSON.stringify({ challenge: 'x', token: 'forged', type: 'url_verification' });
    expect((await post(src, JSON.stringify({ encrypt: encryptFeishu(forged, 'k3y-飞书') }))).status).toBe(
      401,
    );
    expect(await monitor(src)).toMatchObject({ accepted: 2, duplicates: 2, badSignatures: 3 });
  });

  it('QQ: the documented URL check, Ed25519-signed dispatches acknowledged with op 12', async () => {
    await start();
    const secret = 'DG5g3B4j9X2KOErG';
    const src = await addSource(store, { platform: 'qq', name: 'QQ 客服', secret });
    const check = await post(src, fixture('qq', 'validation.json'));
    expect(await json(check)).toEqual({
      plain_token: 'Arq0D5A61EgUu4OxUvOp',
      signature:
        '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706',
    });
    const body = fixture('qq', 'c2c_message_create.json');
    const signed = (key: string) => ({
      'x-signature-timestamp': '1762135200',
      'x-signature-ed25519': signHex(key, `1762135200${body}`),
    });
    const r = await post(src, body, signed(secret));
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ op: 12 });
    expect(await json(await post(src, body, signed(secret)))).toEqual({ op: 12 });
    expect((await post(src, body, signed('not-the-secret'))).status).toBe(401);
    expect((await post(src, body)).status).toBe(401);
    expect(await storedIds()).toEqual(['ROBOT1.0_kxjbw5wbfxwgrpvn2h4ryq3e8o4kqq8g']);
    expect(await monitor(src)).toMatchObject({ accepted: 1, duplicates: 1, badSignatures: 2 });
  });

  it('Bot Framework: the Bearer JWT; after a bot handoff, first response runs from the handoff', async () => {
    await start();
    const { privateKey, jwk } = botKey('bf-key');
    const src = await addSource(store, {
      platform: 'botframework',
      name: 'Teams',
      options: { appId: 'app-123', jwks: JSON.stringify({ keys: [jwk] }) },
    });
    const now = Math.floor(Date.now() / 1000);
    const token = botToken(privateKey, 'bf-key', {
      iss: BOT_FRAMEWORK_ISSUER,
      aud: 'app-123',
      exp: now + 600,
    });
    const auth = { authorization: `Bearer ${token}` };
    const activity = (o: Record<string, unknown>) =>
      JSON.stringify({
        channelId: 'msteams',
        serviceUrl: 'https://smba.trafficmanager.net/amer/',
        conversation: { id: 'conv-77' },
        recipient: { id: 'bot-1', name: 'HelpBot' },
        from: { id: 'user-9', name: '李雷', role: 'user' },
        ...o,
      });
    const flow = [
      activity({ type: 'message', id: 'a1', timestamp: '2025-11-03T02:00:00Z', text: '我要退货' }),
      activity({
        type: 'message',
        id: 'a2',
        timestamp: '2025-11-03T02:00:05Z',
        text: '请提供订单号',
        from: { id: 'bot-1', name: 'HelpBot', role: 'bot' },
        recipient: { id: 'user-9', name: '李雷', role: 'user' },
      }),
      activity({ type: 'message', id: 'a3', timestamp: '2025-11-03T02:00:30Z', text: '转人工' }),
      fixture('botframework', '14-handoff.json')
        .replace('"conv-8"', '"conv-77"')
        .replace('"custom-channel"', '"msteams"')
        .replace('2025-09-15T10:00:14.000Z', '2025-11-03T02:01:00Z'),
    ];
    for (const body of flow) {
      const r = await post(src, body, auth);
      expect(r.status, body).toBe(200);
      expect(await json(r), body).toMatchObject({ accepted: 1 });
    }
    expect(await json(await post(src, flow[0]!, auth))).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post(src, flow[0]!, { authorization: 'Bearer x.y.z' })).status).toBe(401);
    expect((await post(src, flow[0]!)).status).toBe(401);

    // The human answers from the agent desk (posted here through a generic source).
    const desk = await addSource(store, { platform: 'generic', name: 'agent desk', secret: 'd' });
    const reply = JSON.stringify({
      kind: 'message',
      id: 'desk-1',
      ts: '2025-11-03T02:01:45Z',
      channel: 'msteams',
      conversationId: 'conv-77',
      role: 'agent',
      account: 'wang',
      text: '您好,我来处理退货',
    });
    const signature = `sha256=${createHmac('sha256', 'd').update(reply).digest('hex')}`;
    expect((await post(desk, reply, { 'x-cspulse-signature': signature })).status).toBe(200);

    let frt: unknown = null;
    const t0 = Date.now();
    while (Date.now() - t0 < 5000) {
      const report = await runReport(store, { metrics: ['conversations', 'frt_avg_s'], useRollups: false });
      frt = report.total.metrics.frt_avg_s;
      if (frt !== null && frt !== undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // From the handoff (02:01:00), not from the first customer message (02:00:00).
    expect(frt).toBe(45);
  });
});
