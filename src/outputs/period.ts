/**
 * Report periods in the words people use: `last-week` (ISO week, Monday first), `last-month`,
 * `2025-11`, `2025-W45`, `2025-11-03..2025-11-09`. Days are local days of the reporting timezone,
 * so "last week" on a Monday 08:00 in Shanghai is the Shanghai week just ended, whatever the
 * server's own clock zone is.
 */
import { localKeys } from '../model/time.ts';
import type { Period } from './types.ts';

const DAY = 86_400_000;

export class PeriodError extends Error {
  constructor(input: string, why: { zh: string; en: string }) {
    super(
      `时间段 “${input}” 无效:${why.zh} / invalid period "${input}": ${why.en}. ` +
        '可用 / expected: last-week, last-month, YYYY-MM, YYYY-Www, YYYY-MM-DD..YYYY-MM-DD',
    );
    this.name = 'PeriodError';
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const utcDay = (day: string) => Date.parse(`${day}T00:00:00Z`);

function isCalendarDay(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false;
  const t = utcDay(day);
  return !Number.isNaN(t) && dayOf(t) === day;
}

export function monthPeriod(year: number, month: number): Period {
  const from = `${year}-${pad(month)}-01`;
  const to = dayOf(Date.UTC(year, month, 0));
  return { from, to, label: `${year}-${pad(month)}` };
}

/** Monday of ISO week `week` of ISO year `year`. */
function isoWeekMonday(year: number, week: number): number {
  // 4 January is always in week 1.
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Weekday = new Date(jan4).getUTCDay() || 7;
  return jan4 - (jan4Weekday - 1) * DAY + (week - 1) * 7 * DAY;
}

export function weekPeriod(year: number, week: number): Period {
  const monday = isoWeekMonday(year, week);
  return { from: dayOf(monday), to: dayOf(monday + 6 * DAY), label: `${year}-W${pad(week)}` };
}

function weeksInYear(year: number): number {
  // A year has 53 ISO weeks when 28 December falls in week 53.
  const dec28 = localKeys(Date.UTC(year, 11, 28), 'UTC').week;
  return Number(dec28.slice(6));
}

/** The period a rule names, relative to `now` in `timezone`. Throws PeriodError. */
export function parsePeriod(input: string, timezone: string, now = Date.now()): Period {
  const s = input.trim();
  const today = localKeys(now, timezone);
  if (s === 'last-week') {
    const monday = utcDay(today.day) - (today.weekday - 1) * DAY;
    const prev = localKeys(monday - 7 * DAY, 'UTC').week;
    return weekPeriod(Number(prev.slice(0, 4)), Number(prev.slice(6)));
  }
  if (s === 'last-month') {
    const [y, m] = today.month.split('-').map(Number) as [number, number];
    return m === 1 ? monthPeriod(y - 1, 12) : monthPeriod(y, m - 1);
  }
  let m = /^(\d{4})-(\d{2})$/.exec(s);
  if (m) {
    const month = Number(m[2]);
    if (month < 1 || month > 12)
      throw new PeriodError(input, { zh: '月份应为 01–12', en: 'the month must be 01–12' });
    return monthPeriod(Number(m[1]), month);
  }
  m = /^(\d{4})-W(\d{2})$/i.exec(s);
  if (m) {
    const year = Number(m[1]);
    const week = Number(m[2]);
    const max = weeksInYear(year);
    if (week < 1 || week > max)
      throw new PeriodError(input, {
        zh: `${year} 年只有第 01–${max} 周`,
        en: `ISO year ${year} has weeks 01–${max}`,
      });
    return weekPeriod(year, week);
  }
  m = /^(.+?)\.\.(.+)$/.exec(s);
  if (m) {
    const [from, to] = [m[1]!.trim(), m[2]!.trim()];
    for (const d of [from, to])
      if (!isCalendarDay(d))
        throw new PeriodError(input, {
          zh: `“${d}” 不是日期 YYYY-MM-DD`,
          en: `"${d}" is not a date YYYY-MM-DD`,
        });
    if (from > to)
      throw new PeriodError(input, { zh: '开始日期晚于结束日期', en: 'the first day is after the last' });
    return { from, to, label: `${from}..${to}` };
  }
  throw new PeriodError(input, { zh: '无法识别', en: 'not recognised' });
}

/** Days in a period, inclusive. */
export function periodDays(p: Period): number {
  return Math.round((utcDay(p.to) - utcDay(p.from)) / DAY) + 1;
}

/**
 * The period of equal length just before, for 环比: whole calendar months give the same number of
 * calendar months before (October for November, not 30 days); anything else shifts by its length.
 */
export function previousPeriod(p: Period): Period {
  const months = wholeMonths(p);
  if (months) {
    const [y, m] = p.from.split('-').map(Number) as [number, number];
    const start = new Date(Date.UTC(y, m - 1 - months, 1));
    const first = monthPeriod(start.getUTCFullYear(), start.getUTCMonth() + 1);
    const last = new Date(Date.UTC(y, m - 1, 0));
    const lastMonth = monthPeriod(last.getUTCFullYear(), last.getUTCMonth() + 1);
    return months === 1
      ? first
      : { from: first.from, to: lastMonth.to, label: `${first.label}..${lastMonth.label}` };
  }
  const n = periodDays(p);
  const from = dayOf(utcDay(p.from) - n * DAY);
  const to = dayOf(utcDay(p.from) - DAY);
  const week =
    n === 7 && new Date(utcDay(from)).getUTCDay() === 1 ? localKeys(utcDay(from), 'UTC').week : null;
  return { from, to, label: week ?? `${from}..${to}` };
}

/** The `count` periods before `p`, most recent first (the anomaly baseline). */
export function periodsBefore(p: Period, count: number): Period[] {
  const out: Period[] = [];
  let cur = p;
  for (let i = 0; i < count; i++) {
    cur = previousPeriod(cur);
    out.push(cur);
  }
  return out;
}

/** Number of whole calendar months the period spans exactly, or 0. */
function wholeMonths(p: Period): number {
  if (!p.from.endsWith('-01')) return 0;
  const next = dayOf(utcDay(p.to) + DAY);
  if (!next.endsWith('-01')) return 0;
  const [y1, m1] = p.from.split('-').map(Number) as [number, number];
  const [y2, m2] = next.split('-').map(Number) as [number, number];
  return (y2 - y1) * 12 + (m2 - m1);
}
