/**
 * Timestamp parsing for connectors: model/time.ts parseTimestamp plus a correct reading of Twitter's
 * "Tue Oct 31 22:10:47 +0000 2017". parseTimestamp's Twitter branch currently reads the year and the
 * offset from the wrong regex groups and returns null for every such string, so connectors convert
 * these themselves and hand the ingest epoch milliseconds.
 */
import { parseTimestamp } from '../../model/time.ts';

const TWITTER = /^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
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

/** Epoch ms of "Tue Oct 31 22:10:47 +0000 2017", or null. */
export function parseTwitterDate(s: string): number | null {
  const m = TWITTER.exec(s.trim());
  if (!m) return null;
  const mon = MONTHS[m[1]!.toLowerCase()];
  if (mon === undefined) return null;
  const [d, h, mi, se] = [+m[2]!, +m[3]!, +m[4]!, +m[5]!];
  if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return null;
  const utc = Date.UTC(+m[9]!, mon, d, h, mi, se);
  const off = (+m[7]! * 60 + +m[8]!) * 60_000 * (m[6] === '-' ? -1 : 1);
  const ms = utc - off;
  return ms >= 631_152_000_000 && ms < 4_102_444_800_000 ? ms : null;
}

/** parseTimestamp, with Twitter's format read correctly. */
export function parseTime(v: unknown, naiveZone?: string): number | null {
  if (typeof v === 'string') {
    const c = v.trimStart().charCodeAt(0);
    // Only strings starting with a letter can be Twitter dates; skip the regex for the rest.
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      const t = parseTwitterDate(v);
      if (t !== null) return t;
    }
  }
  return parseTimestamp(v, naiveZone);
}
