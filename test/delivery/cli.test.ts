/**
 * `cspulse schedules` as a user runs it: two runner processes on one SQLite file racing on the
 * Monday fire send one mail; list never prints a bot's key; history shows the runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspulse, weeksDb } from '../outputs/cli-helpers.ts';
import { openStore } from '../../src/store/db.ts';
import { startSmtp } from './servers.ts';

const BIN = join(import.meta.dirname, '../../bin/cspulse.js');

describe('cspulse schedules', { timeout: 300_000 }, () => {
  let dir: string;
  let db: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-sched-'));
    db = await weeksDb(dir);
    smtp = await startSmtp();
    env = {
      CSPULSE_SMTP_URL: smtp.url,
      CSPULSE_MAIL_FROM: 'report@example.com',
      CSPULSE_EXPORT_DIR: join(dir, 'exports'),
      DING_SECRET: 'SECabc',
    };
  });
  afterAll(async () => {
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a Monday schedule, and two runner processes racing send its mail once', async () => {
    const add = await cspulse(
      env,
      'schedules',
      'add',
      '--db',
      db,
      '--name',
      '周一早报',
      '--cron',
      '0 8 * * 1',
      '--email',
      'lead@example.com,hrbp@example.com',
      '--dingtalk',
      'http://127.0.0.1:9/robot/send?access_token=tok-SECRET-123',
      '--dingtalk-secret-env',
      'DING_SECRET',
      '--now',
      '2025-11-09T00:00:00Z',
      '--json',
    );
    expect(add.stderr).toBe('');
    const { id } = JSON.parse(add.stdout);
    const list = await cspulse(env, 'schedules', 'list', '--db', db);
    expect(list.stdout).toContain(`${id}\t周一早报\t0 8 * * 1\t团队周报\tlast-week\txlsx`);
    expect(list.stdout).toContain('lead@example.com, hrbp@example.com');
    expect(list.stdout).toContain('access_token=***');
    expect(list.stdout).toContain('$DING_SECRET');
    expect(list.stdout).not.toContain('tok-SECRET-123');
    expect(list.stdout).not.toContain('SECabc');

    // The mail server answers; nothing listens at the DingTalk address (port 9), so that
    // recipient is left for a retry, with its error in the history, while the mail is sent once.
    const racing = await Promise.all(
      ['a', 'b'].map(() =>
        cspulse(env, 'schedules', 'run', '--once', '--db', db, '--now', '2025-11-10T00:00:30Z'),
      ),
    );
    const out = racing.map((r) => r.stdout).join('\n');
    expect(out.match(/2025-W45: (ok|retry|failed)/g)).toHaveLength(1);
    expect(out).toContain('没有到期的任务 / nothing due');
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.attachments[0]!.filename).toBe('客服绩效_2025-W45.xlsx');

    const history = JSON.parse((await cspulse(env, 'schedules', 'history', id, '--db', db, '--json')).stdout);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ period: '2025-W45', status: 'retry', attempts: 1, manual: false });
    expect(history[0].error).toContain('钉钉机器人 DingTalk bot');
    expect(JSON.stringify(history)).not.toContain('tok-SECRET-123');
  });

  it('runs a schedule now for a chosen period, outside the once-per-period key', async () => {
    const sched = JSON.parse(
      (
        await cspulse(
          env,
          'schedules',
          'add',
          '--db',
          db,
          '--name',
          '月报',
          '--cron',
          '0 9 1 * *',
          '--template',
          'HR月度考核',
          '--period',
          'last-month',
          '--email',
          'hr@example.com',
          '--as',
          'hr',
          '--json',
        )
      ).stdout,
    );
    const r = await cspulse(env, 'schedules', 'run-now', sched.id, '--period', '2025-10', '--db', db);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${sched.id} 2025-10: ok`);
    const mail = smtp.mails.at(-1)!;
    expect(mail.to).toEqual(['hr@example.com']);
    expect(mail.parsed.subject).toBe('客服绩效月度考核 2025-10(HR)');
    const bad = await cspulse(
      env,
      'schedules',
      'add',
      '--db',
      db,
      '--name',
      'x',
      '--cron',
      '61 8 * * 1',
      '--email',
      'a@b.co',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid cron expression "61 8 * * 1"');
  });
  it('cspulse serve runs the scheduler: a Monday missed while it was down is delivered on start', async () => {
    // Made a week ago (real clock): exactly one Monday 08:00 has passed since, with nothing running.
    const made = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const add = await cspulse(
      env,
      'schedules',
      'add',
      '--db',
      db,
      '--name',
      '补发',
      '--cron',
      '0 8 * * 1',
      '--email',
      'catchup@example.com',
      '--format',
      'csv',
      '--now',
      made,
      '--json',
    );
    const { id } = JSON.parse(add.stdout);
    // Only this schedule: the earlier ones, made on a 2025 clock, would (rightly) catch up a year.
    const direct = await openStore(db);
    await direct.db.deleteFrom('schedules').where('id', '!=', id).execute();
    await direct.db.deleteFrom('schedule_runs').execute();
    await direct.close();
    const before = smtp.mails.length;
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--db', db], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    try {
      const deadline = Date.now() + 120_000;
      while (smtp.mails.length === before && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 250));
      expect(smtp.mails.length, output).toBe(before + 1);
      expect(smtp.mails.at(-1)!.to).toEqual(['catchup@example.com']);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    }
    const history = JSON.parse((await cspulse(env, 'schedules', 'history', id, '--db', db, '--json')).stdout);
    expect(history.map((h: { status: string }) => h.status)).toEqual(['ok']);
  });
});
