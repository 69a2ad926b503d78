/**
 * Download links for pushed files (src/delivery/links.ts) and the route that serves them
 * (src/server/files.ts), on a real server on 127.0.0.1: a 飞书 push carries a signed link that
 * downloads exactly the exported file; forged, retargeted, renamed and expired links are refused;
 * nothing outside the export folder can be named.
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileLinker,
  LinkError,
  type LinkSigner,
  openFileLink,
  signerFromEnv,
  signFileLink,
} from '../../src/delivery/links.ts';
import { Runner } from '../../src/delivery/runner.ts';
import { addSchedule } from '../../src/delivery/schedules.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { loadWeeks } from '../outputs/weeks.ts';
import { freshTarget } from '../support/stores.ts';
import { startBots } from './servers.ts';

const SECRET = 'files-secret-for-tests-0123456789';
const DAY = 86_400_000;
const NOW = Date.parse('2025-11-10T00:00:30Z');

describe('signed file links', () => {
  let dir: string;
  let signer: LinkSigner;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-links-'));
    signer = { dir, secret: SECRET, ttlMs: 30 * DAY, now: () => NOW };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('grants the file it names until it expires, and nothing after', () => {
    const token = signFileLink(signer, join(dir, 'w1', '客服绩效_2025-W45.xlsx'));
    expect(openFileLink(signer, token)).toBe(join(dir, 'w1', '客服绩效_2025-W45.xlsx'));
    expect(openFileLink({ ...signer, now: () => NOW + 30 * DAY }, token)).toBe(
      join(dir, 'w1', '客服绩效_2025-W45.xlsx'),
    );
    const late = () => openFileLink({ ...signer, now: () => NOW + 30 * DAY + 1 }, token);
    expect(late).toThrow(LinkError);
    expect(late).toThrow(/expired on 2025-12-10T00:00:30.000Z/);
  });

  it('refuses a token signed with another secret, or retargeted at another file', () => {
    const token = signFileLink(signer, join(dir, 'a.xlsx'));
    expect(() => openFileLink({ ...signer, secret: `${SECRET}x` }, token)).toThrow(/invalid link/);
    const [, sig] = token.split('.');
    const other = Buffer.from(JSON.stringify({ f: 'b.xlsx', x: NOW + DAY })).toString('base64url');
    expect(() => openFileLink(signer, `${other}.${sig}`)).toThrow(/invalid link/);
  });

  it('never names a file outside the export folder, even with a valid signature', () => {
    expect(() => signFileLink(signer, join(dir, '..', 'secret.db'))).toThrow(/not in the export folder/);
    expect(() => signFileLink(signer, '/etc/passwd')).toThrow(/not in the export folder/);
    // Signed with the right secret (as if it had leaked into a token by a bug): still refused.
    for (const f of ['../secret.db', '/etc/passwd', 'a/../../x', '']) {
      const payload = Buffer.from(JSON.stringify({ f, x: NOW + DAY })).toString('base64url');
      const sig = createHmac('sha256', SECRET).update(payload).digest('base64url');
      expect(() => openFileLink(signer, `${payload}.${sig}`)).toThrow(LinkError);
    }
  });

  it('answers any string with a path or a LinkError, never anything else', () => {
    const valid = signFileLink(signer, join(dir, 'a.xlsx'));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          // Mutations of a valid token: a character changed, cut, or doubled.
          fc
            .tuple(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
            .map(([i, ch]) => valid.slice(0, i) + ch + valid.slice(i + 1)),
          fc.nat(valid.length).map((i) => valid.slice(0, i)),
          fc.constant(`${valid}.${valid}`),
        ),
        (token) => {
          try {
            const path = openFileLink(signer, token);
            expect(path).toBe(join(dir, 'a.xlsx'));
          } catch (e) {
            expect(e).toBeInstanceOf(LinkError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads its settings from the environment, and says what is wrong with them', () => {
    expect(signerFromEnv({}, dir)).toBeNull();
    expect(() => signerFromEnv({ CSPULSE_FILES_SECRET: 'short' }, dir)).toThrow(/at least 16 characters/);
    expect(() =>
      signerFromEnv({ CSPULSE_FILES_SECRET: SECRET, CSPULSE_FILES_TTL_DAYS: 'soon' }, dir),
    ).toThrow(/CSPULSE_FILES_TTL_DAYS: expected a positive number of days, got "soon"/);
    expect(signerFromEnv({ CSPULSE_FILES_SECRET: SECRET, CSPULSE_FILES_TTL_DAYS: '7' }, dir)?.ttlMs).toBe(
      7 * DAY,
    );
    // A folder the team serves itself, mirroring the export folder.
    const mirror = fileLinker({ CSPULSE_FILES_URL: 'https://files.example.com/exports/' }, dir, () => NOW);
    expect(mirror?.(join(dir, 's1', '2025-W45', '客服绩效 1.xlsx'))).toBe(
      `https://files.example.com/exports/s1/2025-W45/${encodeURIComponent('客服绩效 1.xlsx')}`,
    );
    expect(fileLinker({}, dir, () => NOW)).toBeUndefined();
  });
});

describe('GET /files/<name>?t=<token> and the 飞书 push that links to it', () => {
  let target: string;
  let store: Store;
  let server: Server;
  let base: string;
  let dir: string;
  let bots: Awaited<ReturnType<typeof startBots>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    target = await freshTarget('sqlite');
    store = await openStore(target);
    await loadWeeks(store);
    dir = mkdtempSync(join(tmpdir(), 'cspulse-files-'));
    bots = await startBots({ dingtalk: 'SECding', feishu: 'feishu-secret', wecomKey: 'k' });
    env = { CSPULSE_FILES_SECRET: SECRET, CSPULSE_EXPORT_DIR: dir, FEISHU_SECRET: 'feishu-secret' };
    server = await buildServer(store, { env });
    base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    env.CSPULSE_PUBLIC_URL = base;
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await bots?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a link in the 飞书 message that downloads exactly the exported workbook', async () => {
    await addSchedule(
      store,
      {
        name: '周一早报',
        cron: '0 8 * * 1',
        template: '团队周报',
        period: 'last-week',
        formats: ['xlsx'],
        recipients: [
          { kind: 'feishu', webhook: `${bots.base}/open-apis/bot/v2/hook/x`, secretEnv: 'FEISHU_SECRET' },
        ],
      },
      'Asia/Shanghai',
      Date.parse('2025-11-09T00:00:00Z'),
    );
    const { id } = await store.db.selectFrom('schedules').select('id').executeTakeFirstOrThrow();
    const run = await new Runner(store, { env, refresh: false }).runNow(id, '2025-W45');
    expect(run).toMatchObject({ status: 'ok' });
    const hit = bots.hits.find((h) => h.bot === 'feishu')!;
    expect(hit.signatureOk).toBe(true);
    const href = /"href":"([^"]+)"/.exec(JSON.stringify(hit.body.content))![1]!;
    expect(href.startsWith(`${base}/files/${encodeURIComponent('客服绩效_2025-W45.xlsx')}?t=`)).toBe(true);
    const res = await fetch(href);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(res.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('客服绩效_2025-W45.xlsx')}`,
    );
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(run.files[0]!))).toBe(true);
  });

  it('refuses forged, renamed and expired links, and says why', async () => {
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'r.csv'), '\ufeff客服,接待\n张三,3\n');
    const signer = signerFromEnv(env, dir)!;
    const token = signFileLink(signer, join(dir, 'x', 'r.csv'));
    const get = (path: string) => fetch(`${base}${path}`);
    const ok = await get(`/files/r.csv?t=${token}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(readFileSync(join(dir, 'x', 'r.csv')))).toBe(true);
    expect((await get(`/files/other.csv?t=${token}`)).status).toBe(403);
    expect((await get(`/files/r.csv?t=${token.slice(0, -2)}xx`)).status).toBe(403);
    expect((await get('/files/r.csv?t=not-a-token')).status).toBe(403);
    expect((await get('/files/r.csv')).status).toBe(400);
    const old = signFileLink({ ...signer, now: () => Date.now() - 31 * 86_400_000 }, join(dir, 'x', 'r.csv'));
    const expired = await get(`/files/r.csv?t=${old}`);
    expect(expired.status).toBe(410);
    expect(((await expired.json()) as { error: string }).error).toMatch(/expired/);
    rmSync(join(dir, 'x', 'r.csv'));
    expect((await get(`/files/r.csv?t=${token}`)).status).toBe(404);
  });

  it('answers 404 with the setting to turn on when links are off', async () => {
    const off = await buildServer(store, { env: {} });
    const at = await off.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${at}/files/r.csv?t=abc.def`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toContain('CSPULSE_FILES_SECRET');
    } finally {
      await off.close();
    }
  });
});
