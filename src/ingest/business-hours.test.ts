import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusinessHours } from '../model/settings.ts';
import { tzOffset } from '../model/time.ts';
import { BusinessCalendar } from './business-hours.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const nineToSix = [{ start: '09:00', end: '18:00' }];
const weekdays = (hours: { start: string; end: string }[]): BusinessHours['weekly'] => ({
  '1': hours,
  '2': hours,
  '3': hours,
  '4': hours,
  '5': hours,
});
const allWeek = (hours: { start: string; end: string }[]): BusinessHours['weekly'] => ({
  ...weekdays(hours),
  '6': hours,
  '7': hours,
});
/** Shanghai wall time (no DST, UTC+8) to epoch ms. */
const sh = (wall: string) => Date.parse(`${wall.replace(' ', 'T')}:00+08:00`);
const utc = (iso: string) => Date.parse(`${iso}Z`);

describe('BusinessCalendar, Asia/Shanghai by hand', () => {
  const std = new BusinessCalendar({ weekly: weekdays(nineToSix), overrides: [] }, 'Asia/Shanghai');

  it('counts Friday 17:30 → Monday 09:30 as one hour', () => {
    // 2025-11-07 is a Friday.
    expect(std.businessMs(sh('2025-11-07 17:30'), sh('2025-11-10 09:30'))).toBe(HOUR);
  });

  it('counts a night entirely outside hours as zero', () => {
    expect(std.businessMs(sh('2025-11-04 19:00'), sh('2025-11-05 08:00'))).toBe(0);
    expect(std.isOpen(sh('2025-11-04 23:00'))).toBe(false);
  });

  it('returns 0 for empty and reversed intervals', () => {
    expect(std.businessMs(sh('2025-11-05 10:00'), sh('2025-11-05 10:00'))).toBe(0);
    expect(std.businessMs(sh('2025-11-05 11:00'), sh('2025-11-05 10:00'))).toBe(0);
  });

  it('counts whole weeks', () => {
    expect(std.businessMs(sh('2025-11-03 00:00'), sh('2025-11-17 00:00'))).toBe(10 * 9 * HOUR);
  });

  it('closes a weekday holiday override', () => {
    const cal = new BusinessCalendar(
      { weekly: weekdays(nineToSix), overrides: [{ date: '2025-10-01', hours: [], note: '国庆节' }] },
      'Asia/Shanghai',
    );
    // Tue 09:00 → Thu 12:00 with Wednesday a holiday: 9 h + 0 + 3 h.
    expect(cal.businessMs(sh('2025-09-30 09:00'), sh('2025-10-02 12:00'))).toBe(12 * HOUR);
    expect(cal.isOpen(sh('2025-10-01 10:00'))).toBe(false);
    expect(cal.nextOpen(sh('2025-09-30 18:00'))).toBe(sh('2025-10-02 09:00'));
  });

  it('opens a 调休 make-up Saturday', () => {
    const cal = new BusinessCalendar(
      { weekly: weekdays(nineToSix), overrides: [{ date: '2025-10-11', hours: nineToSix, note: '调休' }] },
      'Asia/Shanghai',
    );
    // Fri 17:00 → Mon 10:00: 1 h Friday + 9 h Saturday + 1 h Monday.
    expect(cal.businessMs(sh('2025-10-10 17:00'), sh('2025-10-13 10:00'))).toBe(11 * HOUR);
    expect(cal.isOpen(sh('2025-10-11 12:00'))).toBe(true);
    expect(cal.isOpen(sh('2025-10-12 12:00'))).toBe(false);
    expect(cal.nextOpen(sh('2025-10-10 18:00'))).toBe(sh('2025-10-11 09:00'));
  });

  it('leaves the lunch break out of a two-interval day', () => {
    const lunch = [
      { start: '09:00', end: '12:00' },
      { start: '13:30', end: '18:00' },
    ];
    const cal = new BusinessCalendar({ weekly: weekdays(lunch), overrides: [] }, 'Asia/Shanghai');
    expect(cal.businessMs(sh('2025-11-05 11:00'), sh('2025-11-05 14:00'))).toBe(1.5 * HOUR);
    expect(cal.businessMs(sh('2025-11-05 12:10'), sh('2025-11-05 13:20'))).toBe(0);
    expect(cal.businessMs(sh('2025-11-05 00:00'), sh('2025-11-06 00:00'))).toBe(7.5 * HOUR);
    expect(cal.isOpen(sh('2025-11-05 12:30'))).toBe(false);
    expect(cal.isOpen(sh('2025-11-05 13:30'))).toBe(true);
    expect(cal.isOpen(sh('2025-11-05 12:00'))).toBe(false);
    expect(cal.nextOpen(sh('2025-11-05 12:00'))).toBe(sh('2025-11-05 13:30'));
  });

  it('merges unsorted and overlapping intervals', () => {
    const messy = [
      { start: '13:00', end: '18:00' },
      { start: '09:00', end: '12:00' },
      { start: '11:00', end: '14:00' },
      { start: '10:00', end: '10:30' },
    ];
    const cal = new BusinessCalendar({ weekly: weekdays(messy), overrides: [] }, 'Asia/Shanghai');
    expect(cal.businessMs(sh('2025-11-05 00:00'), sh('2025-11-06 00:00'))).toBe(9 * HOUR);
  });

  it('joins an interval ending at 24:00 to one starting at 00:00 the next day', () => {
    const cal = new BusinessCalendar(
      {
        weekly: { '6': [{ start: '20:00', end: '24:00' }], '7': [{ start: '00:00', end: '02:00' }] },
        overrides: [],
      },
      'Asia/Shanghai',
    );
    expect(cal.businessMs(sh('2025-11-08 23:00'), sh('2025-11-09 01:00'))).toBe(2 * HOUR);
    expect(cal.businessMs(sh('2025-11-08 00:00'), sh('2025-11-10 00:00'))).toBe(6 * HOUR);
    expect(cal.isOpen(sh('2025-11-08 23:59'))).toBe(true);
    expect(cal.isOpen(sh('2025-11-09 00:00'))).toBe(true);
    expect(cal.isOpen(sh('2025-11-09 02:00'))).toBe(false);
    expect(cal.nextOpen(sh('2025-11-08 19:00'))).toBe(sh('2025-11-08 20:00'));
  });

  it('finds the next opening for offline messages', () => {
    expect(std.nextOpen(sh('2025-11-07 18:30'))).toBe(sh('2025-11-10 09:00'));
    expect(std.nextOpen(sh('2025-11-07 18:00'))).toBe(sh('2025-11-10 09:00'));
    expect(std.nextOpen(sh('2025-11-07 10:15'))).toBe(sh('2025-11-07 10:15'));
    expect(std.nextOpen(sh('2025-11-10 08:59'))).toBe(sh('2025-11-10 09:00'));
  });

  it('gives null from nextOpen when nothing opens within 366 days', () => {
    const never = new BusinessCalendar({ weekly: {}, overrides: [] }, 'Asia/Shanghai');
    expect(never.nextOpen(sh('2025-11-07 18:30'))).toBeNull();
    expect(never.businessMs(sh('2025-01-01 00:00'), sh('2026-01-01 00:00'))).toBe(0);
    const once = new BusinessCalendar(
      { weekly: {}, overrides: [{ date: '2027-01-01', hours: nineToSix }] },
      'Asia/Shanghai',
    );
    expect(once.nextOpen(sh('2025-11-07 18:30'))).toBeNull();
    expect(once.nextOpen(sh('2026-01-01 09:00'))).toBe(sh('2027-01-01 09:00'));
  });

  it('rejects an interval that does not end after it starts, naming the weekday', () => {
    const overnight = { weekly: { '3': [{ start: '22:00', end: '06:00' }] }, overrides: [] };
    expect(() => new BusinessCalendar(overnight, 'Asia/Shanghai')).toThrow(
      /weekday 3 \(Wednesday\).*22:00–06:00/,
    );
    const empty = {
      weekly: {},
      overrides: [{ date: '2025-10-11', hours: [{ start: '09:00', end: '09:00' }] }],
    };
    expect(() => new BusinessCalendar(empty, 'Asia/Shanghai')).toThrow(/override 2025-10-11/);
  });

  it('rejects bad times, dates, duplicate overrides and unknown zones', () => {
    const bad =
      (hours: BusinessHours, tz = 'Asia/Shanghai') =>
      () =>
        new BusinessCalendar(hours, tz);
    expect(bad({ weekly: { '1': [{ start: '9:00', end: '18:00' }] }, overrides: [] })).toThrow(/HH:MM/);
    expect(bad({ weekly: { '1': [{ start: '09:00', end: '24:30' }] }, overrides: [] })).toThrow(/HH:MM/);
    expect(bad({ weekly: {}, overrides: [{ date: '2025-02-30', hours: [] }] })).toThrow(/calendar date/);
    expect(
      bad({
        weekly: {},
        overrides: [
          { date: '2025-10-01', hours: [] },
          { date: '2025-10-01', hours: nineToSix },
        ],
      }),
    ).toThrow(/2025-10-01 is listed twice/);
    expect(bad({ weekly: {}, overrides: [] }, 'Mars/Olympus')).toThrow(/time zone/);
  });

  it('rejects non-finite timestamps instead of looping or guessing', () => {
    expect(() => std.businessMs(Number.NaN, 0)).toThrow(RangeError);
    expect(() => std.businessMs(0, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => std.isOpen(Number.NaN)).toThrow(RangeError);
    expect(() => std.nextOpen(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('BusinessCalendar across DST', () => {
  const sunday = (hours: { start: string; end: string }[]) =>
    new BusinessCalendar({ weekly: { '7': hours }, overrides: [] }, 'America/New_York');

  it('a whole spring-forward Sunday lasts 23 h and a fall-back Sunday 25 h (New York)', () => {
    const cal = sunday([{ start: '00:00', end: '24:00' }]);
    // 2025-03-09: 00:00 EST = 05:00Z, 24:00 EDT = 04:00Z next day.
    expect(cal.businessMs(utc('2025-03-09T00:00'), utc('2025-03-11T00:00'))).toBe(23 * HOUR);
    // 2025-11-02: 00:00 EDT = 04:00Z, 24:00 EST = 05:00Z next day.
    expect(cal.businessMs(utc('2025-11-02T00:00'), utc('2025-11-04T00:00'))).toBe(25 * HOUR);
  });

  it('never opens a wall time the clock skips', () => {
    // 02:30–10:00 on 2025-03-09: 02:30 does not exist, so open from 03:00 EDT (07:00Z) to 14:00Z.
    const cal = sunday([{ start: '02:30', end: '10:00' }]);
    expect(cal.businessMs(utc('2025-03-09T00:00'), utc('2025-03-10T00:00'))).toBe(7 * HOUR);
    expect(cal.isOpen(utc('2025-03-09T06:59'))).toBe(false);
    expect(cal.isOpen(utc('2025-03-09T07:00'))).toBe(true);
    expect(cal.nextOpen(utc('2025-03-09T05:00'))).toBe(utc('2025-03-09T07:00'));
    // 01:00–04:00 spans the gap: 01:00 EST (06:00Z) to 04:00 EDT (08:00Z).
    expect(
      sunday([{ start: '01:00', end: '04:00' }]).businessMs(utc('2025-03-09T00:00'), utc('2025-03-10T00:00')),
    ).toBe(2 * HOUR);
  });

  it('opens a repeated wall time both times', () => {
    // 01:00–03:00 on 2025-11-02 runs from 01:00 EDT (05:00Z) to 03:00 EST (08:00Z).
    expect(
      sunday([{ start: '01:00', end: '03:00' }]).businessMs(utc('2025-11-02T00:00'), utc('2025-11-03T00:00')),
    ).toBe(3 * HOUR);
    // 01:30–10:00: open 01:30–02:00 EDT, closed while the clock rereads 01:00–01:30 EST, then open.
    const cal = sunday([{ start: '01:30', end: '10:00' }]);
    expect(cal.businessMs(utc('2025-11-02T00:00'), utc('2025-11-03T00:00'))).toBe(9 * HOUR);
    expect(cal.isOpen(utc('2025-11-02T05:45'))).toBe(true);
    expect(cal.isOpen(utc('2025-11-02T06:15'))).toBe(false);
    expect(cal.isOpen(utc('2025-11-02T06:30'))).toBe(true);
    expect(cal.nextOpen(utc('2025-11-02T06:00'))).toBe(utc('2025-11-02T06:30'));
  });

  it('keeps a 9–18 weekday at 9 h on both sides of the change', () => {
    const cal = new BusinessCalendar({ weekly: weekdays(nineToSix), overrides: [] }, 'America/New_York');
    // Fri 2025-03-07 09:00 EST (14:00Z) → Mon 2025-03-10 18:00 EDT (22:00Z): 18 h, calendar 81 h.
    expect(cal.businessMs(utc('2025-03-07T14:00'), utc('2025-03-10T22:00'))).toBe(18 * HOUR);
    expect(cal.isOpen(utc('2025-03-10T13:00'))).toBe(true); // 09:00 EDT
    expect(cal.isOpen(utc('2025-03-10T12:59'))).toBe(false);
    expect(cal.isOpen(utc('2025-03-07T13:59'))).toBe(false); // 08:59 EST
  });

  it('handles Europe/London, where the change is at 01:00 UTC', () => {
    const cal = new BusinessCalendar(
      { weekly: { '7': [{ start: '00:00', end: '24:00' }] }, overrides: [] },
      'Europe/London',
    );
    expect(cal.businessMs(utc('2025-03-29T00:00'), utc('2025-04-01T00:00'))).toBe(23 * HOUR);
    expect(cal.businessMs(utc('2025-10-25T00:00'), utc('2025-10-28T00:00'))).toBe(25 * HOUR);
  });
});

// ---- Properties ------------------------------------------------------------------------------

// Zones with whole-hour, half-hour and 45-minute offsets, 30-minute DST (Lord Howe) and transitions
// at local midnight (Santiago).
const ZONES = [
  'Asia/Shanghai',
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Santiago',
  'Asia/Kathmandu',
  'America/St_Johns',
];
// Days on which some of ZONES change offset in 2025, to put random intervals near transitions.
const TRANSITIONS = [
  '2025-03-09',
  '2025-03-30',
  '2025-04-05',
  '2025-04-06',
  '2025-09-07',
  '2025-09-27',
  '2025-10-04',
  '2025-10-26',
  '2025-11-02',
].map((d) => Date.parse(`${d}T00:00:00Z`));
const RANGE_START = Date.UTC(2024, 0, 1);
const RANGE_END = Date.UTC(2027, 0, 1);

const fmt = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const intervalArb = fc
  .tuple(fc.integer({ min: 0, max: 1440 }), fc.integer({ min: 0, max: 1440 }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => ({ start: fmt(Math.min(a, b)), end: fmt(Math.max(a, b)) }));
const dayHoursArb = fc.array(intervalArb, { maxLength: 3 });
const weeklyArb: fc.Arbitrary<BusinessHours['weekly']> = fc.record(
  {
    '1': dayHoursArb,
    '2': dayHoursArb,
    '3': dayHoursArb,
    '4': dayHoursArb,
    '5': dayHoursArb,
    '6': dayHoursArb,
    '7': dayHoursArb,
  },
  { requiredKeys: [] },
);
/** Minute-aligned instants, uniformly over three years or within three days of a DST change. */
const instantArb = fc.oneof(
  fc.integer({ min: RANGE_START / MIN, max: RANGE_END / MIN }).map((m) => m * MIN),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 }))
    .map(([t, m]) => t + m * MIN),
);
/** A random schedule whose overrides fall on the days around `near`, so that they matter. */
const scheduleArb = (near: number): fc.Arbitrary<BusinessHours> =>
  fc
    .record({
      weekly: weeklyArb,
      overrides: fc.uniqueArray(fc.record({ day: fc.integer({ min: -2, max: 5 }), hours: dayHoursArb }), {
        selector: (o) => o.day,
        maxLength: 3,
      }),
    })
    .map(({ weekly, overrides }) => ({
      weekly,
      overrides: overrides.map((o) => ({
        date: new Date(near + o.day * DAY).toISOString().slice(0, 10),
        hours: o.hours,
      })),
    }));
const caseArb = fc
  .tuple(fc.constantFrom(...ZONES), instantArb)
  .chain(([tz, from]) =>
    fc.record({ tz: fc.constant(tz), from: fc.constant(from), hours: scheduleArb(from) }),
  );

/** The definition, minute by minute: read the wall clock, pick the date's hours, test each interval. */
function referenceOpen(hours: BusinessHours, tz: string, t: number): boolean {
  const wall = new Date(t + tzOffset(t, tz));
  const date = wall.toISOString().slice(0, 10);
  const weekday = String(wall.getUTCDay() === 0 ? 7 : wall.getUTCDay()) as keyof BusinessHours['weekly'];
  const list = hours.overrides.find((o) => o.date === date)?.hours ?? hours.weekly[weekday] ?? [];
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return list.some((i) => toMin(i.start) <= minute && minute < toMin(i.end));
}

describe('BusinessCalendar properties', () => {
  it('agrees with a minute-by-minute reference on random schedules and intervals', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 3 * 24 * 60 }), ({ tz, from, hours }, minutes) => {
        const cal = new BusinessCalendar(hours, tz);
        const to = from + minutes * MIN;
        let expected = 0;
        for (let t = from; t < to; t += MIN) {
          const open = referenceOpen(hours, tz, t);
          if (open) expected += MIN;
          if (cal.isOpen(t) !== open) return false;
        }
        expect(cal.businessMs(from, to)).toBe(expected);
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the reference on nextOpen', () => {
    fc.assert(
      fc.property(caseArb, ({ tz, from, hours }) => {
        const cal = new BusinessCalendar(hours, tz);
        const next = cal.nextOpen(from);
        // Scan a week by hand; beyond that only check the result is consistent.
        let t = from;
        while (t < from + 7 * DAY && !referenceOpen(hours, tz, t)) t += MIN;
        if (t < from + 7 * DAY) expect(next).toBe(t);
        else if (next !== null) {
          expect(next).toBeGreaterThanOrEqual(from + 7 * DAY);
          expect(cal.isOpen(next)).toBe(true);
          expect(cal.businessMs(from, next)).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is additive: businessMs(a, c) = businessMs(a, b) + businessMs(b, c)', () => {
    const msArb = fc.integer({ min: RANGE_START, max: RANGE_START + 40 * DAY });
    fc.assert(
      fc.property(caseArb, msArb, msArb, msArb, ({ tz, hours }, x, y, z) => {
        const [a, b, c] = [x, y, z].sort((p, q) => p - q) as [number, number, number];
        const cal = new BusinessCalendar(hours, tz);
        expect(cal.businessMs(a, c)).toBe(cal.businessMs(a, b) + cal.businessMs(b, c));
      }),
      { numRuns: 500 },
    );
  });

  it('is additive near DST changes at millisecond precision', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.array(fc.integer({ min: -3 * DAY, max: 3 * DAY }), { minLength: 3, maxLength: 3 }),
        (c, ds) => {
          const [a, b, d] = ds.map((x) => c.from + x).sort((p, q) => p - q) as [number, number, number];
          const cal = new BusinessCalendar(c.hours, c.tz);
          expect(cal.businessMs(a, d)).toBe(cal.businessMs(a, b) + cal.businessMs(b, d));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stays within 0 <= businessMs(a, b) <= b - a', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 30 * DAY }), ({ tz, from, hours }, len) => {
        const cal = new BusinessCalendar(hours, tz);
        const ms = cal.businessMs(from + 17, from + 17 + len);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(len);
      }),
      { numRuns: 500 },
    );
  });

  it('gives b - a for a 24/7 schedule in every zone, DST included', () => {
    const cals = ZONES.map(
      (tz) =>
        new BusinessCalendar({ weekly: allWeek([{ start: '00:00', end: '24:00' }]), overrides: [] }, tz),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...cals),
        instantArb,
        fc.integer({ min: 0, max: 60 * DAY }),
        (cal, a, len) => {
          expect(cal.businessMs(a + 123, a + 123 + len)).toBe(len);
          expect(cal.isOpen(a + 123)).toBe(true);
          expect(cal.nextOpen(a + 123)).toBe(a + 123);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('isOpen agrees with businessMs over a one-minute window', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: DAY }), ({ tz, from, hours }, shift) => {
        const cal = new BusinessCalendar(hours, tz);
        // Schedules and offsets are whole minutes, so a minute-aligned window is all open or all closed.
        const t = from + Math.floor(shift / MIN) * MIN;
        expect(cal.businessMs(t, t + MIN)).toBe(cal.isOpen(t) ? MIN : 0);
        const u = from + shift;
        expect(cal.businessMs(u, u + 1)).toBe(cal.isOpen(u) ? 1 : 0);
      }),
      { numRuns: 1000 },
    );
  });

  it('nextOpen returns an open instant with no business time before it', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: MIN - 1 }), ({ tz, from, hours }, ms) => {
        const cal = new BusinessCalendar(hours, tz);
        const t = from + ms;
        const next = cal.nextOpen(t);
        if (next === null) {
          expect(cal.businessMs(t, t + 366 * DAY)).toBe(0);
        } else {
          expect(next).toBeGreaterThanOrEqual(t);
          expect(cal.isOpen(next)).toBe(true);
          expect(cal.businessMs(t, next)).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
