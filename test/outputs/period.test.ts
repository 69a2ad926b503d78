/** Periods: hand-checked calendar facts (ISO weeks, month ends, the reporting timezone's clock). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePeriod, periodDays, periodsBefore, previousPeriod } from '../../src/outputs/period.ts';

const SH = 'Asia/Shanghai';

describe('parsePeriod', () => {
  it('last-week is the ISO week (Monday first) before the one of `now`, in the reporting timezone', () => {
    // Monday 2025-11-10 08:00 in Shanghai = 00:00 UTC.
    const mondayMorning = Date.parse('2025-11-10T00:00:00Z');
    expect(parsePeriod('last-week', SH, mondayMorning)).toEqual({
      from: '2025-11-03',
      to: '2025-11-09',
      label: '2025-W45',
    });
    // 01:00 on Monday in Shanghai is still Sunday in UTC: Shanghai's last week is W45, UTC's W44.
    const earlyMonday = Date.parse('2025-11-09T17:00:00Z');
    expect(parsePeriod('last-week', SH, earlyMonday).label).toBe('2025-W45');
    expect(parsePeriod('last-week', 'UTC', earlyMonday)).toEqual({
      from: '2025-10-27',
      to: '2025-11-02',
      label: '2025-W44',
    });
  });

  it('last-month follows the local month, across a year end', () => {
    // 2025-12-01 00:30 in Shanghai is still 30 November in UTC.
    const t = Date.parse('2025-11-30T16:30:00Z');
    expect(parsePeriod('last-month', SH, t)).toEqual({
      from: '2025-11-01',
      to: '2025-11-30',
      label: '2025-11',
    });
    expect(parsePeriod('last-month', 'UTC', t).label).toBe('2025-10');
    expect(parsePeriod('last-month', SH, Date.parse('2026-01-15T00:00:00Z'))).toEqual({
      from: '2025-12-01',
      to: '2025-12-31',
      label: '2025-12',
    });
  });

  it('reads months, ISO weeks and ranges', () => {
    expect(parsePeriod('2024-02', SH)).toEqual({ from: '2024-02-01', to: '2024-02-29', label: '2024-02' });
    expect(parsePeriod('2025-02', SH).to).toBe('2025-02-28');
    // Week 1 of 2025 begins on Monday 30 December 2024 (the week holding 4 January).
    expect(parsePeriod('2025-W01', SH)).toEqual({ from: '2024-12-30', to: '2025-01-05', label: '2025-W01' });
    expect(parsePeriod('2020-W53', SH)).toEqual({ from: '2020-12-28', to: '2021-01-03', label: '2020-W53' });
    expect(parsePeriod('2025-11-03..2025-11-12', SH)).toEqual({
      from: '2025-11-03',
      to: '2025-11-12',
      label: '2025-11-03..2025-11-12',
    });
  });

  it('says what is wrong, and what it expects', () => {
    expect(() => parsePeriod('2025-13', SH)).toThrow(/01–12/);
    expect(() => parsePeriod('2021-W53', SH)).toThrow(/weeks 01–52/);
    expect(() => parsePeriod('2025-02-30..2025-03-01', SH)).toThrow(/"2025-02-30" is not a date/);
    expect(() => parsePeriod('2025-11-09..2025-11-01', SH)).toThrow(/first day is after the last/);
    expect(() => parsePeriod('yesterday-ish', SH)).toThrow(/expected: last-week, last-month, YYYY-MM/);
  });
});

describe('previousPeriod', () => {
  it('is the same calendar length before: months by months, weeks by weeks, ranges by days', () => {
    expect(previousPeriod(parsePeriod('2025-03', SH))).toEqual({
      from: '2025-02-01',
      to: '2025-02-28',
      label: '2025-02',
    });
    expect(previousPeriod(parsePeriod('2025-01', SH)).label).toBe('2024-12');
    expect(previousPeriod(parsePeriod('2025-W01', SH))).toEqual({
      from: '2024-12-23',
      to: '2024-12-29',
      label: '2024-W52',
    });
    expect(previousPeriod(parsePeriod('2025-11-03..2025-11-12', SH))).toEqual({
      from: '2025-10-24',
      to: '2025-11-02',
      label: '2025-10-24..2025-11-02',
    });
    expect(previousPeriod(parsePeriod('2025-03-01..2025-04-30', SH))).toEqual({
      from: '2025-01-01',
      to: '2025-02-28',
      label: '2025-01..2025-02',
    });
    expect(periodsBefore(parsePeriod('2025-W45', SH), 3).map((p) => p.label)).toEqual([
      '2025-W44',
      '2025-W43',
      '2025-W42',
    ]);
  });

  it('ends the day before the period starts and never overlaps it (any range)', () => {
    const day = fc
      .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) })
      .map((t) => new Date(Math.floor(t / 86_400_000) * 86_400_000).toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 400 }), (from, len) => {
        const to = new Date(Date.parse(`${from}T00:00:00Z`) + len * 86_400_000).toISOString().slice(0, 10);
        const p = parsePeriod(`${from}..${to}`, SH);
        const q = previousPeriod(p);
        const dayAfter = new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
        expect(dayAfter).toBe(p.from);
        // Whole months go back by months (28–31 days each), anything else by its own length.
        if (!/-01$/.test(p.from)) expect(periodDays(q)).toBe(periodDays(p));
      }),
    );
  });
});
