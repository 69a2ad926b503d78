/** Templates in the database on SQLite and PostgreSQL: validation, copy-and-modify, protection. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSchedule } from '../../src/delivery/schedules.ts';
import {
  BUILTIN_TEMPLATES,
  copyTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  parseTemplate,
  setTemplate,
  TemplateError,
} from '../../src/outputs/templates.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

describe('template validation', () => {
  it('resolves names to catalog ids and keeps the built-ins valid', () => {
    expect(BUILTIN_TEMPLATES.map((t) => t.name)).toEqual(['团队周报', 'HR月度考核', '客服个人视图']);
    const hr = BUILTIN_TEMPLATES[1]!;
    expect(hr.score?.name).toBe('电商零售');
    expect(hr.conditionalFormats).toContainEqual({
      metric: 'resolution_rate',
      kind: 'threshold',
      op: '<',
      value: 0.8,
      fill: 'FFC7CE',
    });
    expect(BUILTIN_TEMPLATES[2]!.hidden).toEqual(['score']);
    const t = parseTemplate({
      name: '客服部_周报_v1',
      title: { zh: '周报', en: 'Weekly' },
      metrics: ['接待会话数', 'first response time (average)', 'csat_avg'],
      hidden: ['平均满意度'],
    });
    expect(t.metrics).toEqual(['received', 'frt_avg_s', 'csat_avg']);
    expect(t.hidden).toEqual(['csat_avg']);
    expect(t).toMatchObject({
      by: 'agent',
      rowLimit: 50_000,
      businessHours: false,
      computed: [],
      sheets: ['summary', 'definitions'],
    });
  });

  it('names every bad field, with the formula position', () => {
    const issues = (input: object) => {
      try {
        parseTemplate({
          name: '客服部_周报_v1',
          title: { zh: 'a', en: 'a' },
          metrics: ['received'],
          ...input,
        });
      } catch (e) {
        expect(e).toBeInstanceOf(TemplateError);
        return (e as TemplateError).issues;
      }
      return [];
    };
    expect(issues({ computed: [{ name: 'x', formula: '接待会话数 * * 2' }] })).toEqual([
      'computed.0.formula: “接待会话数 * * 2” 第 9 个字符:此处应为数值或名称,而不是 “*” / at character 9: expected a number or a name, found "*"',
    ]);
    // A later computed field may use an earlier one, not the other way round.
    expect(
      issues({
        computed: [
          { name: 'a', formula: 'b + 1' },
          { name: 'b', formula: 'a + 1' },
        ],
      })[0],
    ).toMatch(/^computed\.0\.formula: .*unknown name "b"/);
    expect(issues({ metrics: ['received', '接待会话数'] })[0]).toMatch(/metrics\.1: .*listed twice/);
    expect(
      issues({
        conditionalFormats: [{ metric: 'received', kind: 'threshold', op: '<', value: 1, fill: 'red' }],
      })[0],
    ).toMatch(/conditionalFormats\.0\.fill: .*RRGGBB/);
    expect(issues({ sheets: ['summary', 'charts'] })[0]).toMatch(/^sheets\.1/);
    expect(issues({ anomalies: { rules: [{ metric: 'speed', op: '>', value: 1, periods: 2 }] } })[0]).toMatch(
      /anomalies\.rules\.0\.metric: .*unknown metric "speed"/,
    );
    expect(issues({ hidden: ['score'] })[0]).toMatch(/hidden\.0: .*no column "score"/);
    expect(issues({ colour: 'red' })[0]).toMatch(/colour/);
  });
});

describe.each(DIALECTS)('templates in the database (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
  });
  afterAll(async () => store?.close());

  it('copies a built-in, merges changes into the copy, and leaves the built-in alone', async () => {
    const copy = await copyTemplate(store, '团队周报', '电商客服部_周报_v3');
    expect(copy.metrics).toEqual(BUILTIN_TEMPLATES[0]!.metrics);
    const changed = await setTemplate(store, '电商客服部_周报_v3', {
      title: { zh: '电商周报' },
      filters: { channel: ['wecom_kf'] },
      anomalies: { z: 4 },
    });
    expect(changed.title).toEqual({ zh: '电商周报', en: 'Weekly team report' });
    expect(changed.anomalies).toEqual({
      rules: [{ metric: 'frt_avg_s', op: '>', value: 120, periods: 2 }],
      z: 4,
    });
    expect(await getTemplate(store, '电商客服部_周报_v3')).toEqual(changed);
    expect((await getTemplate(store, '团队周报')).title.zh).toBe('客服团队周报');
    expect((await listTemplates(store)).map((t) => [t.template.name, t.builtin])).toEqual([
      ['团队周报', true],
      ['HR月度考核', true],
      ['客服个人视图', true],
      ['电商客服部_周报_v3', false],
    ]);
    // A failed change leaves the stored template as it was.
    await expect(setTemplate(store, '电商客服部_周报_v3', { metrics: ['nope'] })).rejects.toThrow(
      /unknown metric "nope"/,
    );
    expect(await getTemplate(store, '电商客服部_周报_v3')).toEqual(changed);
  });

  it('refuses to delete a template a schedule uses, and built-ins always', async () => {
    const s = await addSchedule(
      store,
      {
        name: 'x',
        cron: '0 8 * * 1',
        template: '电商客服部_周报_v3',
        recipients: [{ kind: 'email', to: ['a@b.co'] }],
      },
      'Asia/Shanghai',
    );
    await expect(deleteTemplate(store, '电商客服部_周报_v3')).rejects.toThrow(new RegExp(s.id));
    await store.db.deleteFrom('schedules').execute();
    await deleteTemplate(store, '电商客服部_周报_v3');
    await expect(getTemplate(store, '电商客服部_周报_v3')).rejects.toThrow(/no template/);
    await expect(deleteTemplate(store, 'HR月度考核')).rejects.toThrow(/built in/);
    await expect(copyTemplate(store, 'HR月度考核', 'HR月度考核')).rejects.toThrow(/built in/);
  });
});
