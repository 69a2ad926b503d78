/**
 * Schedules: "every Monday 08:00, last week's 团队周报 as xlsx to the CS manager and the HRBP".
 * A cron expression read in the reporting timezone (croner), a template, a period rule evaluated at
 * the moment the schedule fires, formats and recipients. Recipients name secrets by environment
 * variable (a bot's signing secret is never stored, a webhook URL may be given as env:VAR), and
 * nothing printed about a schedule shows a secret.
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';
import { FORMATS, type ExportFormat } from '../outputs/export.ts';
import { parsePeriod } from '../outputs/period.ts';
import { getTemplate } from '../outputs/templates.ts';
import { parseViewer } from '../outputs/viewer.ts';
import type { Store } from '../store/db.ts';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, '应为环境变量名 / expected an environment variable name');
/** A webhook: an http(s) URL, or env:VAR naming the variable that holds it. */
const webhook = z
  .string()
  .trim()
  .refine(
    (s) => /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(s) || /^https?:\/\/[^\s]+$/.test(s),
    '应为 http(s) 地址或 env:变量名 / expected an http(s) URL or env:VAR',
  );

export const recipientSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('email'), to: z.array(z.email('不是邮件地址 / not an e-mail address')).min(1) })
    .strict(),
  z.object({ kind: z.literal('wecom'), webhook }).strict(),
  z.object({ kind: z.literal('dingtalk'), webhook, secretEnv: envName.optional() }).strict(),
  z.object({ kind: z.literal('feishu'), webhook, secretEnv: envName.optional() }).strict(),
]);
export type Recipient = z.infer<typeof recipientSchema>;

export const scheduleInputSchema = z
  .object({
    name: z.string().trim().min(1),
    cron: z.string().trim().min(1),
    template: z.string().trim().min(1),
    period: z.string().trim().min(1).default('last-week'),
    formats: z.array(z.enum(FORMATS)).min(1).default(['xlsx']),
    recipients: z.array(recipientSchema).min(1, '至少一个收件方 / at least one recipient'),
    viewer: z.string().trim().min(1).optional(),
  })
  .strict();
export type ScheduleInput = z.input<typeof scheduleInputSchema>;

export interface Schedule {
  id: string;
  name: string;
  cron: string;
  template: string;
  period: string;
  formats: ExportFormat[];
  recipients: Recipient[];
  viewer: string | null;
  enabled: boolean;
  createdAt: number;
}

/** A croner job that never runs by itself: only asked for its fire times. */
export function cronFor(expr: string, timezone: string): Cron {
  try {
    return new Cron(expr, { timezone, paused: true });
  } catch (e) {
    throw new Error(
      `cron 表达式 “${expr}” 无效 / invalid cron expression "${expr}": ${(e as Error).message}`,
    );
  }
}

/** Fire times in (after, until], oldest first, at most `limit` (the most recent ones). */
export function firesBetween(
  expr: string,
  timezone: string,
  after: number,
  until: number,
  limit = 20,
): number[] {
  const cron = cronFor(expr, timezone);
  const out: number[] = [];
  let t = new Date(after);
  for (;;) {
    const next = cron.nextRun(t);
    if (!next || next.getTime() > until) break;
    out.push(next.getTime());
    if (out.length > limit) out.shift();
    t = next;
  }
  return out;
}

export async function addSchedule(
  store: Store,
  input: unknown,
  timezone: string,
  now = Date.now(),
): Promise<Schedule> {
  const r = scheduleInputSchema.safeParse(input);
  if (!r.success)
    throw new Error(
      `定时任务无效 / invalid schedule: ${r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ')}`,
    );
  const s = r.data;
  cronFor(s.cron, timezone);
  parsePeriod(s.period, timezone, now);
  await getTemplate(store, s.template);
  if (s.viewer) await parseViewer(store, s.viewer);
  const id = `sch_${randomUUID().slice(0, 8)}`;
  await store.db
    .insertInto('schedules')
    .values({
      id,
      name: s.name,
      cron: s.cron,
      template: s.template,
      period: s.period,
      formats: JSON.stringify(s.formats),
      recipients: JSON.stringify(s.recipients),
      viewer: s.viewer ?? null,
      enabled: 1,
      created_at: now,
    })
    .execute();
  return (await getSchedule(store, id))!;
}

type Row = {
  id: string;
  name: string;
  cron: string;
  template: string;
  period: string;
  formats: string;
  recipients: string;
  viewer: string | null;
  enabled: number;
  created_at: number;
};

const fromRow = (r: Row): Schedule => ({
  id: r.id,
  name: r.name,
  cron: r.cron,
  template: r.template,
  period: r.period,
  formats: JSON.parse(r.formats),
  recipients: JSON.parse(r.recipients),
  viewer: r.viewer,
  enabled: !!r.enabled,
  createdAt: Number(r.created_at),
});

export async function listSchedules(store: Store): Promise<Schedule[]> {
  const rows = await store.db
    .selectFrom('schedules')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(fromRow);
}

export async function getSchedule(store: Store, id: string): Promise<Schedule | undefined> {
  const r = await store.db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : undefined;
}

export async function removeSchedule(store: Store, id: string): Promise<void> {
  const r = await store.db.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw new Error(`没有定时任务 “${id}” / no schedule "${id}"`);
}

/** A recipient as it may be printed: e-mail addresses, the bot kind, env names — no keys or tokens. */
export function describeRecipient(r: Recipient): string {
  if (r.kind === 'email') return `邮件 email: ${r.to.join(', ')}`;
  const where = r.webhook.startsWith('env:') ? r.webhook : redactUrl(r.webhook);
  const secret = 'secretEnv' in r && r.secretEnv ? ` (签名 sign: $${r.secretEnv})` : '';
  const kind = {
    wecom: '企业微信群机器人 WeCom bot',
    dingtalk: '钉钉机器人 DingTalk bot',
    feishu: '飞书机器人 Feishu bot',
  }[r.kind];
  return `${kind}: ${where}${secret}`;
}

/** A webhook's address without what makes it a credential: query values and the last path part. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '***');
    const parts = u.pathname.split('/');
    if (u.searchParams.size === 0 && parts.length > 2) parts[parts.length - 1] = '***';
    u.pathname = parts.join('/');
    return decodeURI(u.toString());
  } catch {
    return '***';
  }
}

/** The webhook's URL: given, or read from the environment variable env:VAR names. */
export function resolveWebhook(webhook: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!webhook.startsWith('env:')) return webhook;
  const name = webhook.slice(4);
  const v = env[name];
  if (!v)
    throw new Error(
      `环境变量 ${name} 未设置(机器人地址)/ environment variable ${name} (the bot's webhook) is not set`,
    );
  return v;
}

export function secretFromEnv(
  name: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!name) return undefined;
  const v = env[name];
  if (!v)
    throw new Error(
      `环境变量 ${name} 未设置(机器人签名密钥)/ environment variable ${name} (the bot's signing secret) is not set`,
    );
  return v;
}
