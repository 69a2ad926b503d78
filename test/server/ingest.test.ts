/** The webhook server for real: Fastify on 127.0.0.1, real SQLite and PostgreSQL stores. */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_REJECTS_KEPT, recordRejects } from '../../src/ingest/pipeline.ts';
import { addSource } from '../../src/ingest/sources.ts';
import { runReport } from '../../src/metrics/report.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

const sign = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const message = (id: string, role: 'customer' | 'agent', minute: number) => ({
  kind: 'message',
  id,
  ts: `2025-11-03T10:${String(minute).padStart(2, '0')}:00+08:00`,
  channel: 'web',
  customer: { id: 'c1', region: '上海' },
  role,
  ...(role === 'agent' ? { account: 'wang' } : {}),
  text: role === 'customer' ? '我的订单还没发货,麻烦查一下' : '您好,已为您查询',
});

describe.each(DIALECTS)('webhook ingestion (%s)', (dialect) => {
  let store: Store;
  let server: Server;
  let base: string;

  async function start(o: { maxPending?: number } = {}) {
    store = await freshStore(dialect);
    server = await buildServer(store, { refreshDelayMs: 20, ...o });
    base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  }

  afterEach(async () => {
    await server?.close();
    await store?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('stores signed events once, refuses bad signatures, and reports them within a second', async () => {
    await start();
    const src = await addSource(store, { platform: 'generic', name: '官网', secret: 'k3y' });
    const body = JSON.stringify([message('m1', 'customer', 0), message('m2', 'agent', 1)]);

    const ok = await post(`/ingest/${src.id}`, body, { 'x-cspulse-signature': sign('k3y', body) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0 });

    // A platform's retry of the same body: nothing new.
    const again = await post(`/ingest/${src.id}`, body, { 'x-cspulse-signature': sign('k3y', body) });
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 2 });

    const forged = JSON.stringify([message('m3', 'customer', 2)]);
    expect(
      (await post(`/ingest/${src.id}`, forged, { 'x-cspulse-signature': sign('wrong', forged) })).status,
    ).toBe(401);
    expect((await post(`/ingest/${src.id}`, forged)).status).toBe(401);
    expect((await post('/ingest/nope', body)).status).toBe(404);

    const t0 = Date.now();
    let conversations = 0;
    while (Date.now() - t0 < 1000) {
      const r = await runReport(store, { metrics: ['conversations', 'frt_avg_s'], useRollups: false });
      conversations = Number(r.total.metrics.conversations);
      if (conversations) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(conversations).toBe(1);
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field.
    const api: any = await (
      await fetch(`${base}/api/report?by=agent&metrics=conversations,frt_avg_s`)
    ).json();
    expect(api.rows).toHaveLength(1);
    expect(api.rows[0].metrics.frt_avg_s).toBe(60);

    const ids = await store.db.selectFrom('event_ids').select('ext_id').execute();
    expect(ids.map((r) => r.ext_id).sort()).toEqual(['m1', 'm2']);
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const monitor: any = await (await fetch(`${base}/api/sources`)).json();
    expect(monitor.sources[0]).toMatchObject({ id: src.id, accepted: 2, duplicates: 2, badSignatures: 2 });
    expect(monitor.sources[0].rejectReasons[0].reason).toMatch(/signature/);
  });

  it('keeps invalid events and non-JSON bodies as rejects, and answers 400 only for the body', async () => {
    await start();
    const src = await addSource(store, { platform: 'generic', name: 'crm', secret: 's' });
    const body = JSON.stringify([message('ok1', 'customer', 0), { kind: 'message', id: 'bad' }]);
    const r = await post(`/ingest/${src.id}`, body, { 'x-cspulse-signature': sign('s', body) });
    expect(r.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const j: any = await r.json();
    expect(j).toMatchObject({ accepted: 1, rejected: 1 });
    expect(j.rejects[0]).toMatchObject({ line: 2 });
    const junk = '{"kind": "message", ';
    expect((await post(`/ingest/${src.id}`, junk, { 'x-cspulse-signature': sign('s', junk) })).status).toBe(
      400,
    );
    const kept = await store.db.selectFrom('rejects').select(['file', 'reason']).execute();
    expect(kept.every((k) => k.file === `source:${src.id}`)).toBe(true);
    expect(kept).toHaveLength(2);

    // The same bad event in a second request, and two forged requests: every one is kept, numbered
    // in arrival order, the event's place in its request in the reason.
    const again = JSON.stringify([{ kind: 'message', id: 'bad2' }]);
    await post(`/ingest/${src.id}`, again, { 'x-cspulse-signature': sign('s', again) });
    await post(`/ingest/${src.id}`, again, { 'x-cspulse-signature': sign('wrong', again) });
    await post(`/ingest/${src.id}`, again);
    await server.writer.drain();
    const all = await store.db
      .selectFrom('rejects')
      .select(['line', 'reason'])
      .where('file', '=', `source:${src.id}`)
      .orderBy('line')
      .execute();
    expect(all.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]!.reason).toMatch(/^event 2: /);
    expect(all[2]!.reason).toMatch(/^event 1: /);
    expect(all.slice(3).every((r) => /signature/.test(r.reason))).toBe(true);
  });

  it('keeps the latest rejects of a live source, never an unbounded number', async () => {
    await start();
    const origin = 'source:flood';
    const batch = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => ({ file: origin, line: 0, reason: `bad request ${from + i}` }));
    await recordRejects(store, batch(LIVE_REJECTS_KEPT - 2, 1));
    await recordRejects(store, batch(5, LIVE_REJECTS_KEPT - 1));
    const kept = await store.db
      .selectFrom('rejects')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.min('line').as('first'),
        eb.fn.max('line').as('last'),
      ])
      .where('file', '=', origin)
      .executeTakeFirstOrThrow();
    expect([Number(kept.n), Number(kept.first), Number(kept.last)]).toEqual([
      LIVE_REJECTS_KEPT,
      4,
      LIVE_REJECTS_KEPT + 3,
    ]);
    const newest = await store.db
      .selectFrom('rejects')
      .select('reason')
      .where('file', '=', origin)
      .where('line', '=', LIVE_REJECTS_KEPT + 3)
      .executeTakeFirstOrThrow();
    expect(newest.reason).toBe(`bad request ${LIVE_REJECTS_KEPT + 3}`);
  });

  it('checks the Telegram secret token and stores its updates', async () => {
    await start();
    const src = await addSource(store, { platform: 'telegram', name: 'TG', secret: 'tg-secret' });
    const update = JSON.stringify({
      update_id: 1,
      message: {
        message_id: 7,
        date: 1762135200,
        chat: { id: 42, type: 'private', first_name: 'Ann' },
        text: '在吗',
      },
    });
    expect(
      (await post(`/ingest/${src.id}`, update, { 'x-telegram-bot-api-secret-token': 'nope' })).status,
    ).toBe(401);
    const ok = await post(`/ingest/${src.id}`, update, { 'x-telegram-bot-api-secret-token': 'tg-secret' });
    expect(await ok.json()).toMatchObject({ accepted: 1 });
  });

  it('refuses with 503 and Retry-After before accepting when saturated', async () => {
    await start({ maxPending: 0 });
    const src = await addSource(store, { platform: 'generic', name: 'x', secret: 's' });
    const body = JSON.stringify(message('m1', 'customer', 0));
    const r = await post(`/ingest/${src.id}`, body, { 'x-cspulse-signature': sign('s', body) });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await store.db.selectFrom('event_ids').select('ext_id').execute()).toEqual([]);
  });

  it('answers 413 for a body over the limit', async () => {
    await start();
    const src = await addSource(store, { platform: 'generic', name: 'x', secret: 's' });
    const big = JSON.stringify({ text: 'x'.repeat(1_100_000) });
    expect((await post(`/ingest/${src.id}`, big, { 'x-cspulse-signature': sign('s', big) })).status).toBe(
      413,
    );
  });
});
