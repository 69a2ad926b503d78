/**
 * Reading platform JSON whose shape nobody guarantees: small helpers that answer "what is there"
 * without throwing, and the one place a connector's event is checked before it leaves the parser,
 * so a hostile or mangled payload yields typed rejects, never an event the store would refuse.
 */
import { type CanonicalEventInput, validateEvent } from '../../model/events.ts';
import { parseTimestamp } from '../../model/time.ts';
import type { WebhookParse } from '../webhooks.ts';

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string, or a finite number as a string (ids arrive both ways); else undefined. */
export function str(v: unknown, max = 500): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v.slice(0, max) : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Text as the canonical event carries it (≤ 100,000 characters), or undefined. */
export function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 100_000) : undefined;
}

/** A display name (≤ 200 characters), or undefined. */
export function name(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined;
}

/**
 * Epoch ms from a platform time. `unit` is what the platform documents: a numeric string or number
 * of seconds or milliseconds is read in that unit, not guessed; ISO strings carry their offset.
 */
export function epochMs(v: unknown, unit: 's' | 'ms' | 'iso'): number | null {
  if (unit === 'iso') return typeof v === 'string' && v.length < 100 ? parseTimestamp(v) : null;
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n)) return null;
  return parseTimestamp(unit === 's' ? n * 1000 : n);
}

/** A fresh result. */
export function emptyParse(): WebhookParse {
  return { events: [], rejects: [] };
}

/**
 * Add an event if it is valid; otherwise a reject at `at` naming the field and what was expected.
 * The ingest validates again; this keeps the parser's promise that it emits only valid events.
 */
export function keep(out: WebhookParse, at: string, event: CanonicalEventInput, raw?: unknown): void {
  const v = validateEvent(event);
  if (v.ok) out.events.push(event);
  else out.rejects.push({ at, reason: v.reason, raw });
}

/** Parse JSON embedded in a string field (Feishu's `content`), or undefined. */
export function jsonIn(v: unknown): unknown {
  if (typeof v !== 'string' || v.length > 1_000_000) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
}
