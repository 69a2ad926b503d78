/**
 * Saved column mappings: for a CSV/XLSX export whose headers no dictionary knows, the user says once
 * which column is which canonical field (`cspulse mappings save 店铺导出 --column '客服名=account' …`)
 * and reuses it on every monthly file (`cspulse import FILE --mapping 店铺导出`). A mapping is applied
 * ahead of the field dictionary; columns it does not name are still matched by the dictionary.
 */
import { readFileSync } from 'node:fs';
import { IGNORE, mappingProblem } from '../connectors/csv/columns.ts';
import type { Store } from '../store/db.ts';

export interface SavedMapping {
  name: string;
  /** Source column header → canonical field (or `ignore`). */
  columns: Record<string, string>;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

function checkName(name: string): string {
  const n = name.trim();
  if (!n || n.length > 100) throw new Error(`mapping name: expected 1–100 characters, got "${name}"`);
  return n;
}

/** `--column '源列=canonical_field'` arguments; the last `=` splits (a header may contain one). */
export function parseColumnArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const at = a.lastIndexOf('=');
    if (at <= 0 || at === a.length - 1)
      throw new Error(
        `--column "${a}": expected 源列=canonical_field, e.g. "客服名=account" or "备注=${IGNORE}"`,
      );
    out[a.slice(0, at).trim()] = a.slice(at + 1).trim();
  }
  return out;
}

/** A mapping file: `{"columns": {...}, "description": "..."}` or just the columns object. */
export function readMappingFile(path: string): { columns: Record<string, string>; description?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const obj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!obj(doc)) throw new Error(`${path}: expected a JSON object of column → canonical field`);
  const columns = obj(doc.columns) ? doc.columns : doc;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(columns)) {
    if (k === 'description' && columns === doc) continue;
    if (typeof v !== 'string')
      throw new Error(`${path}: column "${k}": expected a canonical field name, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  const description = typeof doc.description === 'string' ? doc.description : undefined;
  return { columns: out, ...(description ? { description } : {}) };
}

export async function saveMapping(
  store: Store,
  name: string,
  columns: Record<string, string>,
  description?: string,
): Promise<SavedMapping> {
  const n = checkName(name);
  const problem = mappingProblem(columns);
  if (problem) throw new Error(`mapping "${n}": ${problem}`);
  const now = Date.now();
  await store.db
    .insertInto('mappings')
    .values({
      name: n,
      columns: JSON.stringify(columns),
      description: description ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ columns: JSON.stringify(columns), description: description ?? null, updated_at: now }),
    )
    .execute();
  return (await getMapping(store, n))!;
}

export async function getMapping(store: Store, name: string): Promise<SavedMapping | undefined> {
  const row = await store.db
    .selectFrom('mappings')
    .selectAll()
    .where('name', '=', name.trim())
    .executeTakeFirst();
  return row ? toMapping(row) : undefined;
}

/** The mapping, or an error that says how to find the right name. */
export async function loadMapping(store: Store, name: string): Promise<SavedMapping> {
  const m = await getMapping(store, name);
  if (!m) {
    const names = (await listMappings(store)).map((x) => x.name);
    throw new Error(
      `--mapping: no saved mapping "${name}"${names.length ? `; saved: ${names.join(', ')}` : ' (none saved yet: cspulse mappings save NAME --column 源列=field)'}`,
    );
  }
  return m;
}

export async function listMappings(store: Store): Promise<SavedMapping[]> {
  const rows = await store.db.selectFrom('mappings').selectAll().orderBy('name').execute();
  return rows.map(toMapping);
}

export async function deleteMapping(store: Store, name: string): Promise<boolean> {
  const r = await store.db.deleteFrom('mappings').where('name', '=', name.trim()).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

function toMapping(row: {
  name: string;
  columns: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}): SavedMapping {
  return {
    name: row.name,
    columns: JSON.parse(row.columns) as Record<string, string>,
    description: row.description,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}
