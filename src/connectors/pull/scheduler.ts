/**
 * Pulls inside `cspulse serve`: every pull source whose credentials are complete is read on an
 * interval, one pass at a time per source, its pages stored through the server's writer (which
 * orders them with the webhooks' accepts and the fact refreshes). A failed pass is logged and kept
 * in `pull_cursors.last_error`; the next interval tries again from the same cursor.
 */
import { listSources, sourceCredentials } from '../../ingest/sources.ts';
import type { Store } from '../../store/db.ts';
import { type Acceptor, PULL_CONNECTORS, type PullOptions, pullOnce } from './runner.ts';

export interface SchedulerOptions extends Omit<PullOptions, 'accept'> {
  accept: Acceptor;
  /** Between passes over the sources (default 60 s). */
  intervalMs?: number;
}

/** Which credentials a source needs before it is pulled, per platform. */
const NEEDS: Record<string, string[]> = { wecom_kf: ['corpId', 'kfSecret'] };

export class PullScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  passes = 0;

  constructor(
    private readonly store: Store,
    private readonly o: SchedulerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.schedule(this.o.intervalMs ?? 60_000);
      });
    }, ms);
    this.timer.unref();
  }

  /** One pass over every pull source; errors are logged, never thrown. */
  async pass(): Promise<void> {
    for (const s of await listSources(this.store)) {
      if (this.stopped) return;
      if (!Object.hasOwn(PULL_CONNECTORS, s.platform)) continue;
      const options = sourceCredentials(s).options;
      if ((NEEDS[s.platform] ?? []).some((k) => !options[k])) continue;
      try {
        const r = await pullOnce(this.store, s.id, this.o);
        if (r.accepted) this.o.log?.(`pull ${s.id}: ${r.pages} pages, ${r.accepted} accepted`);
      } catch (e) {
        this.o.log?.(`pull ${s.id}: ${(e as Error).message}`);
      }
    }
    this.passes++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
