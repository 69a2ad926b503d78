/** Saved mappings and user dictionaries in both databases, and dictionaries read from a directory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  listDictionaries,
  loadUserDictionaries,
  removeUserDictionary,
  saveUserDictionary,
} from '../../src/ingest/dictionaries.ts';
import {
  deleteMapping,
  listMappings,
  loadMapping,
  parseColumnArgs,
  saveMapping,
} from '../../src/ingest/mappings.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'cspulse-dicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('mappings and user dictionaries (%s)', (dialect) => {
  it('saves, replaces, lists and deletes a mapping; refuses unknown fields and names', async () => {
    const store = await freshStore(dialect);
    try {
      const cols = parseColumnArgs(['客服子账号=account', 'a=b=text', ' 备注 = ignore ']);
      expect(cols).toEqual({ 客服子账号: 'account', 'a=b': 'text', 备注: 'ignore' });
      await saveMapping(store, '淘宝', cols, '千牛');
      await saveMapping(store, '淘宝', { 聊天文本: 'text' });
      expect(await listMappings(store)).toEqual([
        expect.objectContaining({ name: '淘宝', columns: { 聊天文本: 'text' }, description: null }),
      ]);
      await expect(saveMapping(store, '京东', { 咚咚: 'agent_account' })).rejects.toThrow(
        /mapping "京东": unknown canonical field "agent_account"/,
      );
      await expect(saveMapping(store, '  ', { a: 'text' })).rejects.toThrow(/mapping name/);
      await expect(loadMapping(store, '天猫')).rejects.toThrow(/no saved mapping "天猫"; saved: 淘宝/);
      expect(await deleteMapping(store, '淘宝')).toBe(true);
      expect(await deleteMapping(store, '淘宝')).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('user dictionaries from the database and a directory, listed after the built-in ones', async () => {
    const store = await freshStore(dialect);
    try {
      const file = join(dir, `jd-${dialect}.json`);
      writeFileSync(file, JSON.stringify({ name: 'jd', headers: [{ header: '咚咚内容', field: 'text' }] }));
      await saveUserDictionary(store, file);
      const userDir = mkdtempSync(join(dir, 'user-'));
      writeFileSync(
        join(userDir, 'pdd.json'),
        JSON.stringify({
          name: 'pdd',
          label: { zh: '拼多多', en: 'Pinduoduo' },
          headers: [{ header: '买家昵称', field: 'customer.name' }],
        }),
      );
      expect((await loadUserDictionaries(store, userDir)).map((d) => d.name)).toEqual(['jd', 'pdd']);
      const listed = await listDictionaries(store, userDir);
      expect(listed[0]!.name).toBe('standard');
      expect(listed.slice(-2).map((d) => [d.name, d.origin])).toEqual([
        ['jd', 'database'],
        ['pdd', 'directory'],
      ]);
      expect(listed.find((d) => d.name === 'sobot')).toMatchObject({ origin: 'built-in' });
      await expect(loadUserDictionaries(store, join(dir, 'nope'))).rejects.toThrow(/--dictionaries .*nope/);
      writeFileSync(join(userDir, 'broken.json'), JSON.stringify({ name: 'Broken Name', headers: [] }));
      await expect(loadUserDictionaries(store, userDir)).rejects.toThrow(/broken\.json: name: /);
      expect(await removeUserDictionary(store, 'jd')).toBe(true);
      expect(await loadUserDictionaries(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
