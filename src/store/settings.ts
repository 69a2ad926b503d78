/** The organisation's settings document: one row, validated on the way in and out. */
import { parseSettings, type Settings } from '../model/settings.ts';
import type { Store } from './db.ts';

export async function loadSettings(store: Store): Promise<Settings> {
  const row = await store.db.selectFrom('settings').select('doc').where('id', '=', 1).executeTakeFirst();
  return parseSettings(row ? JSON.parse(row.doc) : {});
}

export async function saveSettings(store: Store, settings: Settings): Promise<void> {
  const doc = JSON.stringify(parseSettings(settings));
  await store.db
    .insertInto('settings')
    .values({ id: 1, doc, updated_at: Date.now() })
    .onConflict((oc) => oc.column('id').doUpdateSet({ doc, updated_at: Date.now() }))
    .execute();
}
