/** Timestamps in every shape platforms send, and the local calendar keys reports group by. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localDayStart, localKeys, parseTimestamp } from '../../src/model/time.ts';

const T = Date.UTC(2017, 9, 31, 22, 10, 47);

describe('parseTimestamp', () => {
  it.each([
    [1509487847, T],
    ['1509487847', T],
    [1509487847000, T],
    ['1509487847000', T],
    [1509487847.0, T],
    ['2017-10-31T22:10:47Z', T],
    ['2017-11-01T06:10:47+08:00', T],
    ['Tue Oct 31 22:10:47 +0000 2017', T],
    ['Wed Nov 01 06:10:47 +0800 2017', T],
    ['Tue Oct 31 17:10:47 -0500 2017', T],
    ['2017-11-01 06:10:47', T], // naive: read in Asia/Shanghai
    ['2017/11/01 06:10:47', T],
  ])('%s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it('reads naive times in the zone it is given', () => {
    expect(parseTimestamp('2017-10-31 18:10:47', 'America/New_York')).toBe(T);
  });

  it.each([
    '',
    'yesterday',
    '2017-13-01',
    'Tue Foo 31 22:10:47 +0000 2017',
    -5,
    Number.NaN,
    '99999999999999999',
    {},
    null,
  ])('refuses %s', (input) => {
    expect(parseTimestamp(input)).toBeNull();
  });

  it('never throws and never returns a non-integer (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.double(),
          fc.integer(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        (v) => {
          const r = parseTimestamp(v);
          expect(r === null || Number.isInteger(r)).toBe(true);
        },
      ),
    );
  });
});

describe('localKeys', () => {
  it('buckets by the reporting timezone with ISO weeks', () => {
    // 2024-12-30 is a Monday in ISO week 2025-W01; 23:30 UTC on the 29th is already the 30th in Shanghai.
    expect(localKeys(Date.UTC(2024, 11, 29, 23, 30), 'Asia/Shanghai')).toEqual({
      day: '2024-12-30',
      week: '2025-W01',
      month: '2024-12',
      hour: 7,
      weekday: 1,
    });
    expect(localKeys(Date.UTC(2021, 0, 3, 12), 'UTC')).toMatchObject({ week: '2020-W53', weekday: 7 });
  });

  it('agrees with Intl for random instants and zones (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(
          'Asia/Shanghai',
          'America/New_York',
          'Europe/London',
          'Asia/Kolkata',
          'Australia/Lord_Howe',
        ),
        (ts, tz) => {
          const parts = Object.fromEntries(
            new Intl.DateTimeFormat('en-CA', {
              timeZone: tz,
              year: 'numeric',
              month: '2-digit',
              day: '2-digit',
              hour: '2-digit',
              hourCycle: 'h23',
            })
              .formatToParts(ts)
              .map((p) => [p.type, p.value]),
          );
          const k = localKeys(ts, tz);
          expect(k.day).toBe(`${parts.year}-${parts.month}-${parts.day}`);
          expect(k.hour).toBe(Number(parts.hour));
          expect(localDayStart(k.day, tz)).toBeLessThanOrEqual(ts);
        },
      ),
    );
  });
});
