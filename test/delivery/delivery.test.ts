/**
 * Scheduled delivery against real receivers on 127.0.0.1 (test/delivery/servers.ts), on SQLite and
 * PostgreSQL: the Monday mail arrives exactly once with two runners on separate connections racing;
 * bots receive signed messages and the file; missed Mondays are caught up; failures are retried
 * with backoff, recipients already served are not served again, and the history keeps the errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Runner, type RunnerOptions, runHistory } from '../../src/delivery/runner.ts';
import { addSchedule, removeSchedule } from '../../src/delivery/schedules.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { loadWeeks } from '../outputs/weeks.ts';
import { DIALECTS, freshTarget } from '../support/stores.ts';
import { type BotHit, startBots, startSmtp } from './servers.ts';

const TZ = 'Asia/Shanghai';
/** Sunday 2025-11-09 08:00 in Shanghai: when the schedules are made. */
const SUNDAY = Date.parse('2025-11-09T00:00:00Z');
/** Monday 2025-11-10 08:00:30 in Shanghai: half a minute after the Monday fire. */
const MONDAY = Date.parse('2025-11-10T00:00:30Z');
const SECRETS = {
  dingtalk: 'SECdingtalk-test-secret',
  feishu: 'feishu-test-secret',
  wecomKey: 'wecom-key-123',
};

describe.each(DIALECTS)('scheduled delivery (%s)', (dialect) => {
  let target: string;
  let store: Store;
  let other: Store;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let bots: Awaited<ReturnType<typeof startBots>>;
  let outDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    target = await freshTarget(dialect);
    store = await openStore(target);
    // A second connection, as a second process would have.
    other = await openStore(target);
    await loadWeeks(store);
    smtp = await startSmtp();
    bots = await startBots(SECRETS);
    outDir = mkdtempSync(join(tmpdir(), 'cspulse-delivery-'));
    env = {
      CSPULSE_SMTP_URL: smtp.url,
      CSPULSE_MAIL_FROM: 'CS Pulse <report@example.com>',
      DINGTALK_SECRET: SECRETS.dingtalk,
      FEISHU_SECRET: SECRETS.feishu,
      WECOM_HOOK: `${bots.base}/cgi-bin/webhook/send?key=${SECRETS.wecomKey}`,
    };
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    await smtp?.close();
    await bots?.close();
    rmSync(outDir, { recursive: true, force: true });
    if (dialect === 'sqlite') rmSync(dirname(target), { recursive: true, force: true });
  });
  beforeEach(async () => {
    smtp.mails.length = 0;
    bots.hits.length = 0;
    for (const s of await store.db.selectFrom('schedules').select('id').execute())
      await removeSchedule(store, s.id);
    await store.db.deleteFrom('schedule_runs').execute();
  });

  const runner = (s: Store, now: number, o: RunnerOptions = {}) =>
    new Runner(s, { now: () => now, env, outDir, refresh: false, ...o });

  const weekly = (extra: object = {}, createdAt = SUNDAY) =>
    addSchedule(
      store,
      {
        name: '周一早报',
        cron: '0 8 * * 1',
        template: '团队周报',
        period: 'last-week',
        formats: ['xlsx'],
        recipients: [{ kind: 'email', to: ['lead@example.com', 'hrbp@example.com'] }],
        ...extra,
      },
      TZ,
      createdAt,
    );

  it('delivers the Monday mail exactly once with two runners racing on separate connections', async () => {
    const s = await weekly();
    // Before the fire: nothing due.
    expect(await runner(store, Date.parse('2025-11-09T23:59:00Z')).tick()).toEqual([]);
    const [a, b] = await Promise.all([
      runner(store, MONDAY, { id: 'a' }).tick(),
      runner(other, MONDAY, { id: 'b' }).tick(),
    ]);
    expect([...a, ...b].map((r) => [r.period, r.status])).toEqual([['2025-W45', 'ok']]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['lead@example.com', 'hrbp@example.com']);
    expect(mail.parsed.subject).toBe('客服团队周报 2025-W45(全部(脱敏))');
    // Headlines with 环比 against W44: received 21 vs 18 → ↑ 16.7%.
    expect(mail.parsed.text).toContain('接待会话数:21(环比 ↑ 16.7%)');
    expect(mail.parsed.text).toContain('张三:');
    expect(mail.parsed.attachments.map((x) => x.filename)).toEqual(['客服绩效_2025-W45.xlsx']);
    const [file] = [...a, ...b][0]!.files;
    expect(mail.parsed.attachments[0]!.content.equals(readFileSync(file!))).toBe(true);

    // Later ticks of both, before the next Monday: nothing again.
    const later = Date.parse('2025-11-10T06:00:00Z');
    expect([...(await runner(store, later).tick()), ...(await runner(other, later).tick())]).toEqual([]);
    expect(smtp.mails).toHaveLength(1);
    const history = await runHistory(store, s.id);
    expect(history.map((h) => [h.period, h.status, h.attempts, h.manual])).toEqual([
      ['2025-W45', 'ok', 1, false],
    ]);
  });

  it('pushes to 企业微信 (markdown and the file), 钉钉 and 飞书, signed', async () => {
    await weekly({
      recipients: [
        { kind: 'wecom', webhook: 'env:WECOM_HOOK' },
        {
          kind: 'dingtalk',
          webhook: `${bots.base}/robot/send?access_token=tok`,
          secretEnv: 'DINGTALK_SECRET',
        },
        { kind: 'feishu', webhook: `${bots.base}/open-apis/bot/v2/hook/abc-123`, secretEnv: 'FEISHU_SECRET' },
      ],
    });
    const [run] = await runner(store, MONDAY, { linkBase: 'https://files.example.com/exports' }).tick();
    expect(run).toMatchObject({ status: 'ok', period: '2025-W45' });
    const by = (bot: BotHit['bot']) => bots.hits.filter((h) => h.bot === bot);
    const md = by('wecom')[0]!.body as { msgtype: string; markdown: { content: string } };
    expect(md.msgtype).toBe('markdown');
    expect(md.markdown.content).toContain('### 客服团队周报 2025-W45');
    // More conversations received is good news (info, green); a slower first response is not (warning).
    expect(md.markdown.content).toContain('接待会话数:**21** 环比 <font color="info">↑ 16.7%</font>');
    expect(md.markdown.content).toContain('首次响应时长:**1:50** 环比 <font color="warning">↑ 187.0%</font>');
    const upload = by('wecom_upload')[0]!.file!;
    expect(upload.name).toBe('客服绩效_2025-W45.xlsx');
    expect(upload.filelength).toBe(readFileSync(run!.files[0]!).length);
    expect(upload.data.equals(readFileSync(run!.files[0]!))).toBe(true);
    expect(by('wecom')[1]!.body).toEqual({ msgtype: 'file', file: { media_id: 'media_2' } });
    const ding = by('dingtalk')[0]!;
    expect(ding.signatureOk).toBe(true);
    expect((ding.body as { markdown: { title: string } }).markdown.title).toBe(
      '客服团队周报 2025-W45(全部(脱敏))',
    );
    const feishu = by('feishu')[0]!;
    expect(feishu.signatureOk).toBe(true);
    expect(feishu.body.msg_type).toBe('post');
    // Feishu cannot carry the file: a link to it under CSPULSE_FILES_URL, mirroring the export folder.
    const link = `https://files.example.com/exports/${run!.scheduleId}/2025-W45/${encodeURIComponent('客服绩效_2025-W45.xlsx')}`;
    expect(JSON.stringify(feishu.body.content)).toContain(
      JSON.stringify({ tag: 'a', text: '客服绩效_2025-W45.xlsx', href: link }),
    );
    expect(run!.files[0]).toBe(join(outDir, run!.scheduleId, '2025-W45', '客服绩效_2025-W45.xlsx'));
    expect((ding.body as { markdown: { text: string } }).markdown.text).toContain(
      `[客服绩效_2025-W45.xlsx](${link})`,
    );
  });

  it('catches up the Mondays missed while nothing ran, oldest first, once each', async () => {
    // Made on Sunday 19 October; nothing runs until Monday 10 November 08:00:30.
    await weekly({}, Date.parse('2025-10-19T00:00:00Z'));
    const runs = await runner(store, MONDAY).tick();
    expect(runs.map((r) => [r.period, r.status])).toEqual([
      ['2025-W42', 'ok'],
      ['2025-W43', 'ok'],
      ['2025-W44', 'ok'],
      ['2025-W45', 'ok'],
    ]);
    expect(smtp.mails.map((m) => m.parsed.subject)).toEqual([
      '客服团队周报 2025-W42(全部(脱敏))',
      '客服团队周报 2025-W43(全部(脱敏))',
      '客服团队周报 2025-W44(全部(脱敏))',
      '客服团队周报 2025-W45(全部(脱敏))',
    ]);
    expect(await runner(other, MONDAY + 60_000).tick()).toEqual([]);
    expect(smtp.mails).toHaveLength(4);
    // Down again for two weeks after the last run: the two Mondays since are caught up from it.
    const later = await runner(other, MONDAY + 14 * 86_400_000).tick();
    expect(later.map((r) => r.period)).toEqual(['2025-W46', '2025-W47']);
    expect(smtp.mails).toHaveLength(6);
  });

  it('retries with backoff, never serves a recipient twice, and keeps every error', async () => {
    const s = await weekly({
      recipients: [
        { kind: 'email', to: ['lead@example.com'] },
        // A wrong secret: DingTalk answers 310000 every time.
        { kind: 'dingtalk', webhook: `${bots.base}/robot/send?access_token=tok`, secretEnv: 'WRONG_SECRET' },
      ],
    });
    const e = { ...env, WRONG_SECRET: 'not-the-secret' };
    smtp.failNext(1);
    const first = await runner(store, MONDAY, { env: e, maxAttempts: 3 }).tick();
    expect(first.map((r) => [r.status, r.attempts])).toEqual([['retry', 1]]);
    expect(first[0]!.error).toMatch(/\b451\b.*mailbox busy/);
    expect(first[0]!.error).toMatch(/310000 sign not match/);
    expect(smtp.mails).toHaveLength(0);
    let [h] = await runHistory(store, s.id);
    // First retry after 60 s.
    expect(h!.nextAttemptAt).toBe(MONDAY + 60_000);
    // Not yet due.
    expect(await runner(other, MONDAY + 59_000, { env: e }).tick()).toEqual([]);
    const second = await runner(other, MONDAY + 60_000, { env: e, maxAttempts: 3 }).tick();
    expect(second.map((r) => [r.status, r.attempts])).toEqual([['retry', 2]]);
    expect(second[0]!.error).not.toMatch(/mailbox busy/); // not /451/: a random port can hold those digits
    expect(smtp.mails).toHaveLength(1);
    [h] = await runHistory(store, s.id);
    // Second retry 120 s after the second attempt.
    expect(h!.nextAttemptAt).toBe(MONDAY + 60_000 + 120_000);
    const third = await runner(store, MONDAY + 180_000, { env: e, maxAttempts: 3 }).tick();
    expect(third.map((r) => [r.status, r.attempts])).toEqual([['failed', 3]]);
    expect(await runner(store, MONDAY + 3_600_000, { env: e, maxAttempts: 3 }).tick()).toEqual([]);
    // The mail went out once, on the second attempt; DingTalk was tried three times.
    expect(smtp.mails).toHaveLength(1);
    expect(bots.hits.filter((x) => x.bot === 'dingtalk')).toHaveLength(3);
    [h] = await runHistory(store, s.id);
    expect(h!.status).toBe('failed');
    expect(h!.log.map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(h!.log[0]!.error).toMatch(/451/);
    // Secrets are never written into the history.
    expect(JSON.stringify(h)).not.toContain('not-the-secret');
  });

  it('takes over a run whose process died (lease expired)', async () => {
    const s = await weekly();
    await store.db
      .insertInto('schedule_runs')
      .values({
        run_key: `${s.id}/2025-11-03..2025-11-09`,
        schedule_id: s.id,
        fire_at: Date.parse('2025-11-10T00:00:00Z'),
        period_from: '2025-11-03',
        period_to: '2025-11-09',
        period_label: '2025-W45',
        status: 'running',
        attempts: 1,
        claimed_by: 'dead-process',
        lease_until: MONDAY + 60_000,
        next_attempt_at: null,
        started_at: MONDAY,
        finished_at: null,
        files: null,
        error: null,
      })
      .execute();
    // While the lease holds, nobody else touches it.
    expect(await runner(store, MONDAY + 30_000).tick()).toEqual([]);
    const runs = await runner(store, MONDAY + 61_000).tick();
    expect(runs.map((r) => [r.period, r.status, r.attempts])).toEqual([['2025-W45', 'ok', 2]]);
    expect(smtp.mails).toHaveLength(1);
  });

  it('refuses bad schedules with the reason', async () => {
    await expect(weekly({ cron: '0 8 * *' })).rejects.toThrow(/invalid cron expression "0 8 \* \*"/);
    await expect(weekly({ period: 'next-week' })).rejects.toThrow(/invalid period "next-week"/);
    await expect(weekly({ template: '没有的模板' })).rejects.toThrow(/no template "没有的模板"/);
    await expect(weekly({ recipients: [{ kind: 'email', to: ['not-an-address'] }] })).rejects.toThrow(
      /recipients.0.to.0: 不是邮件地址/,
    );
    await expect(
      weekly({ recipients: [{ kind: 'dingtalk', webhook: 'ftp://x', secretEnv: 'A' }] }),
    ).rejects.toThrow(/expected an http\(s\) URL or env:VAR/);
    await expect(weekly({ recipients: [] })).rejects.toThrow(/at least one recipient/);
    await expect(weekly({ viewer: 'agent:赵六' })).rejects.toThrow(/no agent "赵六"/);
  });
});
