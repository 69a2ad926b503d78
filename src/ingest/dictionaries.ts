/**
 * Field dictionaries: the built-in ones (src/connectors/csv/dictionaries/*.json) and the user's, in
 * the same format — stored in the database (`cspulse sources dictionaries --add FILE`) or read from
 * a directory (`--dictionaries DIR`, or CSPULSE_DICTIONARIES). User dictionaries extend every
 * CSV/XLSX import after the built-in ones: a built-in synonym wins a tie.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DICTIONARY_DIR,
  FIELD_DICTIONARY,
  parseDictionaryFile,
  STANDARD_DICTIONARY,
  VENDOR_DICTIONARIES,
  type VendorDictionary,
  vendorDictionarySchema,
} from '../connectors/csv/field-dictionary.ts';
import type { Store } from '../store/db.ts';

export interface DictionaryListing {
  name: string;
  label: { zh: string; en: string } | null;
  origin: 'built-in' | 'database' | 'directory';
  /** The file it was read from (built-in, directory), or null (database). */
  path: string | null;
  source: string | null;
  headers: { header: string; field: string; codes?: Record<string, string>; note?: string }[];
}

/** The user dictionaries' directory: the flag, else CSPULSE_DICTIONARIES, else none. */
export function dictionaryDir(flag?: string): string | undefined {
  return flag || process.env.CSPULSE_DICTIONARIES || undefined;
}

export async function saveUserDictionary(store: Store, path: string): Promise<VendorDictionary> {
  const d = parseDictionaryFile(path);
  const now = Date.now();
  await store.db
    .insertInto('field_dictionaries')
    .values({ name: d.name, doc: JSON.stringify(d), updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ doc: JSON.stringify(d), updated_at: now }))
    .execute();
  return d;
}

export async function removeUserDictionary(store: Store, name: string): Promise<boolean> {
  const r = await store.db.deleteFrom('field_dictionaries').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

async function fromDatabase(store: Store): Promise<VendorDictionary[]> {
  const rows = await store.db.selectFrom('field_dictionaries').selectAll().orderBy('name').execute();
  return rows.map((r) => {
    const parsed = vendorDictionarySchema.safeParse(JSON.parse(r.doc));
    if (!parsed.success)
      throw new Error(
        `user dictionary "${r.name}" in the database is invalid: ${parsed.error.issues[0]!.message}`,
      );
    return parsed.data;
  });
}

function fromDirectory(dir: string): { d: VendorDictionary; path: string }[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`--dictionaries ${dir}: ${(e as Error).message}`);
  }
  return names
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ d: parseDictionaryFile(join(dir, f)), path: join(dir, f) }));
}

/** The user dictionaries an import applies: the database's, then the directory's. */
export async function loadUserDictionaries(store: Store, dir?: string): Promise<VendorDictionary[]> {
  return [...(await fromDatabase(store)), ...(dir ? fromDirectory(dir).map((x) => x.d) : [])];
}

/** Every dictionary, built-in first, for `cspulse sources dictionaries`. */
export async function listDictionaries(store: Store, dir?: string): Promise<DictionaryListing[]> {
  const headersOf = (d: VendorDictionary) =>
    d.headers.map((h) => ({
      header: h.header,
      field: h.field,
      ...(h.codes ? { codes: h.codes } : {}),
      ...(h.note ? { note: h.note } : {}),
    }));
  const standard: DictionaryListing = {
    name: STANDARD_DICTIONARY.name,
    label: STANDARD_DICTIONARY.label,
    origin: 'built-in',
    path: join(DICTIONARY_DIR, 'standard.json'),
    source: null,
    headers: FIELD_DICTIONARY.flatMap((e) =>
      [...e.zh, ...e.en].map((header) => ({ header, field: e.field })),
    ),
  };
  const of = (
    d: VendorDictionary,
    origin: DictionaryListing['origin'],
    path: string | null,
  ): DictionaryListing => ({
    name: d.name,
    label: d.label ?? null,
    origin,
    path,
    source: d.source ?? null,
    headers: headersOf(d),
  });
  return [
    standard,
    ...VENDOR_DICTIONARIES.map((d) => of(d, 'built-in', join(DICTIONARY_DIR, `${d.name}.json`))),
    ...(await fromDatabase(store)).map((d) => of(d, 'database', null)),
    ...(dir ? fromDirectory(dir).map(({ d, path }) => of(d, 'directory', path)) : []),
  ];
}
