/**
 * Reading fields of platform JSON that nothing guarantees the shape of: every helper returns
 * undefined rather than throwing, so a parser can say which field was wrong instead of crashing.
 */

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object field, or undefined. */
export function obj(v: unknown, key: string): Record<string, unknown> | undefined {
  if (!isObject(v)) return undefined;
  const x = v[key];
  return isObject(x) ? x : undefined;
}

/** A string field (numbers are written as strings: platforms switch between the two for ids). */
export function str(v: unknown, key: string): string | undefined {
  if (!isObject(v)) return undefined;
  const x = v[key];
  if (typeof x === 'string') return x;
  if (typeof x === 'number' && Number.isFinite(x)) return String(x);
  return undefined;
}

/** An id: a non-empty string or a finite number, as a string of at most 200 characters. */
export function idOf(v: unknown, key: string): string | undefined {
  const s = str(v, key);
  return s !== undefined && s.trim() !== '' && s.length <= 200 ? s : undefined;
}

export function arr(v: unknown, key: string): unknown[] | undefined {
  if (!isObject(v)) return undefined;
  const x = v[key];
  return Array.isArray(x) ? x : undefined;
}

/**
 * A time as epoch ms from any of the shapes one payload may mix: unix seconds (integer or float),
 * unix ms, their string forms, or an ISO string. Numbers below 1e11 are seconds (1e11 s is the
 * year 5138; 1e11 ms is 1973), so no real time is read in the wrong unit.
 */
export function timeMs(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return undefined;
    const ms = v < 1e11 ? Math.round(v * 1000) : Math.round(v);
    return plausible(ms);
  }
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return timeMs(Number(t));
  // Only full dates with a time and a zone: a bare date or a local time would be read in the
  // server's zone, which is a guess.
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) return undefined;
  return plausible(Date.parse(t.replace(' ', 'T')));
}

/** The window validateEvent accepts (1990–2100): outside it is a unit mix-up or garbage. */
function plausible(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 631_152_000_000 && ms < 4_102_444_800_000 ? ms : undefined;
}

/** A field's time, trying the keys in order. */
export function timeOf(v: unknown, ...keys: string[]): number | undefined {
  if (!isObject(v)) return undefined;
  for (const k of keys) {
    const t = timeMs(v[k]);
    if (t !== undefined) return t;
  }
  return undefined;
}

export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

/** Text of an HTML body (Intercom, Zendesk html_body): tags dropped, common entities decoded. */
export function htmlText(html: string): string {
  return html
    .slice(0, 200_000)
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|li|h\d|div)>/gi, '\n')
    .replace(/<[^>]{0,2000}>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A display name for the event: at most 200 characters, undefined when empty. */
export function nameOf(v: unknown, key = 'name'): string | undefined {
  const s = str(v, key)?.trim();
  return s ? clip(s, 200) : undefined;
}

/** A value for a reject reason, whatever it is (objects may even refuse to become strings). */
export function show(v: unknown, max = 60): string {
  try {
    return clip(typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v), max);
  } catch {
    return typeof v;
  }
}

/** A table lookup that never answers with Object.prototype's members ("constructor", "toString"). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
