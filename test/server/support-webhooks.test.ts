/**
 * Chatwoot, Intercom and Zendesk webhooks through the real server (Fastify on 127.0.0.1, real
 * stores), signed the way each platform documents it; and the monitor's unknown agent accounts.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importRoster } from '../../src/ingest/identities.ts';
import { addSource, sourceStatus } from '../../src/ingest/sources.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore, type TestDialect } from '../support/stores.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/connectors');
const read = (p: string) => readFileSync(join(FIXTURES, p), 'utf8');

let store: Store | undefined;
let server: Server | undefined;
let base = '';

async function start(dialect: TestDialect = 'sqlite') {
  store = await freshStore(dialect);
  server = await buildServer(store, { refreshDelayMs: 20 });
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return store;
}

afterEach(async () => {
  await server?.close();
  await store?.close();
  server = undefined;
  store = undefined;
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field.
const json = async (r: Response): Promise<any> => r.json();

async function monitorOf(id: string) {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const m: any = await json(await fetch(`${base}/api/sources`));
  return m.sources.find((s: { id: string }) => s.id === id);
}

describe('Chatwoot, Intercom and Zendesk webhooks on the server', () => {
  it('Chatwoot: signed requests stored once, the ?token= form, a bad signature 401 and recorded', async () => {
    const s = await start();
    const src = await addSource(s, { platform: 'chatwoot', name: 'Chatwoot 官网', secret: 'cw-k3y' });
    const body = read('chatwoot/gemwallet_chatwoot_message_created.json');
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `sha256=${createHmac('sha256', 'cw-k3y').update(`${ts}.${body}`).digest('hex')}`;
    const signed = { 'x-chatwoot-signature': sig, 'x-chatwoot-timestamp': ts };
    const ok = await post(`/ingest/${src.id}`, body, signed);
    expect(ok.status).toBe(200);
    expect(await json(ok)).toMatchObject({ accepted: 1, duplicates: 0, rejected: 0 });
    // Chatwoot retries a failed delivery with a new timestamp and signature: still one event.
    const ts2 = String(Number(ts) + 30);
    const sig2 = `sha256=${createHmac('sha256', 'cw-k3y').update(`${ts2}.${body}`).digest('hex')}`;
    const again = await post(`/ingest/${src.id}`, body, {
      'x-chatwoot-signature': sig2,
      'x-chatwoot-timestamp': ts2,
    });
    expect(await json(again)).toMatchObject({ accepted: 0, duplicates: 1 });
    const other = read('chatwoot/gemwallet_chatwoot_bot_message_incoming.json');
    expect(await json(await post(`/ingest/${src.id}?token=cw-k3y`, other))).toMatchObject({ accepted: 1 });
    expect((await post(`/ingest/${src.id}?token=nope`, other)).status).toBe(401);
    expect((await post(`/ingest/${src.id}`, other, signed)).status).toBe(401);
    expect((await fetch(`${base}/ingest/${src.id}`)).status).toBe(405);
    const m = await monitorOf(src.id);
    expect(m).toMatchObject({ platform: 'chatwoot', accepted: 2, duplicates: 1, badSignatures: 2 });
    expect(m.rejectReasons.map((r: { reason: string }) => r.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/signature: \?token= does not match/)]),
    );
  });

  it('Intercom: X-Hub-Signature sha1; parts stored, notes kept as rejects, retries are duplicates', async () => {
    const s = await start();
    const src = await addSource(s, { platform: 'intercom', name: 'Intercom', secret: 'client-secret' });
    const conversation = JSON.parse(
      read('intercom/post_conversations_conversation_id_parts_Close_a_conversation.json'),
    );
    const body = JSON.stringify({
      type: 'notification_event',
      topic: 'conversation.admin.closed',
      id: 'notif_9',
      created_at: 1719492863,
      data: { type: 'notification_event_data', item: conversation },
    });
    const sign = (b: string) => `sha1=${createHmac('sha1', 'client-secret').update(b).digest('hex')}`;
    const ok = await post(`/ingest/${src.id}`, body, { 'x-hub-signature': sign(body) });
    expect(await json(ok)).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(
      await json(await post(`/ingest/${src.id}`, body, { 'x-hub-signature': sign(body) })),
    ).toMatchObject({
      accepted: 0,
      duplicates: 3,
    });
    const note = read('intercom/post_conversations_conversation_id_reply_Admin_note_reply.json');
    const r = await json(await post(`/ingest/${src.id}`, note, { 'x-hub-signature': sign(note) }));
    expect(r).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.rejects[0].reason).toMatch(/internal note/);
    expect((await post(`/ingest/${src.id}`, note, { 'x-hub-signature': sign(`${note} `) })).status).toBe(401);
    const ids = await s.db.selectFrom('event_ids').select('ext_id').where('source', '=', src.id).execute();
    expect(ids.map((i) => i.ext_id).sort()).toEqual(['388:source', '394:source', 'close:102', 'part:102']);
    expect(await monitorOf(src.id)).toMatchObject({
      accepted: 4,
      duplicates: 3,
      badSignatures: 1,
      rejected: 1,
    });
  });

  it('Zendesk: base64 HMAC over timestamp + body; event webhooks stored; wrong timestamp 401', async () => {
    const s = await start();
    const src = await addSource(s, { platform: 'zendesk', name: 'Zendesk', secret: 'zd-signing' });
    const lines = read('zendesk/webhook_events.ndjson').trim().split('\n');
    const sign = (ts: string, b: string) =>
      createHmac('sha256', 'zd-signing')
        .update(ts + b)
        .digest('base64');
    const ts = new Date().toISOString();
    let accepted = 0;
    for (const line of lines) {
      const r = await post(`/ingest/${src.id}`, line, {
        'x-zendesk-webhook-signature': sign(ts, line),
        'x-zendesk-webhook-signature-timestamp': ts,
      });
      expect(r.status).toBe(200);
      accepted += (await json(r)).accepted;
    }
    expect(accepted).toBe(6);
    const retry = await post(`/ingest/${src.id}`, lines[1]!, {
      'x-zendesk-webhook-signature': sign(ts, lines[1]!),
      'x-zendesk-webhook-signature-timestamp': ts,
    });
    expect(await json(retry)).toMatchObject({ accepted: 0, duplicates: 1 });
    const forged = await post(`/ingest/${src.id}`, lines[1]!, {
      'x-zendesk-webhook-signature': sign(ts, lines[1]!),
      'x-zendesk-webhook-signature-timestamp': `${ts}x`,
    });
    expect(forged.status).toBe(401);
    expect(await monitorOf(src.id)).toMatchObject({
      accepted: 6,
      duplicates: 1,
      badSignatures: 1,
      rejected: 2,
    });
  });
});

describe.each(DIALECTS)('the monitor lists unknown agent accounts per source (%s)', (dialect) => {
  it('lists accounts no roster agent claims, and drops them once the roster does', async () => {
    const s = await start(dialect);
    const cw = await addSource(s, { platform: 'chatwoot', name: 'cw', secret: 'k' });
    const zd = await addSource(s, { platform: 'zendesk', name: 'zd', secret: 'z' });
    const body = read('chatwoot/gemwallet_chatwoot_message_created.json');
    expect((await post(`/ingest/${cw.id}?token=k`, body)).status).toBe(200);
    const customerOnly = read('chatwoot/gemwallet_chatwoot_bot_message_incoming.json');
    expect((await post(`/ingest/${cw.id}?token=k`, customerOnly)).status).toBe(200);
    const line = read('zendesk/webhook_events.ndjson').split('\n')[4]!;
    const ts = '1736331900';
    const sig = createHmac('sha256', 'z')
      .update(ts + line)
      .digest('base64');
    const zr = await post(`/ingest/${zd.id}`, line, {
      'x-zendesk-webhook-signature': sig,
      'x-zendesk-webhook-signature-timestamp': ts,
    });
    expect(zr.status).toBe(200);

    expect((await monitorOf(cw.id)).unknownAccounts).toEqual([
      { channel: 'chatwoot', account: '1', name: 'Test Agent' },
    ]);
    expect((await monitorOf(zd.id)).unknownAccounts).toEqual([
      { channel: 'zendesk', account: '8447388090500', name: null },
    ]);
    // Claimed by the roster (for this platform only), the account is no longer unknown.
    await importRoster(s, [
      { name: '张三', employeeNo: 'E01', accounts: [{ platform: 'chatwoot', account: '1' }] },
    ]);
    const after = await sourceStatus(s);
    expect(after.find((x) => x.id === cw.id)!.unknownAccounts).toEqual([]);
    expect(after.find((x) => x.id === zd.id)!.unknownAccounts).toHaveLength(1);
  });
});
