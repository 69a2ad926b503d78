/**
 * The live writer: in the HTTP thread and in its own thread, on real SQLite and PostgreSQL; the
 * refresh spacing; reports and refreshes taking turns.
 */
import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { addSource } from '../../src/ingest/sources.ts';
import { runReport } from '../../src/metrics/report.ts';
import { buildServer } from '../../src/server/app.ts';
import { LocalGate } from '../../src/server/gate.ts';
import { refreshDelay } from '../../src/server/refresher.ts';
import { type LiveWriter, Writer } from '../../src/server/writer.ts';
import { ThreadWriter } from '../../src/server/writer-thread.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { DIALECTS, freshTarget as newTarget, type TestDialect } from '../support/stores.ts';

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A fresh database; a SQLite one's folder is removed at the end. */
async function freshTarget(dialect: TestDialect): Promise<string> {
  const target = await newTarget(dialect);
  if (dialect === 'sqlite') folders.push(dirname(target));
  return target;
}

const message = (id: string, customer: string, role: 'customer' | 'agent', minute: number) => ({
  kind: 'message',
  id,
  ts: `2025-11-03T10:${String(minute).padStart(2, '0')}:00+08:00`,
  channel: 'web',
  customer: { id: customer },
  role,
  ...(role === 'agent' ? { account: 'wang' } : {}),
  // Not greetings: conversations of greetings alone are not counted.
  text: role === 'customer' ? '我的订单还没发货,麻烦查一下' : '您好,已为您查询',
});

const conversations = async (store: Store) =>
  Number(
    (await runReport(store, { metrics: ['conversations'], useRollups: false })).total.metrics.conversations,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('refresh spacing', () => {
  it('waits twice the last refresh, at least the minimum, at most what the budget leaves', () => {
    expect(refreshDelay(0, 100, 1000)).toBe(100);
    expect(refreshDelay(40, 100, 1000)).toBe(100);
    expect(refreshDelay(120, 100, 1000)).toBe(240);
    // 1000 − 3·200 − 150 = 250 < 400
    expect(refreshDelay(200, 100, 1000)).toBe(250);
    // Past what the budget allows: refresh as often as allowed, the events are late anyway.
    expect(refreshDelay(300, 100, 1000)).toBe(100);
  });

  it('keeps the worst case within the budget whenever it can be kept', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 200, max: 10_000 }),
        (last, min, budget) => {
          const d = refreshDelay(last, min, budget);
          expect(d).toBeGreaterThanOrEqual(min);
          expect(d).toBeLessThanOrEqual(Math.max(min, 2 * last + 1));
          // An event that waits a refresh, the delay, its own refresh, a report waiting out the next
          // one, and the report's margin.
          if (min + 3 * last + 150 <= budget) expect(d + 3 * last + 150).toBeLessThanOrEqual(budget + 1);
        },
      ),
    );
  });
});

describe('reports and refreshes take turns (one thread)', () => {
  it('a refresh waits for the report in progress, and a report asked meanwhile waits for the refresh', async () => {
    const gate = new LocalGate();
    const log: string[] = [];
    let endReport!: () => void;
    const report = gate.read(async () => {
      log.push('report 1 starts');
      await new Promise<void>((r) => {
        endReport = r;
      });
      log.push('report 1 ends');
    });
    await sleep(5);
    const refresh = gate.exclusive(async () => {
      log.push('refresh starts');
      await sleep(20);
      log.push('refresh ends');
    });
    await sleep(5);
    // Asked after the refresh: it must not slip in ahead of it, or reports could starve it.
    const second = gate.read(async () => {
      log.push('report 2');
    });
    await sleep(20);
    expect(log).toEqual(['report 1 starts']);
    endReport();
    await Promise.all([report, refresh, second]);
    expect(log).toEqual(['report 1 starts', 'report 1 ends', 'refresh starts', 'refresh ends', 'report 2']);
  });

  it('a failing report or refresh releases the gate', async () => {
    const gate = new LocalGate();
    await expect(gate.read(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.exclusive(async () => Promise.reject(new Error('bang')))).rejects.toThrow('bang');
    expect(await gate.read(async () => 'ok')).toBe('ok');
  });
});

describe.each(DIALECTS)('live writers (%s)', (dialect) => {
  const writers: [string, (target: string, store: Store) => Promise<LiveWriter>][] = [
    ['in the HTTP thread', async (_t, store) => new Writer(store, { refreshDelayMs: 20 })],
    ['in its own thread', async (target) => ThreadWriter.start(target, { refreshDelayMs: 20 })],
  ];

  it.each(writers)('%s: answers each request of a group commit with its own outcome', async (_, make) => {
    const target = await freshTarget(dialect);
    const store = await openStore(target);
    const writer = await make(target, store);
    try {
      const src = await addSource(store, { platform: 'generic', name: 'w', secret: 's' });
      const origin = `source:${src.id}`;
      // Sent together: one batch, one transaction; a retry inside it and a bad event.
      const [a, b, c] = await Promise.all([
        writer.accept(
          [
            { line: 1, raw: message('m1', 'c1', 'customer', 0) },
            { line: 2, raw: message('m2', 'c1', 'agent', 1) },
          ],
          origin,
          src.id,
        ),
        writer.accept(
          [
            { line: 1, raw: message('m1', 'c1', 'customer', 0) },
            { line: 2, raw: { kind: 'message', id: 'bad' } },
          ],
          origin,
          src.id,
          [{ file: origin, line: 3, reason: 'update: unknown kind' }],
        ),
        writer.accept([{ line: 1, raw: message('m3', 'c2', 'customer', 5) }], origin, src.id),
      ]);
      expect(a).toMatchObject({ accepted: 2, duplicates: 0, outcomes: ['accepted', 'accepted'] });
      expect(b.accepted).toBe(0);
      expect(b.outcomes).toEqual(['duplicate', 'rejected']);
      expect(b.rejects.map((r) => r.reason)).toEqual([
        expect.stringMatching(/role|customer|ts|channel/),
        'update: unknown kind',
      ]);
      expect(c).toMatchObject({ accepted: 1, outcomes: ['accepted'] });
      await writer.note({
        sourceId: src.id,
        rejects: [{ file: origin, line: 0, reason: 'signature: mismatch' }],
        rejected: 0,
        badSignature: true,
      });

      // Shown within the budget without being asked to drain. The thread writer's counters come by
      // message after its commit, so the facts can be visible a moment before the count is.
      const t0 = Date.now();
      const shown = async () => (await conversations(store)) === 2 && writer.refreshStats().refreshes >= 1;
      while (!(await shown()) && Date.now() - t0 < 1000) await sleep(20);
      expect(await conversations(store)).toBe(2);
      expect(writer.refreshStats().refreshes).toBeGreaterThanOrEqual(1);

      const row = await store.db
        .selectFrom('sources')
        .selectAll()
        .where('id', '=', src.id)
        .executeTakeFirst();
      expect(row).toMatchObject({ accepted: 3, duplicates: 1, rejected: 2, bad_signatures: 1 });
      const reasons = (await store.db.selectFrom('rejects').select('reason').execute()).map((r) => r.reason);
      expect(reasons).toHaveLength(3);
      expect(reasons).toContain('signature: mismatch');
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it.each(writers)('%s: a report in progress holds the refresh back', async (_, make) => {
    const target = await freshTarget(dialect);
    const store = await openStore(target);
    const writer = await make(target, store);
    try {
      const src = await addSource(store, { platform: 'generic', name: 'w', secret: 's' });
      let release!: () => void;
      const held = writer.read(
        () =>
          new Promise<void>((r) => {
            release = r;
          }),
      );
      await writer.accept([{ line: 1, raw: message('h1', 'c9', 'customer', 0) }], `source:${src.id}`, src.id);
      await sleep(300);
      expect(await conversations(store)).toBe(0);
      release();
      await held;
      const t0 = Date.now();
      while ((await conversations(store)) < 1 && Date.now() - t0 < 1000) await sleep(20);
      expect(await conversations(store)).toBe(1);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('the writer thread refuses to start on a store it cannot open, saying why', async () => {
    // SQLite: a folder that is a file.
    const target =
      dialect === 'sqlite'
        ? join(dirname(await freshTarget(dialect)), 'plain-file', 'x.db')
        : (await freshTarget(dialect)).replace(/\/[^/]*$/, '/no_such_database_here');
    if (dialect === 'sqlite') writeFileSync(dirname(target), 'not a folder');
    await expect(ThreadWriter.start(target)).rejects.toThrow(
      dialect === 'sqlite' ? /plain-file/ : /cannot connect to PostgreSQL.*no_such_database_here/,
    );
  });

  it('cspulse serve (writer thread on SQLite): stored once, shown in the report API after a burst read meanwhile', async () => {
    const target = await freshTarget(dialect);
    const store = await openStore(target);
    const server = await buildServer(store, { writerTarget: target, refreshDelayMs: 20 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const src = await addSource(store, { platform: 'generic', name: 'api', secret: 'k' });
      const post = (body: string, secret = 'k') =>
        fetch(`${base}/ingest/${src.id}`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-cspulse-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
        });
      const customers = 40;
      const bodies = Array.from({ length: 200 }, (_, n) =>
        JSON.stringify(
          // Each customer: asks, is answered, asks again… two minutes apart, one conversation.
          message(
            `b${n}`,
            `c${n % customers}`,
            Math.floor(n / customers) % 2 ? 'agent' : 'customer',
            2 * Math.floor(n / customers),
          ),
        ),
      );
      // Reports read while the burst is written: the rollups they build must not hide later events.
      let reading = true;
      const reader = (async () => {
        while (reading) {
          await (await fetch(`${base}/api/report?metrics=conversations`)).json();
          await sleep(5);
        }
      })();
      let next = 0;
      const statuses = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const out: number[] = [];
          while (next < bodies.length) out.push((await post(bodies[next++]!)).status);
          return out;
        }),
      );
      expect(statuses.flat().every((s) => s === 200)).toBe(true);
      // A retry is a duplicate; a forged body is refused.
      expect(await (await post(bodies[0]!)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
      expect((await post(bodies[1]!, 'forged')).status).toBe(401);

      const t0 = Date.now();
      let shown = 0;
      while (Date.now() - t0 < 1000) {
        // biome-ignore lint/suspicious/noExplicitAny: the report body is checked by its fields.
        const r: any = await (await fetch(`${base}/api/report?metrics=conversations`)).json();
        shown = r.total.metrics.conversations;
        if (shown === customers) break;
        await sleep(20);
      }
      reading = false;
      await reader;
      expect(shown).toBe(customers);
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const health: any = await (await fetch(`${base}/healthz`)).json();
      expect(health.refresh.refreshes).toBeGreaterThanOrEqual(1);
      expect(health.refreshError).toBeNull();
      expect((await store.db.selectFrom('event_ids').select('ext_id').execute()).length).toBe(200);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('reports read the facts while webhooks change them, and the rollups once they rest', async () => {
    const target = await freshTarget(dialect);
    const store = await openStore(target);
    const server = await buildServer(store, { refreshDelayMs: 10, liveWindowMs: 1500 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const src = await addSource(store, { platform: 'generic', name: 'x', secret: 's' });
      const body = JSON.stringify([message('l1', 'c1', 'customer', 0), message('l2', 'c1', 'agent', 3)]);
      const posted = await fetch(`${base}/ingest/${src.id}`, {
        method: 'POST',
        body,
        headers: { 'x-cspulse-signature': `sha256=${createHmac('sha256', 's').update(body).digest('hex')}` },
      });
      expect(posted.status).toBe(200);
      const report = async () =>
        // biome-ignore lint/suspicious/noExplicitAny: the report body is checked by its fields.
        ((await (await fetch(`${base}/api/report?by=agent&metrics=conversations,frt_avg_s`)).json()) as any)
          .rows;
      const built = async () => (await store.db.selectFrom('rollup_state').selectAll().execute()).length;
      const t0 = Date.now();
      while (!server.writer.refreshStats().refreshes && Date.now() - t0 < 1000) await sleep(10);
      const live = await report();
      expect(live).toHaveLength(1);
      expect(live[0].metrics).toEqual({ conversations: 1, frt_avg_s: 180 });
      expect(await built()).toBe(0);
      await sleep(1600);
      expect(await report()).toEqual(live);
      expect(await built()).toBe(1);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('cspulse serve (writer thread on SQLite): 503 with Retry-After before reading when saturated', async () => {
    const target = await freshTarget(dialect);
    const store = await openStore(target);
    const server = await buildServer(store, { writerTarget: target, maxPending: 0 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const src = await addSource(store, { platform: 'generic', name: 'x', secret: 's' });
      const body = JSON.stringify(message('m1', 'c1', 'customer', 0));
      const r = await fetch(`${base}/ingest/${src.id}`, {
        method: 'POST',
        body,
        headers: { 'x-cspulse-signature': `sha256=${createHmac('sha256', 's').update(body).digest('hex')}` },
      });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await store.db.selectFrom('event_ids').select('ext_id').execute()).toEqual([]);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('a writer or refresh thread that dies', () => {
  it.each([
    ['writer', /writer thread/],
    ['refresher', /refresh thread/],
  ])(
    '%s: fails the requests that follow (500, never 200), and the server reports itself unhealthy',
    async (thread, why) => {
      const target = await freshTarget('sqlite');
      const store = await openStore(target);
      const server = await buildServer(store, { writerTarget: target });
      const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const src = await addSource(store, { platform: 'generic', name: 'x', secret: 's' });
        const post = (id: string) => {
          const body = JSON.stringify(message(id, 'c1', 'customer', 0));
          return fetch(`${base}/ingest/${src.id}`, {
            method: 'POST',
            body,
            headers: {
              'x-cspulse-signature': `sha256=${createHmac('sha256', 's').update(body).digest('hex')}`,
            },
          });
        };
        expect((await post('d1')).status).toBe(200);
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        // As if the thread crashed (out of memory, a native fault): stopped from outside.
        // biome-ignore lint/suspicious/noExplicitAny: the test reaches the thread the class keeps private.
        await (server.writer as any)[thread].terminate();
        const r = await post('d2');
        expect(r.status).toBe(500);
        const health = await fetch(`${base}/healthz`);
        expect(health.status).toBe(503);
        expect(await health.json()).toMatchObject({
          ok: false,
          writerError: expect.stringMatching(why),
        });
        // Nothing acknowledged was lost; nothing refused was stored.
        const ids = (await store.db.selectFrom('event_ids').select('ext_id').execute()).map((x) => x.ext_id);
        expect(ids).toEqual(['d1']);
      } finally {
        await server.close();
        await store.close();
      }
    },
  );
});
