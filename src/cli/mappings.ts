/**
 * `cspulse mappings save NAME --column '源列=field' … [--from FILE]`, `mappings list [--json]`,
 * `mappings show NAME`, `mappings delete NAME`: saved column mappings for CSV/XLSX imports
 * (`cspulse import FILE --mapping NAME`).
 */
import type { Command } from 'commander';
import { CANONICAL_FIELDS } from '../connectors/csv/field-dictionary.ts';
import {
  deleteMapping,
  listMappings,
  loadMapping,
  parseColumnArgs,
  readMappingFile,
  saveMapping,
} from '../ingest/mappings.ts';
import { dbOption, withStore } from './export.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerMappings(program: Command): void {
  const mappings = program
    .command('mappings')
    .description('列映射 / saved column mappings for CSV/XLSX exports (cspulse import FILE --mapping NAME)');
  mappings
    .command('save <name>')
    .description(
      `保存映射 / save a mapping: --column '源列=field' (fields: ${CANONICAL_FIELDS.join(', ')}; or ignore)`,
    )
    .option('--column <源列=field>', 'a column and the canonical field it holds (repeatable)', collect, [])
    .option(
      '--from <file>',
      'the columns from a JSON file: {"columns": {"源列": "field"}, "description": "…"}',
    )
    .option('--description <text>', 'what the mapping is for')
    .addOption(dbOption())
    .action(
      async (name: string, o: { column: string[]; from?: string; description?: string; db?: string }) => {
        const file = o.from ? readMappingFile(o.from) : { columns: {} };
        const columns = { ...file.columns, ...parseColumnArgs(o.column) };
        await withStore(o.db, async (store) => {
          const m = await saveMapping(store, name, columns, o.description ?? file.description);
          console.log(`映射已保存 / mapping saved: ${m.name} (${Object.keys(m.columns).length} columns)`);
        });
      },
    );
  mappings
    .command('list')
    .description('已保存的映射 / saved mappings')
    .option('--json', 'print JSON')
    .addOption(dbOption())
    .action(async (o: { json?: boolean; db?: string }) => {
      await withStore(o.db, async (store) => {
        const all = await listMappings(store);
        if (o.json) {
          console.log(JSON.stringify({ mappings: all }, null, 2));
          return;
        }
        if (!all.length) console.log('(无 / none: cspulse mappings save NAME --column 源列=field)');
        for (const m of all)
          console.log(
            `${m.name}: ${Object.entries(m.columns)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}${m.description ? `  — ${m.description}` : ''}`,
          );
      });
    });
  mappings
    .command('show <name>')
    .description('显示映射 / one mapping as JSON (reusable with save --from)')
    .addOption(dbOption())
    .action(async (name: string, o: { db?: string }) => {
      await withStore(o.db, async (store) => {
        const m = await loadMapping(store, name);
        console.log(
          JSON.stringify(
            { columns: m.columns, ...(m.description ? { description: m.description } : {}) },
            null,
            2,
          ),
        );
      });
    });
  mappings
    .command('delete <name>')
    .description('删除映射 / delete a mapping')
    .addOption(dbOption())
    .action(async (name: string, o: { db?: string }) => {
      await withStore(o.db, async (store) => {
        if (!(await deleteMapping(store, name))) throw new Error(`no saved mapping "${name}"`);
        console.log(`映射已删除 / mapping deleted: ${name}`);
      });
    });
}
