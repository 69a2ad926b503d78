/**
 * Retries with exponential backoff and full jitter (a random wait up to base·2^attempt, capped):
 * many pullers that failed together do not come back together. Only what may succeed later is
 * retried — network errors, 5xx, the platform's "too many calls" and "busy" codes — and a
 * failure that will not change (a wrong secret, a bad parameter) stops at once.
 */
import { type Clock, realClock } from './rate-limit.ts';

export class PullError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 6, baseMs: 500, maxMs: 30_000 };

export function backoffMs(attempt: number, p: RetryPolicy): number {
  return Math.floor((p.random ?? Math.random)() * Math.min(p.maxMs, p.baseMs * 2 ** attempt));
}

export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  clock: Clock = realClock,
  onRetry?: (attempt: number, error: Error, waitMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const retryable = err instanceof PullError ? err.retryable : true;
      if (!retryable) throw err;
      if (attempt >= policy.retries)
        throw new PullError(`${what}: gave up after ${attempt + 1} attempts: ${err.message}`, false);
      const wait = backoffMs(attempt, policy);
      onRetry?.(attempt + 1, err, wait);
      await clock.sleep(wait);
    }
  }
}
