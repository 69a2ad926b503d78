/**
 * A token bucket: `ratePerMinute` calls a minute on average, at most `burst` at once. Platforms
 * count calls per minute (企业微信: 1,800 per API per corp); spreading them instead of spending the
 * minute's budget in the first second is seed 000's 流量削峰, and keeps a backlog pull from
 * starving the live callbacks' own API calls.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly perMs: number;

  constructor(
    readonly ratePerMinute: number,
    readonly burst: number = Math.max(1, Math.round(ratePerMinute / 60)),
    private readonly clock: Clock = realClock,
  ) {
    if (!(ratePerMinute > 0) || !(burst >= 1))
      throw new Error('rate limit: ratePerMinute > 0 and burst ≥ 1 expected');
    this.perMs = ratePerMinute / 60_000;
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Wait for a token. Callers are served in the order they asked. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeNow());
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async takeNow(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.perMs));
    }
  }
}

/** Buckets shared by every pull of one platform account (e.g. all sources of one corp). */
const shared = new Map<string, TokenBucket>();

export function sharedBucket(key: string, ratePerMinute: number, burst?: number): TokenBucket {
  let b = shared.get(key);
  if (!b || b.ratePerMinute !== ratePerMinute) {
    b = new TokenBucket(ratePerMinute, burst);
    shared.set(key, b);
  }
  return b;
}
