/**
 * Time: every timestamp is stored as UTC epoch milliseconds (METRICS.md "Time"); reports bucket by
 * the organisation's reporting timezone. Platforms send seconds, milliseconds, numeric strings, ISO
 * strings with offsets and Twitter's "Tue Oct 31 22:10:47 +0000 2017"; all of them end here.
 */

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

// Epoch values below this are seconds (this is year 5138 in seconds, and 1973 in milliseconds).
const SECONDS_LIMIT = 1e11;

const TWITTER = /^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
const NAIVE =
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;
const ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parse a platform timestamp to epoch ms, or null when it is not one. Times without an offset
 * ("2025-11-05 14:30:00", as Chinese SaaS exports write them) are read in `naiveZone`.
 */
export function parseTimestamp(v: unknown, naiveZone = 'Asia/Shanghai'): number | null {
  if (typeof v === 'number') return fromEpoch(v);
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return fromEpoch(Number(s));
  let m = TWITTER.exec(s);
  if (m) {
    const mon = MONTHS[m[1]!.toLowerCase()];
    if (mon === undefined) return null;
    if (+m[2]! < 1 || +m[2]! > 31 || +m[3]! > 23 || +m[4]! > 59 || +m[5]! > 60) return null;
    const utc = Date.UTC(+m[9]!, mon, +m[2]!, +m[3]!, +m[4]!, +m[5]!);
    const off = (+m[7]! * 60 + +m[8]!) * 60_000 * (m[6] === '-' ? -1 : 1);
    return check(utc - off);
  }
  m = NAIVE.exec(s);
  if (m) {
    const [y, mo, d, h = '0', mi = '0', se = '0', ms = '0'] = m.slice(1).map((x) => x ?? undefined);
    const mon = +mo! - 1;
    if (mon < 0 || mon > 11 || +d! < 1 || +d! > 31 || +h > 23 || +mi > 59 || +se > 60) return null;
    const wall = Date.UTC(+y!, mon, +d!, +h, +mi, +se, +ms.padEnd(3, '0'));
    return check(wallToUtc(wall, naiveZone));
  }
  if (ZONED.test(s) || /[a-z]/i.test(s)) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? null : check(t);
  }
  return null;
}

function fromEpoch(n: number): number | null {
  if (!Number.isFinite(n) || n < 0) return null;
  return check(Math.round(n < SECONDS_LIMIT ? n * 1000 : n));
}

// 1990 … 2100: anything outside is a unit mix-up or garbage, not a customer-service event.
function check(ms: number): number | null {
  return ms >= 631_152_000_000 && ms < 4_102_444_800_000 ? ms : null;
}

// ---- Time zones -----------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const HOUR = 3_600_000;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Offset of `tz` from UTC at instant `ts`, in ms. Offsets only change on (at most quarter-)hour
 * boundaries, so one Intl call per hour of time is cached: bucketing a million events stays cheap.
 */
export function tzOffset(ts: number, tz: string): number {
  let cache = offsetCache.get(tz);
  if (!cache) {
    cache = new Map();
    offsetCache.set(tz, cache);
  }
  const hourKey = Math.floor(ts / (HOUR / 4));
  let off = cache.get(hourKey);
  if (off === undefined) {
    let f = formatters.get(tz);
    if (!f) {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      formatters.set(tz, f);
    }
    const probe = hourKey * (HOUR / 4);
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(probe)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    off = wall - probe;
    cache.set(hourKey, off);
  }
  return off;
}

/** The instant at which the clock in `tz` shows the wall time `wall` (a UTC-encoded wall clock). */
export function wallToUtc(wall: number, tz: string): number {
  let guess = wall - tzOffset(wall, tz);
  guess = wall - tzOffset(guess, tz);
  return guess;
}

/** Local calendar keys of an instant in the reporting timezone: what reports group by. */
export interface LocalKeys {
  /** YYYY-MM-DD */
  day: string;
  /** ISO week, Monday first: YYYY-Www */
  week: string;
  /** YYYY-MM */
  month: string;
  /** 0–23 */
  hour: number;
  /** ISO weekday 1 (Monday) … 7 (Sunday) */
  weekday: number;
}

export function localKeys(ts: number, tz: string): LocalKeys {
  const d = new Date(ts + tzOffset(ts, tz));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return {
    day: `${y}-${pad(m)}-${pad(day)}`,
    week: isoWeek(y, m, day, weekday),
    month: `${y}-${pad(m)}`,
    hour: d.getUTCHours(),
    weekday,
  };
}

function isoWeek(y: number, m: number, d: number, weekday: number): string {
  // The Thursday of this week decides the ISO year.
  const thursday = new Date(Date.UTC(y, m - 1, d + 4 - weekday));
  const wy = thursday.getUTCFullYear();
  const jan1 = Date.UTC(wy, 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / 86_400_000 / 7) + 1;
  return `${wy}-W${pad(week)}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Start of local day `YYYY-MM-DD` in `tz`, as epoch ms. */
export function localDayStart(day: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`expected a date YYYY-MM-DD, got "${day}"`);
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  if (Number.isNaN(wall) || new Date(wall).getUTCDate() !== +m[3]!)
    throw new Error(`not a calendar date: "${day}"`);
  return wallToUtc(wall, tz);
}

/** The local day after `day`. */
export function nextDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}
