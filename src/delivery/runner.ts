/**
 * The schedule runner: started by `cspulse serve`, or in the foreground by `cspulse schedules run`.
 *
 * Exactly once per period, however many processes run it: each fire time becomes a period (its
 * rule evaluated at the fire time, in the reporting timezone) and a run key `<schedule>/<from>..<to>`,
 * and a process runs a period only after inserting that key — the primary key of schedule_runs lets
 * one insert win and every other conflict. A run is leased: a process that dies mid-run leaves a
 * lease that expires, and the run is taken up again as a retry.
 *
 * Catch-up: on every tick the fire times since the schedule's last run (or its creation) are
 * computed, so the periods missed while nothing was running are delivered on start, oldest first
 * (the most recent 20 at most).
 *
 * Retries: a failed attempt is retried with exponential backoff (1, 2, 4, 8 … minutes, at most an
 * hour) up to maxAttempts; recipients already served are not sent to again. Every failed attempt is
 * kept in the run's log.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { refreshFacts } from '../ingest/pipeline.ts';
import { buildBundle } from '../outputs/bundle.ts';
import { exportBundle } from '../outputs/export.ts';
import { parsePeriod } from '../outputs/period.ts';
import { getTemplate } from '../outputs/templates.ts';
import type { Period } from '../outputs/types.ts';
import { parseViewer } from '../outputs/viewer.ts';
import type { Store } from '../store/db.ts';
import { loadSettings } from '../store/settings.ts';
import { sendToBot } from './bots.ts';
import { sendMail } from './mail.ts';
import { exportDir, fileLinker } from './links.ts';
import { pushMessage } from './message.ts';
import { describeRecipient, firesBetween, getSchedule, listSchedules, type Schedule } from './schedules.ts';

export interface RunnerOptions {
  /** Who claims runs, for the history; default host-pid-random. */
  id?: string;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  /** Where files are written: <outDir>/<schedule>/<period>/; default CSPULSE_EXPORT_DIR or data/exports. */
  outDir?: string;
  maxAttempts?: number;
  /** First retry delay; doubled each attempt, capped at an hour. */
  backoffMs?: number;
  /** How long a claimed run is this process's before another may take it over. */
  leaseMs?: number;
  /** Refresh the facts before building (off in `serve`, whose writer keeps them fresh). */
  refresh?: boolean;
  /** Tick interval of start(). */
  intervalMs?: number;
  /**
   * Base URL of a folder the team serves mirroring <outDir> (CSPULSE_FILES_URL), for links where a
   * bot cannot carry files; signed links on our own server take precedence (links.ts).
   */
  linkBase?: string;
  log?: (line: string) => void;
  /** In `serve`: runs the reading of the store (bundle and files) never beside a fact refresh. */
  gate?: { read<T>(fn: () => Promise<T>): Promise<T> };
}

export interface RunOutcome {
  runKey: string;
  scheduleId: string;
  period: string;
  status: 'ok' | 'retry' | 'failed';
  attempts: number;
  files: string[];
  error?: string;
}

interface Claimed {
  runKey: string;
  scheduleId: string;
  period: Period;
  attempts: number;
  delivered: number[];
}

const HOUR = 3_600_000;
const MANUAL = '/manual-';

export class Runner {
  readonly id: string;
  private readonly o: Required<Omit<RunnerOptions, 'linkBase' | 'id' | 'gate'>> &
    Pick<RunnerOptions, 'linkBase' | 'gate'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly store: Store,
    opts: RunnerOptions = {},
  ) {
    const env = opts.env ?? process.env;
    this.id = opts.id ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.o = {
      now: opts.now ?? Date.now,
      env,
      outDir: opts.outDir ?? exportDir(env),
      maxAttempts: opts.maxAttempts ?? 5,
      backoffMs: opts.backoffMs ?? 60_000,
      leaseMs: opts.leaseMs ?? 15 * 60_000,
      refresh: opts.refresh ?? true,
      intervalMs: opts.intervalMs ?? 30_000,
      linkBase: opts.linkBase ?? env.CSPULSE_FILES_URL,
      gate: opts.gate,
      log: opts.log ?? (() => {}),
    };
  }

  /** Claims and runs everything due now: fires since the last run of each schedule, and retries. */
  async tick(): Promise<RunOutcome[]> {
    const now = this.o.now();
    const { timezone } = await loadSettings(this.store);
    const out: RunOutcome[] = [];
    for (const s of await listSchedules(this.store)) {
      if (!s.enabled) continue;
      try {
        for (const fire of await this.dueFires(s, timezone, now)) {
          const period = parsePeriod(s.period, timezone, fire);
          const claimed = await this.claimNew(s, period, `${s.id}/${period.from}..${period.to}`, fire, now);
          if (claimed) out.push(await this.execute(claimed));
        }
      } catch (e) {
        // One schedule that cannot be read (a cron the timezone change broke…) holds no other back.
        this.o.log(`定时任务 / schedule ${s.id}: ${(e as Error).message}`);
      }
    }
    for (const c of await this.claimRetries(now)) out.push(await this.execute(c));
    return out;
  }

  /** Runs a schedule now for a period (default: its rule at this moment), outside the exactly-once keys. */
  async runNow(scheduleId: string, periodInput?: string): Promise<RunOutcome> {
    const s = await getSchedule(this.store, scheduleId);
    if (!s) throw new Error(`没有定时任务 “${scheduleId}” / no schedule "${scheduleId}"`);
    const now = this.o.now();
    const { timezone } = await loadSettings(this.store);
    const period = parsePeriod(periodInput ?? s.period, timezone, now);
    const key = `${s.id}/${period.from}..${period.to}${MANUAL}${now}-${randomUUID().slice(0, 4)}`;
    const claimed = await this.claimNew(s, period, key, now, now);
    return this.execute(claimed!);
  }

  start(): void {
    if (this.timer) return;
    const loop = () => {
      if (this.running) return;
      this.running = this.tick()
        .then((runs) => {
          for (const r of runs)
            this.o.log(
              `定时任务 / schedule ${r.scheduleId} ${r.period}: ${r.status}${r.error ? ` — ${r.error}` : ''}`,
            );
        })
        .catch((e) => this.o.log(`定时任务出错 / schedule runner error: ${(e as Error).message}`))
        .finally(() => {
          this.running = undefined;
        });
    };
    loop();
    this.timer = setInterval(loop, this.o.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async dueFires(s: Schedule, timezone: string, now: number): Promise<number[]> {
    const last = await this.store.db
      .selectFrom('schedule_runs')
      .select((eb) => eb.fn.max('fire_at').as('fire'))
      .where('schedule_id', '=', s.id)
      .where('run_key', 'not like', `%${MANUAL}%`)
      .executeTakeFirst();
    const after = Math.max(s.createdAt, Number(last?.fire ?? 0));
    return firesBetween(s.cron, timezone, after, now);
  }

  private async claimNew(
    s: Schedule,
    period: Period,
    runKey: string,
    fire: number,
    now: number,
  ): Promise<Claimed | null> {
    const r = await this.store.db
      .insertInto('schedule_runs')
      .values({
        run_key: runKey,
        schedule_id: s.id,
        fire_at: fire,
        period_from: period.from,
        period_to: period.to,
        period_label: period.label,
        status: 'running',
        attempts: 1,
        claimed_by: this.id,
        lease_until: now + this.o.leaseMs,
        next_attempt_at: null,
        started_at: now,
        finished_at: null,
        files: null,
        error: null,
      })
      .onConflict((oc) => oc.column('run_key').doNothing())
      .executeTakeFirst();
    if (!Number(r.numInsertedOrUpdatedRows ?? 0)) return null;
    return { runKey, scheduleId: s.id, period, attempts: 1, delivered: [] };
  }

  /** Failed runs whose backoff is over, and runs whose claimant died (lease expired). */
  private async claimRetries(now: number): Promise<Claimed[]> {
    const due = await this.store.db
      .selectFrom('schedule_runs')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'retry'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)]),
        ]),
      )
      .orderBy('fire_at')
      .execute();
    const out: Claimed[] = [];
    for (const run of due) {
      // Conditional on what was read: of two processes, only one changes the row.
      const r = await this.store.db
        .updateTable('schedule_runs')
        .set({
          status: 'running',
          attempts: Number(run.attempts) + 1,
          claimed_by: this.id,
          lease_until: now + this.o.leaseMs,
          next_attempt_at: null,
        })
        .where('run_key', '=', run.run_key)
        .where('status', '=', run.status)
        .where('attempts', '=', Number(run.attempts))
        .executeTakeFirst();
      if (!Number(r.numUpdatedRows)) continue;
      out.push({
        runKey: run.run_key,
        scheduleId: run.schedule_id,
        period: { from: run.period_from, to: run.period_to, label: run.period_label },
        attempts: Number(run.attempts) + 1,
        delivered: JSON.parse(run.delivered),
      });
    }
    return out;
  }

  private async execute(c: Claimed): Promise<RunOutcome> {
    const db = this.store.db;
    let files: string[] = [];
    const errors: string[] = [];
    try {
      const s = await getSchedule(this.store, c.scheduleId);
      if (!s) throw new Error(`定时任务已删除 / the schedule was removed`);
      if (this.o.refresh) await refreshFacts(this.store);
      const template = await getTemplate(this.store, s.template);
      const viewer = await parseViewer(this.store, s.viewer ?? undefined);
      const outDir = join(this.o.outDir, s.id, c.period.label.replace(/[\\/:*?"<>|]/g, '-'));
      const write = async () => {
        const bundle = await buildBundle(this.store, {
          template,
          period: c.period,
          viewer,
          now: this.o.now(),
        });
        return { bundle, files: (await exportBundle(this.store, bundle, s.formats, { outDir })).files };
      };
      const written = this.o.gate ? await this.o.gate.read(write) : await write();
      const bundle = written.bundle;
      files = written.files;
      const message = pushMessage(
        bundle,
        files,
        fileLinker(this.o.env, this.o.outDir, this.o.now, this.o.linkBase),
      );
      for (const [i, r] of s.recipients.entries()) {
        if (c.delivered.includes(i)) continue;
        try {
          if (r.kind === 'email') await sendMail(r.to, message, files, this.o.env);
          else await sendToBot(r, message, files, { env: this.o.env, now: this.o.now });
          c.delivered.push(i);
          await db
            .updateTable('schedule_runs')
            .set({ delivered: JSON.stringify(c.delivered) })
            .where('run_key', '=', c.runKey)
            .execute();
        } catch (e) {
          // One unreachable bot does not hold back the mail: the others are served, this one retried.
          errors.push(`${describeRecipient(r)}: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
    const now = this.o.now();
    if (!errors.length) {
      await db
        .updateTable('schedule_runs')
        .set({ status: 'ok', finished_at: now, files: JSON.stringify(files), error: null, lease_until: null })
        .where('run_key', '=', c.runKey)
        .where('claimed_by', '=', this.id)
        .execute();
      return {
        runKey: c.runKey,
        scheduleId: c.scheduleId,
        period: c.period.label,
        status: 'ok',
        attempts: c.attempts,
        files,
      };
    }
    const error = errors.join('; ');
    const status = c.attempts >= this.o.maxAttempts ? 'failed' : 'retry';
    const row = await db
      .selectFrom('schedule_runs')
      .select('log')
      .where('run_key', '=', c.runKey)
      .executeTakeFirst();
    const log = [...JSON.parse(row?.log ?? '[]'), { at: now, attempt: c.attempts, error }];
    await db
      .updateTable('schedule_runs')
      .set({
        status,
        error,
        log: JSON.stringify(log),
        files: files.length ? JSON.stringify(files) : null,
        lease_until: null,
        next_attempt_at:
          status === 'retry' ? now + Math.min(HOUR, this.o.backoffMs * 2 ** (c.attempts - 1)) : null,
        finished_at: status === 'failed' ? now : null,
      })
      .where('run_key', '=', c.runKey)
      .where('claimed_by', '=', this.id)
      .execute();
    return {
      runKey: c.runKey,
      scheduleId: c.scheduleId,
      period: c.period.label,
      status,
      attempts: c.attempts,
      files,
      error,
    };
  }
}

export interface RunRecord {
  runKey: string;
  scheduleId: string;
  period: string;
  status: string;
  attempts: number;
  fireAt: number;
  startedAt: number;
  finishedAt: number | null;
  nextAttemptAt: number | null;
  files: string[];
  error: string | null;
  log: { at: number; attempt: number; error: string }[];
  manual: boolean;
}

/** The runs, newest first; of one schedule when given. */
export async function runHistory(store: Store, scheduleId?: string, limit = 50): Promise<RunRecord[]> {
  let q = store.db
    .selectFrom('schedule_runs')
    .selectAll()
    .orderBy('started_at', 'desc')
    .orderBy('fire_at', 'desc')
    .limit(limit);
  if (scheduleId) q = q.where('schedule_id', '=', scheduleId);
  return (await q.execute()).map((r) => ({
    runKey: r.run_key,
    scheduleId: r.schedule_id,
    period: r.period_label,
    status: r.status,
    attempts: Number(r.attempts),
    fireAt: Number(r.fire_at),
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    files: r.files ? JSON.parse(r.files) : [],
    error: r.error,
    log: JSON.parse(r.log),
    manual: r.run_key.includes(MANUAL),
  }));
}
