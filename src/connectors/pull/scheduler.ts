/**
 * Pulls inside `cspulse serve`: every pull source whose credentials are complete is read on an
 * interval, and at once when its platform's callback announces new messages (微信客服
 * kf_msg_or_event, with the token that lifts sync_msg's strict limit). Passes run one at a time;
 * pages are stored through the server's writer, which orders them with the webhooks' accepts and
 * the fact refreshes. A failed pass is logged and kept in `pull_cursors.last_error`; the next one
 * starts from the same cursor.
 */
import { listSources, type Source, sourceCredentials } from '../../ingest/sources.ts';
import type { Store } from '../../store/db.ts';
import { type KfNotice, onKfNotice } from '../wecom_kf/notices.ts';
import { type Acceptor, PULL_CONNECTORS, type PullOptions, pullOnce } from './runner.ts';

export interface SchedulerOptions extends Omit<PullOptions, 'accept' | 'hint'> {
  accept: Acceptor;
  /** Between passes over all pull sources (default 60 s). */
  intervalMs?: number;
}

/** Which credentials a source needs before it is pulled, per platform. */
const NEEDS: Record<string, string[]> = { wecom_kf: ['corpId', 'kfSecret'] };

export class PullScheduler {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private announced = new Map<string, string | undefined>();
  private announcedQueued = false;
  /** Completed passes over all sources (not counting the ones a callback asked for). */
  passes = 0;

  constructor(
    private readonly store: Store,
    private readonly o: SchedulerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = onKfNotice((n) => void this.announce(n));
    this.schedule(0);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((e) => this.o.log?.(`pull: ${(e as Error).message}`));
    return this.chain;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.enqueue(() => this.pass()).finally(() => this.schedule(this.o.intervalMs ?? 60_000));
    }, ms);
    this.timer.unref();
  }

  private async pullable(): Promise<Source[]> {
    return (await listSources(this.store)).filter((s) => {
      if (!Object.hasOwn(PULL_CONNECTORS, s.platform)) return false;
      const options = sourceCredentials(s).options;
      return !(NEEDS[s.platform] ?? []).some((k) => !options[k]);
    });
  }

  private async pullSource(id: string, token?: string): Promise<void> {
    try {
      const r = await pullOnce(this.store, id, { ...this.o, ...(token ? { hint: { token } } : {}) });
      if (r.accepted) this.o.log?.(`pull ${id}: ${r.pages} pages, ${r.accepted} accepted`);
    } catch (e) {
      this.o.log?.(`pull ${id}: ${(e as Error).message}`);
    }
  }

  /** One pass over every pull source; errors are logged, never thrown. */
  async pass(): Promise<void> {
    for (const s of await this.pullable()) {
      if (this.stopped) return;
      await this.pullSource(s.id);
    }
    this.passes++;
  }

  /** A callback announced messages: the sources of that corp (and kf account) are read next. */
  private async announce(n: KfNotice): Promise<void> {
    if (this.stopped) return;
    for (const s of await this.pullable()) {
      const o = sourceCredentials(s).options;
      if (s.platform !== 'wecom_kf' || o.corpId !== n.corpId) continue;
      if (o.openKfId && n.openKfId && o.openKfId !== n.openKfId) continue;
      this.announced.set(s.id, n.token);
    }
    if (this.announcedQueued || !this.announced.size) return;
    this.announcedQueued = true;
    await this.enqueue(async () => {
      this.announcedQueued = false;
      const batch = [...this.announced];
      this.announced.clear();
      for (const [id, token] of batch) if (!this.stopped) await this.pullSource(id, token);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.chain;
  }
}
