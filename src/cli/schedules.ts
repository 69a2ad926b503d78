/** `cspulse schedules`: scheduled delivery by e-mail and group bots (src/delivery). */
import { type Command, Option } from 'commander';
import { parseFormats } from '../outputs/export.ts';
import type { RunOutcome } from '../delivery/runner.ts';
import {
  addSchedule,
  describeRecipient,
  listSchedules,
  type Recipient,
  removeSchedule,
} from '../delivery/schedules.ts';
import { loadSettings } from '../store/settings.ts';
import { dbOption, readJsonArg, withStore } from './export.ts';

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
const many = (v: string, prev: string[] = []) => [...prev, v];

function clock(now: string | undefined): (() => number) | undefined {
  if (!now) return undefined;
  const t = Date.parse(now);
  if (Number.isNaN(t)) throw new Error(`--now: not a time "${now}"`);
  return () => t;
}

const nowOption = () => new Option('--now <iso>', 'a fixed clock (tests)').hideHelp();

function printOutcome(r: RunOutcome): void {
  console.log(
    `${r.scheduleId} ${r.period}: ${r.status} (第 ${r.attempts} 次 attempt ${r.attempts})${r.error ? ` — ${r.error}` : ''}`,
  );
  for (const f of r.files) console.log(`  ${f}`);
}

export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('定时推送 / scheduled delivery (e-mail, 企业微信, 钉钉, 飞书)');
  schedules
    .command('add')
    .description(
      '新建定时任务 / add a schedule, e.g. every Monday 08:00: --cron "0 8 * * 1" --period last-week',
    )
    .requiredOption('--name <text>', 'a name people recognise')
    .requiredOption('--cron <expr>', 'cron expression in the reporting timezone, e.g. "0 8 * * 1"')
    .option('--template <name>', 'report template', '团队周报')
    .option('--period <rule>', 'last-week | last-month | …, evaluated when it fires', 'last-week')
    .option('--format <formats>', 'xlsx|pdf|csv, comma-separated', 'xlsx')
    .option('--email <addresses>', 'e-mail recipients, comma-separated', list)
    .option('--wecom <webhook>', '企业微信群机器人 webhook URL, or env:VAR', many)
    .option('--dingtalk <webhook>', '钉钉机器人 webhook URL, or env:VAR', many)
    .option('--dingtalk-secret-env <VAR>', 'environment variable holding the DingTalk signing secret')
    .option('--feishu <webhook>', '飞书机器人 webhook URL, or env:VAR', many)
    .option('--feishu-secret-env <VAR>', 'environment variable holding the Feishu signing secret')
    .option('--recipients <json>', 'recipients as JSON (inline or a file), added to the ones above')
    .option('--as <viewer>', 'whose view the files show (see cspulse export --as)')
    .option('--json', 'print the schedule as JSON')
    .addOption(nowOption())
    .addOption(dbOption())
    .action(async (o) => {
      const recipients: Recipient[] = [];
      if (o.email?.length) recipients.push({ kind: 'email', to: o.email });
      for (const webhook of o.wecom ?? []) recipients.push({ kind: 'wecom', webhook });
      for (const webhook of o.dingtalk ?? [])
        recipients.push({
          kind: 'dingtalk',
          webhook,
          ...(o.dingtalkSecretEnv ? { secretEnv: o.dingtalkSecretEnv } : {}),
        });
      for (const webhook of o.feishu ?? [])
        recipients.push({
          kind: 'feishu',
          webhook,
          ...(o.feishuSecretEnv ? { secretEnv: o.feishuSecretEnv } : {}),
        });
      if (o.recipients) {
        const extra = readJsonArg(o.recipients);
        recipients.push(...((Array.isArray(extra) ? extra : [extra]) as Recipient[]));
      }
      await withStore(o.db, async (store) => {
        const { timezone } = await loadSettings(store);
        const s = await addSchedule(
          store,
          {
            name: o.name,
            cron: o.cron,
            template: o.template,
            period: o.period,
            formats: parseFormats(o.format),
            recipients,
            ...(o.as ? { viewer: o.as } : {}),
          },
          timezone,
          clock(o.now)?.() ?? Date.now(),
        );
        if (o.json) {
          console.log(JSON.stringify({ id: s.id, name: s.name, cron: s.cron }));
          return;
        }
        console.log(`定时任务 / schedule: ${s.id} — ${s.name} — ${s.cron} (${timezone})`);
        for (const r of s.recipients) console.log(`  → ${describeRecipient(r)}`);
      });
    });
  schedules
    .command('list')
    .option('--json', 'as JSON (recipients described, secrets never shown)')
    .addOption(dbOption())
    .action(async (o) => {
      await withStore(o.db, async (store) => {
        const all = await listSchedules(store);
        if (o.json) {
          console.log(
            JSON.stringify(
              all.map((s) => ({ ...s, recipients: s.recipients.map(describeRecipient) })),
              null,
              2,
            ),
          );
          return;
        }
        for (const s of all) {
          console.log(
            `${s.id}\t${s.name}\t${s.cron}\t${s.template}\t${s.period}\t${s.formats.join(',')}${s.viewer ? `\t--as ${s.viewer}` : ''}${s.enabled ? '' : '\t(停用 disabled)'}`,
          );
          for (const r of s.recipients) console.log(`    → ${describeRecipient(r)}`);
        }
      });
    });
  schedules
    .command('remove')
    .argument('<id>')
    .addOption(dbOption())
    .action(async (id: string, o) => {
      await withStore(o.db, async (store) => {
        await removeSchedule(store, id);
        console.log(`已删除 / removed ${id}`);
      });
    });
  schedules
    .command('run-now')
    .description('立即运行一次 / run a schedule now (a manual run: the scheduled one still happens)')
    .argument('<id>')
    .option('--period <rule>', 'period instead of the schedule’s rule')
    .addOption(nowOption())
    .addOption(dbOption())
    .action(async (id: string, o) => {
      await withStore(o.db, async (store) => {
        const { Runner } = await import('../delivery/runner.ts');
        const r = await new Runner(store, { now: clock(o.now), maxAttempts: 1 }).runNow(id, o.period);
        printOutcome(r);
        if (r.status !== 'ok') process.exitCode = 1;
      });
    });
  schedules
    .command('history')
    .description('运行记录 / runs with their errors, newest first')
    .argument('[id]', 'only this schedule')
    .option('--limit <n>', 'runs', (v) => Number(v), 50)
    .option('--json', 'as JSON')
    .addOption(dbOption())
    .action(async (id: string | undefined, o) => {
      await withStore(o.db, async (store) => {
        const { runHistory } = await import('../delivery/runner.ts');
        const runs = await runHistory(store, id, o.limit);
        if (o.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        for (const r of runs) {
          console.log(
            `${new Date(r.startedAt).toISOString()}\t${r.scheduleId}\t${r.period}\t${r.status}\t第 ${r.attempts} 次 attempts${r.manual ? '\t手动 manual' : ''}${r.nextAttemptAt ? `\t下次重试 next ${new Date(r.nextAttemptAt).toISOString()}` : ''}`,
          );
          for (const l of r.log) console.log(`    ${new Date(l.at).toISOString()} #${l.attempt}: ${l.error}`);
        }
      });
    });
  schedules
    .command('run')
    .description(
      '在前台运行定时任务(cspulse serve 也会运行)/ run the scheduler in the foreground (serve runs it too)',
    )
    .option('--interval <seconds>', 'how often to look for due runs', (v) => Number(v), 30)
    .option('--once', 'one pass (due runs, catch-up, retries), then exit')
    .addOption(nowOption())
    .addOption(dbOption())
    .action(async (o) => {
      await withStore(o.db, async (store) => {
        const { Runner } = await import('../delivery/runner.ts');
        const runner = new Runner(store, {
          now: clock(o.now),
          intervalMs: o.interval * 1000,
          log: (l) => console.log(l),
        });
        if (o.once) {
          const runs = await runner.tick();
          for (const r of runs) printOutcome(r);
          if (!runs.length) console.log('没有到期的任务 / nothing due');
          if (runs.some((r) => r.status === 'failed')) process.exitCode = 1;
          return;
        }
        console.log(`定时任务运行中 / scheduler running (every ${o.interval} s); Ctrl-C to stop`);
        runner.start();
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await runner.stop();
      });
    });
}
