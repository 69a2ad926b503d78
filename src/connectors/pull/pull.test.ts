import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore, type TestDialect } from '../../../test/support/stores.ts';
import { importRoster } from '../../ingest/identities.ts';
import { refreshFacts } from '../../ingest/pipeline.ts';
import { addSource, sourceStatus } from '../../ingest/sources.ts';
import { runReport } from '../../metrics/report.ts';
import { openStore, type Store } from '../../store/db.ts';
import { OWN_FIXTURES } from '../shared/testing.ts';
import { loadCursor } from './cursor.ts';
import { type Clock, TokenBucket } from './rate-limit.ts';
import { backoffMs, PullError, withRetry } from './retry.ts';
import { pullOnce } from './runner.ts';
import { PullScheduler } from './scheduler.ts';
import { buildServer } from '../../server/app.ts';
import { randomAesKey, signedEncryptedPost } from '../../../test/support/wechat.ts';

// biome-ignore lint/suspicious/noExplicitAny: the fixture is rewritten into pages.
const fixture = (): any =>
  JSON.parse(readFileSync(join(OWN_FIXTURES, 'wecom_kf', 'sync_msg_response.json'), 'utf8'));

/** A clock whose sleeps move time on at once: the limiter's arithmetic, without waiting. */
function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('token bucket and backoff', () => {
  it('lets a burst through, then one call per 60/rate seconds, in order', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(60, 3, clock);
    const at: number[] = [];
    await Promise.all(Array.from({ length: 7 }, () => bucket.take().then(() => at.push(clock.t))));
    expect(at).toEqual([0, 0, 0, 1000, 2000, 3000, 4000]);
    clock.t += 10_000; // idle: the bucket refills up to the burst, not beyond
    for (let i = 0; i < 4; i++) await bucket.take();
    expect(clock.t).toBe(15_000);
    expect(() => new TokenBucket(0)).toThrow(/ratePerMinute > 0/);
  });

  it('backs off exponentially with jitter, retries only what may pass, and gives up', async () => {
    const p = { retries: 3, baseMs: 100, maxMs: 1000, random: () => 0.999 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffMs(a, p))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(3, { ...p, random: () => 0 })).toBe(0);
    const clock = fakeClock();
    let calls = 0;
    const flaky = () => {
      calls++;
      return calls < 3 ? Promise.reject(new PullError('busy', true)) : Promise.resolve('ok');
    };
    expect(await withRetry('x', flaky, p, clock)).toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry('x', () => Promise.reject(new PullError('bad secret', false)), p, clock),
    ).rejects.toThrow('bad secret');
    await expect(
      withRetry('sync', () => Promise.reject(new PullError('45009', true)), p, clock),
    ).rejects.toThrow(/sync: gave up after 4 attempts: 45009/);
  });
});

interface Call {
  at: number;
  path: string;
  body?: Record<string, unknown>;
}

/**
 * 企业微信 on 127.0.0.1: gettoken, and sync_msg serving the fixture page then pages built from
 * it, with a 45009 once, a 500 once, an expired token once, and optionally a hard failure once.
 */
function fakeWecom(o: { hardFailOnPage?: number; delayMs?: number } = {}) {
  const T0 = 1615478585;
  const page1 = fixture();
  const item = (i: number) => structuredClone(page1.msg_list[i]);
  const agentReply = {
    ...item(0),
    msgid: 'p2-reply',
    send_time: T0 + 60,
    origin: 5,
    servicer_userid: 'NEW_SERVICER_USERID',
    text: { content: '您好,请问有什么可以帮您' },
  };
  const close = item(13);
  close.msgid = 'p2-close';
  close.send_time = T0 + 120;
  close.event.change_type = 3;
  close.event.old_servicer_userid = 'NEW_SERVICER_USERID';
  const pages: Record<string, unknown> = { '': page1 };
  pages[page1.next_cursor] = {
    errcode: 0,
    errmsg: 'ok',
    next_cursor: 'c3',
    has_more: 1,
    msg_list: [agentReply, close],
  };
  for (let p = 3; p <= 8; p++) {
    const m = { ...item(0), msgid: `p${p}`, external_userid: `wmCustomer${p}`, send_time: T0 + 86_400 * p };
    pages[`c${p}`] = {
      errcode: 0,
      errmsg: 'ok',
      next_cursor: `c${p + 1}`,
      has_more: p < 8 ? 1 : 0,
      msg_list: [m],
    };
  }
  // Asked again with the last cursor, 企业微信 answers an empty page.
  pages.c9 = { errcode: 0, errmsg: 'ok', next_cursor: 'c9', has_more: 0, msg_list: [] };
  const calls: Call[] = [];
  const failed = new Set<string>();
  let tokens = 0;
  const once = (key: string) => !failed.has(key) && failed.add(key) !== undefined;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    calls.push({ at: Date.now(), path: url.pathname, ...(body ? { body } : {}) });
    if (o.delayMs && url.pathname.endsWith('sync_msg')) await new Promise((r) => setTimeout(r, o.delayMs));
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (url.pathname === '/cgi-bin/gettoken') {
      if (url.searchParams.get('corpid') !== 'wwCORP' || url.searchParams.get('corpsecret') !== 'kf-secret')
        return json(200, { errcode: 40001, errmsg: 'invalid credential' });
      tokens++;
      return json(200, { errcode: 0, errmsg: 'ok', access_token: `TOKEN${tokens}`, expires_in: 7200 });
    }
    if (url.pathname !== '/cgi-bin/kf/sync_msg' || req.method !== 'POST') return json(404, {});
    if (url.searchParams.get('access_token') !== `TOKEN${tokens}`)
      return json(200, { errcode: 40014, errmsg: 'invalid access_token' });
    const cursor = String(body?.cursor ?? '');
    if (cursor === page1.next_cursor && once('45009'))
      return json(200, { errcode: 45009, errmsg: 'api freq out of limit' });
    if (cursor === 'c4' && once('500')) return json(500, { error: 'gateway' });
    if (cursor === 'c6' && once('42001'))
      return json(200, { errcode: 42001, errmsg: 'access_token expired' });
    if (o.hardFailOnPage !== undefined && cursor === `c${o.hardFailOnPage}` && once('hard'))
      return json(200, { errcode: 95018, errmsg: 'kf account not found' });
    const page = pages[cursor];
    return page ? json(200, page) : json(200, { errcode: 95000, errmsg: `no page ${cursor}` });
  });
  return {
    calls,
    pages,
    tokens: () => tokens,
    start: () =>
      new Promise<string>((r) =>
        server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('微信客服 sync_msg pull, against a local 企业微信', () => {
  let store: Store | undefined;
  let api: ReturnType<typeof fakeWecom> | undefined;
  afterEach(async () => {
    await api?.stop();
    await store?.close();
  });

  async function setup(o: { hardFailOnPage?: number; dialect?: TestDialect } = {}) {
    store = await freshStore(o.dialect ?? 'sqlite');
    api = fakeWecom(o);
    const base = await api.start();
    const source = await addSource(store, {
      platform: 'wecom_kf',
      name: '微信客服',
      secret: 'cbTok',
      options: { corpId: 'wwCORP', kfSecret: 'kf-secret', apiBase: base },
    });
    return { store, api, source };
  }
  const fast = { retries: 4, baseMs: 20, maxMs: 200 };

  it.each(DIALECTS)(
    'reads every page once through throttling, a 500 and an expired token, within the rate limit (%s)',
    async (dialect) => {
      const { store, api, source } = await setup({ dialect });
      // 600 calls a minute, 2 at once: the same arithmetic as 1,800, at a pace a test can watch.
      const limiter = new TokenBucket(600, 2);
      const r = await pullOnce(store, source.id, { limiter, retry: fast });
      expect(r).toMatchObject({ pages: 8, accepted: 20, duplicates: 0, rejected: 2, cursor: 'c9' });
      const sync = api.calls.filter((c) => c.path.endsWith('sync_msg'));
      // 8 pages + the 45009, the 500 and the expired token, each retried.
      expect(sync).toHaveLength(11);
      expect(api.tokens()).toBe(2);
      expect(sync.map((c) => c.body?.cursor ?? null).slice(0, 3)).toEqual([
        null,
        '4gw7MepFLfgF2VC5npN',
        '4gw7MepFLfgF2VC5npN',
      ]);
      expect(sync.every((c) => c.body?.limit === 1000)).toBe(true);
      // No 500 ms window holds more than the burst plus what the rate refills in it (2 + 5).
      const at = api.calls.map((c) => c.at);
      for (const t of at) expect(at.filter((u) => u >= t && u < t + 500).length).toBeLessThanOrEqual(7);
      expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual(((at.length - 2) / 10) * 1000 - 50);

      expect(await loadCursor(store, source.id, '*')).toMatchObject({
        cursor: 'c9',
        pages: 8,
        lastError: null,
      });
      const [status] = await sourceStatus(store);
      expect(status).toMatchObject({ accepted: 20, rejected: 2 });
      expect(status!.rejectReasons.map((x) => x.reason).join('\n')).toMatch(/enter_session/);

      // The conversation of the fixture: assigned, answered after 60 s, closed; then 6 customers.
      await refreshFacts(store);
      const report = await runReport(store, {
        from: '2021-03-01',
        to: '2021-04-01',
        metrics: ['conversations', 'frt_avg_s'],
        useRollups: false,
      });
      expect(report.total.metrics.conversations).toBe(7);
      expect(report.total.metrics.frt_avg_s).toBe(60);

      // Another pass finds nothing new and asks from the saved cursor.
      const again = await pullOnce(store, source.id, { limiter, retry: fast });
      expect(again).toMatchObject({ pages: 1, accepted: 0 });
      expect(api.calls[api.calls.length - 1]!.body?.cursor).toBe('c9');
    },
  );

  it.each(DIALECTS)(
    'a pass that fails keeps the cursor of the last stored page; the next one resumes there, nothing twice (%s)',
    async (dialect) => {
      const { store, api, source } = await setup({ hardFailOnPage: 5, dialect });
      const limiter = new TokenBucket(6000, 10);
      await expect(pullOnce(store, source.id, { limiter, retry: fast })).rejects.toThrow(
        /errcode 95018 kf account not found/,
      );
      expect(await loadCursor(store, source.id, '*')).toMatchObject({
        cursor: 'c5',
        lastError: expect.stringMatching(/95018/),
      });
      // The monitor shows where the pull stopped and why.
      expect((await sourceStatus(store))[0]!.pull).toEqual([
        expect.objectContaining({
          stream: '*',
          cursor: 'c5',
          pages: 4,
          lastError: expect.stringMatching(/95018/),
        }),
      ]);
      const before = (await store.db.selectFrom('event_ids').select('ext_id').execute()).length;
      expect(before).toBe(12 + 2 + 2);
      // As after a restart: a new pass, a new token, from the saved cursor.
      const r = await pullOnce(store, source.id, { limiter, retry: fast });
      expect(r).toMatchObject({ pages: 4, accepted: 4, duplicates: 0, cursor: 'c9' });
      const sync = api.calls.filter((c) => c.path.endsWith('sync_msg'));
      expect(sync.filter((c) => c.body?.cursor === 'c5')).toHaveLength(2);
      expect((await store.db.selectFrom('event_ids').select('ext_id').execute()).length).toBe(20);
      expect(await loadCursor(store, source.id, '*')).toMatchObject({ cursor: 'c9', lastError: null });
    },
  );

  it('refuses a source without the pull credentials, and wrong credentials at once', async () => {
    store = await freshStore('sqlite');
    api = fakeWecom();
    const base = await api.start();
    const bare = await addSource(store, { platform: 'wecom_kf', name: 'x', options: { corpId: 'wwCORP' } });
    await expect(pullOnce(store, bare.id)).rejects.toThrow(/kfSecret/);
    const wrong = await addSource(store, {
      platform: 'wecom_kf',
      name: 'y',
      options: { corpId: 'wwCORP', kfSecret: 'nope', apiBase: base },
    });
    await expect(pullOnce(store, wrong.id, { retry: fast })).rejects.toThrow(/gettoken.*errcode 40001/);
    expect(api.calls).toHaveLength(1);
    const tg = await addSource(store, { platform: 'telegram', name: 'tg', secret: 's' });
    await expect(pullOnce(store, tg.id)).rejects.toThrow(/telegram sources are not pulled/);
  });

  it('cspulse sources pull <id> --once, as a user runs it, on a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cspulse-pull-'));
    const db = join(dir, 'p.db');
    api = fakeWecom();
    const base = await api.start();
    const file = await openStore(db);
    const source = await addSource(file, {
      platform: 'wecom_kf',
      name: '微信客服',
      options: { corpId: 'wwCORP', kfSecret: 'kf-secret', apiBase: base },
    });
    await file.close();
    try {
      const bin = join(import.meta.dirname, '../../../bin/cspulse.js');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [bin, 'sources', 'pull', source.id, '--once', '--db', db],
        { env: { ...process.env, CI: 'true' } },
      );
      expect(stdout).toContain(`${source.id} [*]: 8 页 pages · 接收 accepted 20`);
      expect(stdout).toContain('cursor c9');
      const status = await promisify(execFile)(process.execPath, [bin, 'sources', 'status', '--db', db], {
        env: { ...process.env, CI: 'true' },
      });
      expect(status.stdout).toMatch(/拉取 pull \[\*\]: 8 页 pages · cursor c9 · \d{4}-/);
      expect(status.stdout).toContain('接收 accepted 20');
      store = await openStore(db);
      const report = await runReport(store, {
        from: '2021-03-01',
        to: '2021-04-01',
        metrics: ['conversations'],
        useRollups: false,
      });
      expect(report.total.metrics.conversations).toBe(7);
    } finally {
      await store?.close();
      store = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
    // Two CLI processes: tsx start-up alone takes seconds on a loaded 2-core machine.
  }, 120_000);

  it('cspulse serve pulls on an interval through the server writer; reports see the pulled conversations', async () => {
    const { store, source } = await setup();
    const tg = await addSource(store, { platform: 'telegram', name: 'tg', secret: 's' });
    const server = await buildServer(store, { refreshDelayMs: 20 });
    const log: string[] = [];
    const pulls = new PullScheduler(store, {
      accept: (items, origin, sourceId, extra) => server.writer.accept(items, origin, sourceId, extra),
      intervalMs: 50,
      retry: fast,
      log: (l) => log.push(l),
    });
    try {
      pulls.start();
      const t0 = Date.now();
      while (pulls.passes < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      expect(pulls.passes).toBeGreaterThanOrEqual(2);
      expect(await loadCursor(store, source.id, '*')).toMatchObject({ cursor: 'c9' });
      expect(await loadCursor(store, tg.id, '*')).toBeNull();
      await server.writer.drain();
      const report = await runReport(store, {
        from: '2021-03-01',
        to: '2021-04-01',
        metrics: ['conversations'],
        useRollups: false,
      });
      expect(report.total.metrics.conversations).toBe(7);
      const [status] = await sourceStatus(store);
      expect(status).toMatchObject({ accepted: 20, duplicates: 0 });
      expect(log.join('\n')).toContain(`pull ${source.id}: 8 pages, 20 accepted`);
    } finally {
      await pulls.stop();
      await server.close();
    }
  });

  it('a 微信客服 callback makes the server pull at once, with the callback token', async () => {
    store = await freshStore('sqlite');
    api = fakeWecom();
    const base = await api.start();
    const aesKey = randomAesKey();
    const source = await addSource(store, {
      platform: 'wecom_kf',
      name: '微信客服',
      secret: 'cbTok',
      options: { corpId: 'wwCORP', kfSecret: 'kf-secret', apiBase: base, aesKey },
    });
    const server = await buildServer(store, { refreshDelayMs: 20 });
    const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const pulls = new PullScheduler(store, {
      accept: (items, origin, sourceId, extra) => server.writer.accept(items, origin, sourceId, extra),
      intervalMs: 3_600_000,
      retry: fast,
    });
    const waitFor = async (what: () => Promise<boolean>) => {
      const t0 = Date.now();
      while (!(await what()) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      pulls.start();
      await waitFor(async () => pulls.passes >= 1);
      expect((await loadCursor(store, source.id, '*'))?.cursor).toBe('c9');
      // A new customer message arrives on the platform; its callback reaches the server.
      const late = {
        ...fixture().msg_list[0],
        msgid: 'late-1',
        external_userid: 'wmLate',
        send_time: 1616000000,
      };
      api.pages.c9 = { errcode: 0, errmsg: 'ok', next_cursor: 'c10', has_more: 0, msg_list: [late] };
      api.pages.c10 = { errcode: 0, errmsg: 'ok', next_cursor: 'c10', has_more: 0, msg_list: [] };
      const notice = `<xml><ToUserName><![CDATA[wwCORP]]></ToUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCfresh]]></Token><OpenKfId><![CDATA[wkA]]></OpenKfId></xml>`;
      const post = signedEncryptedPost(notice, { token: 'cbTok', aesKey, receiveId: 'wwCORP' });
      const r = await fetch(`${url}/ingest/${source.id}?${new URLSearchParams(post.query)}`, {
        method: 'POST',
        body: post.body,
      });
      expect(await r.text()).toBe('success');
      await waitFor(async () => (await loadCursor(store!, source.id, '*'))?.cursor === 'c10');
      expect((await loadCursor(store, source.id, '*'))?.cursor).toBe('c10');
      const last = api.calls.filter((c) => c.path.endsWith('sync_msg')).at(-1)!;
      expect(last.body).toMatchObject({ cursor: 'c9', token: 'ENCfresh' });
      expect(pulls.passes).toBe(1);
      const ids = await store.db
        .selectFrom('event_ids')
        .select('ext_id')
        .where('ext_id', '=', 'late-1:text')
        .execute();
      expect(ids).toHaveLength(1);
    } finally {
      await pulls.stop();
      await server.close();
    }
  });

  it.each(['before', 'after'])(
    'a roster’s 企业微信 account covers the 微信客服 servicer (roster imported %s the pull)',
    async (when) => {
      const { store, source } = await setup();
      const roster = () =>
        importRoster(store, [
          {
            name: '张三',
            employeeNo: 'E1',
            group: '售后',
            accounts: [{ platform: 'wecom', account: 'NEW_SERVICER_USERID' }],
          },
        ]);
      if (when === 'before') await roster();
      await pullOnce(store, source.id, { limiter: new TokenBucket(6000, 10), retry: fast });
      if (when === 'after') await roster();
      await refreshFacts(store);
      const report = await runReport(store, {
        from: '2021-03-01',
        to: '2021-04-01',
        by: ['agent'],
        metrics: ['frt_avg_s'],
        useRollups: false,
      });
      const answered = report.rows.filter((r) => r.metrics.frt_avg_s !== null);
      expect(answered.map((r) => [r.key.agent, r.metrics.frt_avg_s])).toEqual([['张三', 60]]);
      const [status] = await sourceStatus(store);
      // SERVICER_USERID (presence only) is nobody's yet; the roster's 企业微信 account is claimed.
      expect(status!.unknownAccounts.map((a) => a.account)).toEqual(['SERVICER_USERID']);
    },
  );

  it('sources pull killed with SIGKILL mid-pass, run again: every message once, none skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cspulse-pull-kill-'));
    const db = join(dir, 'k.db');
    api = fakeWecom({ delayMs: 150 });
    const base = await api.start();
    const file = await openStore(db);
    const source = await addSource(file, {
      platform: 'wecom_kf',
      name: '微信客服',
      options: { corpId: 'wwCORP', kfSecret: 'kf-secret', apiBase: base },
    });
    await file.close();
    const bin = join(import.meta.dirname, '../../../bin/cspulse.js');
    const env = { ...process.env, CI: 'true' };
    try {
      const child = spawn(process.execPath, [bin, 'sources', 'pull', source.id, '--once', '--db', db], {
        env,
      });
      const exited = new Promise((r) => child.on('exit', r));
      const served = () => api!.calls.filter((c) => c.path.endsWith('sync_msg')).length;
      const t0 = Date.now();
      while (served() < 5 && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      await exited;
      store = await openStore(db);
      const kept = await loadCursor(store, source.id, '*');
      const before = (await store.db.selectFrom('event_ids').select('ext_id').execute()).length;
      // Killed mid-pass: some pages stored, not all.
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(20);
      // As after a restart (same code as the command, in this process to keep the test short).
      const n1 = served();
      const again = await pullOnce(store, source.id, { limiter: new TokenBucket(6000, 10), retry: fast });
      expect(again.cursor).toBe('c9');
      expect((await store.db.selectFrom('event_ids').select('ext_id').execute()).length).toBe(20);
      // It started from the cursor the killed process had saved, not from the beginning.
      expect(api.calls.filter((c) => c.path.endsWith('sync_msg'))[n1]?.body?.cursor ?? null).toBe(
        kept?.cursor ?? null,
      );
      const [status] = await sourceStatus(store);
      expect(status).toMatchObject({ accepted: 20 });
    } finally {
      await store?.close();
      store = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
