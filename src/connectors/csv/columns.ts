/**
 * Header matching: which column of an export is which canonical field, through FIELD_DICTIONARY.
 * Exported on its own so it can be unit-tested and so an import can show the user, before anything is
 * stored, which columns were understood and which were left out.
 */
import {
  assembleDictionary,
  type CanonicalField,
  CANONICAL_FIELDS,
  FIELD_DICTIONARY,
  type FieldEntry,
  VENDOR_DICTIONARIES,
  type VendorDictionary,
} from './field-dictionary.ts';

/** Case-, space-, underscore-, dash-, dot-insensitive; full-width forms fold to half-width (NFKC). */
export function normaliseHeader(h: string): string {
  return h
    .normalize('NFKC')
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[\s_\-.·:/\\"'`*]+/g, '');
}

export interface HeaderMatch {
  field: CanonicalField;
  /** The dictionary synonym that matched. */
  synonym: string;
  vendor?: string;
  codes?: Readonly<Record<string, string>>;
  scale?: '5' | '10' | '3' | '100' | 'good_bad';
  /** Lower wins when two columns map to the same field. */
  rank: number;
}

const INDEX = buildIndex(FIELD_DICTIONARY);

/**
 * How the columns of one import are read beyond the built-in dictionary: a saved mapping
 * (source header → canonical field, or `ignore`) applied first, and user dictionaries added after
 * the built-in ones (a built-in synonym wins a tie).
 */
export interface ColumnOptions {
  mapping?: Readonly<Record<string, string>>;
  dictionaries?: readonly VendorDictionary[];
}

/** A mapping's target that drops the column. */
export const IGNORE = 'ignore';

/** Why a mapping is unusable (unknown fields, named), or null. */
export function mappingProblem(mapping: Readonly<Record<string, string>>): string | null {
  const keys = Object.keys(mapping);
  if (!keys.length) return 'the mapping has no columns';
  const empty = keys.filter((k) => normaliseHeader(k) === '');
  if (empty.length) return `empty column name${empty.length > 1 ? 's' : ''} in the mapping`;
  const unknown = [...new Set(Object.values(mapping).filter((f) => f !== IGNORE && !isCanonicalField(f)))];
  if (unknown.length)
    return `unknown canonical field${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; expected one of ${CANONICAL_FIELDS.join(', ')} or ${IGNORE}`;
  const seen = new Map<string, string>();
  for (const k of keys) {
    const n = normaliseHeader(k);
    if (seen.has(n)) return `columns "${seen.get(n)}" and "${k}" are the same header`;
    seen.set(n, k);
  }
  return null;
}

export function isCanonicalField(f: string): f is CanonicalField {
  return (CANONICAL_FIELDS as readonly string[]).includes(f);
}

const extraIndexes = new WeakMap<readonly VendorDictionary[], Map<string, HeaderMatch>>();

function indexFor(o: ColumnOptions | undefined): Map<string, HeaderMatch> {
  const extra = o?.dictionaries;
  if (!extra?.length) return INDEX;
  let index = extraIndexes.get(extra);
  if (!index) {
    index = buildIndex(assembleDictionary([...VENDOR_DICTIONARIES, ...extra]));
    extraIndexes.set(extra, index);
  }
  return index;
}

function mappedField(header: string, o: ColumnOptions | undefined): string | undefined {
  if (!o?.mapping) return undefined;
  const key = normaliseHeader(header);
  if (key === '') return undefined;
  for (const [from, to] of Object.entries(o.mapping)) if (normaliseHeader(from) === key) return to;
  return undefined;
}

function buildIndex(dict: readonly FieldEntry[]): Map<string, HeaderMatch> {
  const index = new Map<string, HeaderMatch>();
  for (const entry of dict) {
    const names = [...entry.zh, ...entry.en];
    names.forEach((synonym, rank) => {
      const key = normaliseHeader(synonym);
      if (!index.has(key)) index.set(key, { field: entry.field, synonym, rank });
    });
    (entry.vendor ?? []).forEach((v, j) => {
      const key = normaliseHeader(v.header);
      const existing = index.get(key);
      if (existing && existing.field !== entry.field) return;
      if (existing) {
        // The first vendor to claim a header keeps its codes.
        if (!existing.vendor) {
          existing.vendor = v.vendor;
          if (v.codes) existing.codes = v.codes;
          if (v.scale) existing.scale = v.scale;
        }
        return;
      }
      index.set(key, {
        field: entry.field,
        synonym: v.header,
        vendor: v.vendor,
        ...(v.codes ? { codes: v.codes } : {}),
        ...(v.scale ? { scale: v.scale } : {}),
        rank: names.length + j,
      });
    });
  }
  return index;
}

const UNIT_SUFFIX = /[（(【[][^（(【[]*[)）\]】]$/;

/** The canonical field a header means, or null. "发送时间(北京时间)" matches like "发送时间". */
export function matchHeader(header: string, o?: ColumnOptions): HeaderMatch | null {
  const mapped = mappedField(header, o);
  if (mapped !== undefined)
    return mapped === IGNORE || !isCanonicalField(mapped)
      ? null
      : { field: mapped, synonym: header, vendor: 'mapping', rank: -1 };
  const index = indexFor(o);
  const key = normaliseHeader(header);
  if (key === '') return null;
  const hit = index.get(key);
  if (hit) return hit;
  const stripped = header.normalize('NFKC').trim().replace(UNIT_SUFFIX, '');
  if (stripped !== header.normalize('NFKC').trim()) {
    const again = index.get(normaliseHeader(stripped));
    if (again) return again;
  }
  return null;
}

export interface ColumnBinding {
  index: number;
  header: string;
  codes?: Readonly<Record<string, string>>;
  scale?: '5' | '10' | '3' | '100' | 'good_bad';
}

export interface ColumnReport {
  recognised: { index: number; header: string; field: CanonicalField; synonym: string; vendor?: string }[];
  ignored: { index: number; header: string; reason: string }[];
  /** The column bound to each recognised field. */
  fields: Partial<Record<CanonicalField, ColumnBinding>>;
}

const SECONDARY: Partial<Record<CanonicalField, CanonicalField>> = Object.fromEntries(
  FIELD_DICTIONARY.filter((e) => e.secondary).map((e) => [e.field, e.secondary!]),
);

/** Which columns were recognised (and as what) and which were ignored (and why). */
export function matchColumns(headers: readonly string[], o?: ColumnOptions): ColumnReport {
  const report: ColumnReport = { recognised: [], ignored: [], fields: {} };
  const candidates: { index: number; header: string; m: HeaderMatch }[] = [];
  headers.forEach((raw, index) => {
    const header = (raw ?? '').trim();
    if (header === '') {
      report.ignored.push({ index, header, reason: 'empty header' });
      return;
    }
    const m = matchHeader(header, o);
    if (!m)
      report.ignored.push({
        index,
        header,
        reason: mappedField(header, o) === IGNORE ? 'ignored by the mapping' : 'not in the field dictionary',
      });
    else candidates.push({ index, header, m });
  });
  candidates.sort((a, b) => a.m.rank - b.m.rank || a.index - b.index);
  const leftovers: typeof candidates = [];
  for (const c of candidates) {
    if (report.fields[c.m.field]) leftovers.push(c);
    else bind(report, c.m.field, c);
  }
  for (const c of leftovers) {
    const secondary = SECONDARY[c.m.field];
    if (secondary && !report.fields[secondary]) {
      bind(report, secondary, c);
    } else {
      const winner = report.fields[c.m.field]!;
      report.ignored.push({
        index: c.index,
        header: c.header,
        reason: `duplicate: column "${winner.header}" already maps to ${c.m.field}`,
      });
    }
  }
  report.recognised.sort((a, b) => a.index - b.index);
  report.ignored.sort((a, b) => a.index - b.index);
  return report;
}

function bind(
  report: ColumnReport,
  field: CanonicalField,
  c: { index: number; header: string; m: HeaderMatch },
): void {
  report.fields[field] = {
    index: c.index,
    header: c.header,
    ...(c.m.codes && field === c.m.field ? { codes: c.m.codes } : {}),
    ...(c.m.scale && field === c.m.field ? { scale: c.m.scale } : {}),
  };
  report.recognised.push({
    index: c.index,
    header: c.header,
    field,
    synonym: c.m.synonym,
    ...(c.m.vendor ? { vendor: c.m.vendor } : {}),
  });
}

/** How many cells of a row look like known headers: picks the header row below a title row. */
export function headerScore(cells: readonly string[], o?: ColumnOptions): number {
  let n = 0;
  for (const c of cells) if (c && (matchHeader(c, o) || mappedField(c, o) !== undefined)) n++;
  return n;
}

/** Every synonym with the field it maps to: for listing the dictionary (`cspulse sources dictionaries`). */
export function listDictionary(): { field: CanonicalField; description: string; headers: string[] }[] {
  return FIELD_DICTIONARY.map((e) => ({
    field: e.field,
    description: e.description,
    headers: [...new Set([...e.zh, ...e.en, ...(e.vendor ?? []).map((v) => `${v.header} (${v.vendor})`)])],
  }));
}
