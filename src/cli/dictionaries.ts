/**
 * `cspulse sources dictionaries [--platform NAME] [--json]`: the field dictionaries the CSV/XLSX
 * import matches headers with (built-in, the database's, a directory's); `--add FILE` stores a user
 * dictionary in the database, `--remove NAME` drops one.
 */
import type { Command } from 'commander';
import {
  dictionaryDir,
  listDictionaries,
  removeUserDictionary,
  saveUserDictionary,
} from '../ingest/dictionaries.ts';
import { dbOption, withStore } from './export.ts';

export function registerDictionaries(program: Command): void {
  const sources = program.commands.find((c) => c.name() === 'sources');
  if (!sources) throw new Error('cli: the sources command must be registered before sources dictionaries');
  sources
    .command('dictionaries')
    .description(
      '字段词典 / the field dictionaries that recognise CSV/XLSX headers (built-in per vendor, and your own)',
    )
    .option(
      '--platform <name>',
      'one dictionary, with every header (standard, sobot, wecom_kf, meiqia, qiyu, easemob, …)',
    )
    .option('--json', 'print JSON')
    .option(
      '--add <file>',
      'store a dictionary file (JSON: {"name","label","headers":[{"header","field"}]}) in the database',
    )
    .option('--remove <name>', 'remove a dictionary stored in the database')
    .option(
      '--dictionaries <dir>',
      'also list the dictionaries of this directory (default: CSPULSE_DICTIONARIES)',
    )
    .addOption(dbOption())
    .action(
      async (o: {
        platform?: string;
        json?: boolean;
        add?: string;
        remove?: string;
        dictionaries?: string;
        db?: string;
      }) => {
        await withStore(o.db, async (store) => {
          if (o.add) {
            const d = await saveUserDictionary(store, o.add);
            console.log(`词典已保存 / dictionary saved: ${d.name} (${d.headers.length} headers)`);
            return;
          }
          if (o.remove) {
            if (!(await removeUserDictionary(store, o.remove)))
              throw new Error(
                `--remove: no dictionary "${o.remove}" in the database (built-in ones are files)`,
              );
            console.log(`词典已删除 / dictionary removed: ${o.remove}`);
            return;
          }
          const all = await listDictionaries(store, dictionaryDir(o.dictionaries));
          const shown = o.platform ? all.filter((d) => d.name === o.platform) : all;
          if (o.platform && !shown.length)
            throw new Error(
              `--platform: no dictionary "${o.platform}"; there are: ${all.map((d) => d.name).join(', ')}`,
            );
          if (o.json) {
            console.log(JSON.stringify({ dictionaries: shown }, null, 2));
            return;
          }
          for (const d of shown) {
            const label = d.label ? `${d.label.zh} / ${d.label.en}` : '';
            console.log(
              `${d.name}  ${label}  [${d.origin}] ${d.headers.length} headers${d.path ? `  ${d.path}` : ''}`,
            );
            if (!o.platform) continue;
            if (d.source) console.log(`  来源 source: ${d.source}`);
            for (const h of d.headers) {
              const codes = h.codes
                ? `  codes ${Object.entries(h.codes)
                    .map(([k, v]) => `${k}→${v}`)
                    .join(' ')}`
                : '';
              console.log(`  ${h.header} → ${h.field}${codes}${h.note ? `  (${h.note})` : ''}`);
            }
          }
        });
      },
    );
}
