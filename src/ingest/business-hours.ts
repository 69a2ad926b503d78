/**
 * Business hours (METRICS.md "Time", "Offline messages"): which instants are inside the organisation's
 * working time, and how much working time lies between two instants. Every business-hours duration
 * metric goes through `businessMs`, once per response interval of an import, so the hot path is a
 * cached array scan with no time-zone work.
 *
 * Semantics
 * - An instant is open when its wall-clock time in `timezone` (as `tzOffset` reads it) falls in one
 *   of the intervals of its local date. A dated override replaces the weekly schedule for that date
 *   (`hours: []` is a holiday, a weekend date with hours is a 调休 make-up working day).
 * - Across DST the clock decides: a wall time that does not exist (02:30 on a spring-forward day) is
 *   never open, and one that occurs twice (01:30 on a fall-back day) is open both times. So a
 *   09:00–18:00 day lasts 9 h of real time even on a DST day, and 00:00–24:00 lasts 23 h or 25 h.
 * - Intervals may be unsorted or overlap; they are merged. `24:00` ends an interval at midnight.
 * - An interval whose start is not before its end (e.g. an overnight shift 22:00–06:00 written as
 *   one interval) is a configuration error, thrown by the constructor and naming the weekday or
 *   date: silently ignoring it would zero out a whole shift in every report. Overnight shifts are
 *   written as 22:00–24:00 on one day and 00:00–06:00 on the next. A date listed twice in the
 *   overrides is an error for the same reason (which of the two was meant is unknowable).
 */
import type { BusinessHours } from '../model/settings.ts';
import { isValidTimeZone, tzOffset } from '../model/time.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
// tzOffset resolves offsets per quarter hour of UTC, so no offset change can fall between these.
const QUARTER = 900_000;
const NEXT_OPEN_HORIZON = 366 * DAY;
const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const HHMM = /^(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Open time of one UTC day: `iv` is flat, sorted, disjoint [start, end) pairs in epoch ms. */
interface DayRecord {
  iv: Float64Array;
  total: number;
}

const EMPTY_DAY: DayRecord = { iv: new Float64Array(0), total: 0 };

export class BusinessCalendar {
  readonly timezone: string;
  /** Index 1 (Monday) … 7 (Sunday): flat, merged [start, end) pairs in minutes of the local day. */
  private readonly weekly: number[][] = [];
  /** Local date as days since 1970-01-01 → its hours, like `weekly`. */
  private readonly overrides = new Map<number, number[]>();
  /**
   * Keyed by UTC day, not local day: finding the record of an instant is then one division with no
   * time-zone lookup, and a UTC day cut at its offset changes handles every DST shape (23 h and
   * 25 h local days, transitions at local midnight) without special cases.
   */
  private readonly days = new Map<number, DayRecord>();
  // Consecutive calls nearly always land on the same day; this skips even the Map lookup.
  private lastKey = Number.NaN;
  private lastDay: DayRecord = EMPTY_DAY;

  constructor(hours: BusinessHours, timezone: string) {
    if (!isValidTimeZone(timezone)) throw new Error(`business hours: unknown time zone "${timezone}"`);
    this.timezone = timezone;
    for (let w = 1; w <= 7; w++) {
      const list = hours.weekly[String(w) as keyof BusinessHours['weekly']] ?? [];
      this.weekly[w] = parseIntervals(list, `weekday ${w} (${WEEKDAYS[w]})`);
    }
    for (const o of hours.overrides ?? []) {
      const day = parseDate(o.date);
      if (this.overrides.has(day)) throw new Error(`business hours: override date ${o.date} is listed twice`);
      this.overrides.set(day, parseIntervals(o.hours, `override ${o.date}`));
    }
  }

  /** Whether the instant `ts` (epoch ms) is inside business hours. */
  isOpen(ts: number): boolean {
    const iv = this.day(Math.floor(ts / DAY)).iv;
    for (let i = 0; i < iv.length; i += 2) {
      if (ts < iv[i]) return false;
      if (ts < iv[i + 1]) return true;
    }
    return false;
  }

  /** Milliseconds of business time in [from, to); 0 when `to <= from`. */
  businessMs(from: number, to: number): number {
    if (!(to > from)) {
      if (Number.isNaN(from) || Number.isNaN(to)) throw new RangeError('business hours: timestamp is NaN');
      return 0;
    }
    const k = Math.floor(from / DAY);
    const dayEnd = (k + 1) * DAY;
    if (to <= dayEnd) return overlap(this.day(k).iv, from, to);
    if (!Number.isFinite(to)) throw new RangeError('business hours: timestamp is not finite');
    let sum = overlap(this.day(k).iv, from, dayEnd);
    const last = Math.floor(to / DAY);
    for (let j = k + 1; j < last; j++) sum += this.day(j).total;
    const lastStart = last * DAY;
    if (to > lastStart) sum += overlap(this.day(last).iv, lastStart, to);
    return sum;
  }

  /**
   * The first instant at or after `ts` that is inside business hours: when an offline message
   * could first have been answered. Null when nothing is open within 366 days.
   */
  nextOpen(ts: number): number | null {
    if (!Number.isFinite(ts)) throw new RangeError('business hours: timestamp is not finite');
    const limit = ts + NEXT_OPEN_HORIZON;
    for (let k = Math.floor(ts / DAY); k * DAY <= limit; k++) {
      const iv = this.day(k).iv;
      for (let i = 0; i < iv.length; i += 2) {
        if (iv[i + 1] > ts) {
          const t = Math.max(iv[i], ts);
          return t <= limit ? t : null;
        }
      }
    }
    return null;
  }

  private day(k: number): DayRecord {
    if (k === this.lastKey) return this.lastDay;
    let rec = this.days.get(k);
    if (!rec) {
      rec = this.build(k);
      this.days.set(k, rec);
    }
    this.lastKey = k;
    this.lastDay = rec;
    return rec;
  }

  /** Open intervals of UTC day `k`, cut into stretches of constant UTC offset. */
  private build(k: number): DayRecord {
    if (!Number.isFinite(k)) throw new RangeError('business hours: timestamp is not finite');
    const tz = this.timezone;
    const out: number[] = [];
    const dayEnd = (k + 1) * DAY;
    let s = k * DAY;
    while (s < dayEnd) {
      const off = tzOffset(s, tz);
      let e = dayEnd;
      // Zones change offset at most once a day, so comparing the ends finds every transition and
      // bisection over quarter hours places it with a handful of cached lookups.
      if (tzOffset(dayEnd - 1, tz) !== off) {
        let lo = s / QUARTER;
        let hi = dayEnd / QUARTER - 1;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (tzOffset(mid * QUARTER, tz) === off) lo = mid;
          else hi = mid;
        }
        e = hi * QUARTER;
      }
      // Within [s, e) local wall time is t + off; map each local date's intervals back to UTC.
      for (let d = Math.floor((s + off) / DAY); d * DAY < e + off; d++) {
        const h = this.overrides.get(d) ?? this.weekly[isoWeekday(d)];
        const base = d * DAY - off;
        for (let i = 0; i < h.length; i += 2) {
          const a = Math.max(base + h[i] * MINUTE, s);
          const b = Math.min(base + h[i + 1] * MINUTE, e);
          if (b <= a) continue;
          // 24:00 of one date meeting 00:00 of the next is one stretch of open time.
          if (out.length > 0 && out[out.length - 1] >= a) out[out.length - 1] = b;
          else out.push(a, b);
        }
      }
      s = e;
    }
    if (out.length === 0) return EMPTY_DAY;
    let total = 0;
    for (let i = 0; i < out.length; i += 2) total += out[i + 1] - out[i];
    return { iv: Float64Array.from(out), total };
  }
}

function overlap(iv: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let i = 0; i < iv.length; i += 2) {
    const s = iv[i];
    if (s >= to) break;
    const e = iv[i + 1];
    if (e > from) sum += Math.min(e, to) - Math.max(s, from);
  }
  return sum;
}

/** ISO weekday of a local date given as days since 1970-01-01 (a Thursday). */
function isoWeekday(d: number): number {
  return ((((d + 3) % 7) + 7) % 7) + 1;
}

function parseIntervals(list: readonly { start: string; end: string }[], where: string): number[] {
  const pairs: [number, number][] = [];
  for (const { start, end } of list) {
    const s = parseMinutes(start, where);
    const e = parseMinutes(end, where);
    if (s >= e) {
      throw new Error(
        `business hours, ${where}: interval ${start}–${end} does not end after it starts ` +
          '(write an overnight shift as 22:00–24:00 and 00:00–06:00 of the next day)',
      );
    }
    pairs.push([s, e]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const flat: number[] = [];
  for (const [s, e] of pairs) {
    if (flat.length > 0 && s <= flat[flat.length - 1])
      flat[flat.length - 1] = Math.max(flat[flat.length - 1], e);
    else flat.push(s, e);
  }
  return flat;
}

function parseMinutes(v: string, where: string): number {
  const m = HHMM.exec(v);
  const h = m ? Number(m[1]) : Number.NaN;
  const min = m ? Number(m[2]) : Number.NaN;
  if (!m || min > 59 || h > 24 || (h === 24 && min !== 0)) {
    throw new Error(`business hours, ${where}: expected HH:MM (00:00–24:00), got "${v}"`);
  }
  return h * 60 + min;
}

/** A YYYY-MM-DD date as days since 1970-01-01. */
function parseDate(v: string): number {
  const m = DATE.exec(v);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  // Date.UTC rolls 2025-02-30 over to March; the round trip rejects it.
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== v) {
    throw new Error(`business hours: override date must be a calendar date YYYY-MM-DD, got "${v}"`);
  }
  return t / DAY;
}
