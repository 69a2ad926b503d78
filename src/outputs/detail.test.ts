import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../model/settings.ts';
import type { Store } from '../store/db.ts';
import { DIALECTS, freshStore } from '../../test/support/stores.ts';
import { type DetailQuery, type DetailRow, detailPages, resolvedFlag } from './detail.ts';
import { loadMonth } from './xlsx/testing.ts';

async function all(
  store: Store,
  q: Partial<DetailQuery> = {},
): Promise<{ pages: number; rows: DetailRow[] }> {
  let pages = 0;
  const rows: DetailRow[] = [];
  for await (const p of detailPages(store, {
    period: { from: '2025-11-01', to: '2025-11-30' },
    viewer: { scope: { kind: 'all' } },
    filters: {},
    settings: DEFAULT_SETTINGS,
    businessHours: false,
    ...q,
  })) {
    pages++;
    rows.push(...p);
  }
  return { pages, rows };
}

describe.each(DIALECTS)('detail rows (%s)', (dialect) => {
  let store: Store;
  let zhangId: string;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await loadMonth(store);
    zhangId = (
      await store.db.selectFrom('agents').select('id').where('name', '=', '张三').executeTakeFirstOrThrow()
    ).id;
  });
  afterAll(async () => store?.close());

  it('lists the period’s conversations in start order with their facts', async () => {
    const { rows } = await all(store);
    expect(rows.map((r) => r.id)).toEqual(['W1', 'W2', 'WA1', 'C4', 'C5']);
    const [w1, w2, wa1, c4, c5] = rows;
    expect(w1).toMatchObject({
      channel: 'web',
      customer: '13812345678',
      region: '北京',
      agent: '张三',
      group: '售后组',
      agents: ['张三'],
      waitS: 10,
      frtS: 30,
      handleS: 290, // 10:00:10 assignment → 10:05 close
      messagesIn: 1,
      messagesOut: 1,
      rating: 5,
      resolved: 1,
      missed: 0,
      tags: ['VIP'],
    });
    expect(w2!.resolved).toBe(0); // closed but rated 2
    expect(wa1!.resolved).toBeNull(); // unrated: excluded by the default rule
    expect(c4).toMatchObject({ agent: '李四', missed: 1, frtS: null, resolved: null });
    expect(c5!.agents).toEqual(['李四', '张三']);
    expect(c5!.tags).toEqual(['回拨 13912345678']);
    expect(w1!.startTs).toBe(Date.parse('2025-11-03T02:00:00Z'));
  });

  it('pages without losing or repeating a row', async () => {
    const { pages, rows } = await all(store, { pageSize: 2 });
    expect(pages).toBe(3);
    expect(rows.map((r) => r.id)).toEqual(['W1', 'W2', 'WA1', 'C4', 'C5']);
  });

  it('applies the viewer scope and the template filters', async () => {
    expect(
      (await all(store, { viewer: { scope: { kind: 'agent', agentId: zhangId } } })).rows.map((r) => r.id),
    ).toEqual(['W1', 'WA1', 'C5']);
    expect(
      (await all(store, { viewer: { scope: { kind: 'group', group: '售前组' } } })).rows.map((r) => r.id),
    ).toEqual(['W2', 'C4']);
    expect((await all(store, { filters: { channel: ['web'] } })).rows.map((r) => r.id)).toEqual([
      'W1',
      'W2',
      'C5',
    ]);
    expect((await all(store, { filters: { tag: ['VIP'] } })).rows.map((r) => r.id)).toEqual(['W1']);
    expect((await all(store, { filters: { region: ['北京'] } })).rows.map((r) => r.id)).toEqual(['W1', 'C5']);
    expect(
      (await all(store, { period: { from: '2025-10-01', to: '2025-10-31' } })).rows.map((r) => r.id),
    ).toEqual(['O1']);
  });

  it('reads business-hours durations when the template asks', async () => {
    const { rows } = await all(store, { businessHours: true });
    // All of W1 falls on Monday 10:00 within 9–18: the same as calendar time.
    expect(rows[0]!.frtS).toBe(30);
  });
});

describe('resolvedFlag', () => {
  const base = {
    human_replied: 1,
    closed: 1,
    rating: 4,
    platform_resolved: null,
    next_conv_ts: null,
    end_ts: 0,
  };
  const s = (resolution: Partial<Settings['resolution']>): Settings => ({
    ...DEFAULT_SETTINGS,
    resolution: { ...DEFAULT_SETTINGS.resolution, ...resolution },
  });
  it('follows each resolution rule as the report counts it', () => {
    expect(resolvedFlag(base, DEFAULT_SETTINGS)).toBe(1);
    expect(resolvedFlag({ ...base, rating: 2 }, DEFAULT_SETTINGS)).toBe(0);
    expect(resolvedFlag({ ...base, closed: 0 }, DEFAULT_SETTINGS)).toBe(0);
    expect(resolvedFlag({ ...base, rating: null }, DEFAULT_SETTINGS)).toBeNull();
    expect(resolvedFlag({ ...base, rating: null }, s({ unrated: 'resolved' }))).toBe(1);
    expect(resolvedFlag({ ...base, rating: null }, s({ unrated: 'unresolved' }))).toBe(0);
    expect(resolvedFlag({ ...base, human_replied: 0 }, DEFAULT_SETTINGS)).toBeNull();
    expect(resolvedFlag({ ...base, platform_resolved: 1 }, s({ rule: 'platform_flag' }))).toBe(1);
    expect(resolvedFlag(base, s({ rule: 'platform_flag' }))).toBe(0);
    const day = 86_400_000;
    expect(resolvedFlag({ ...base, next_conv_ts: 3 * day }, s({ rule: 'no_repeat', repeatDays: 7 }))).toBe(0);
    expect(resolvedFlag({ ...base, next_conv_ts: 8 * day }, s({ rule: 'no_repeat', repeatDays: 7 }))).toBe(1);
  });
});
