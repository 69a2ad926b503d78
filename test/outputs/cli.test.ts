/**
 * `cspulse templates` and `cspulse export` as a user runs them: real processes on a real SQLite
 * file holding the seven known weeks (test/outputs/weeks.ts).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWithOpenpyxl } from '../../src/outputs/xlsx/testing.ts';
import { cspulse, weeksDb } from './cli-helpers.ts';

describe('cspulse templates', { timeout: 300_000 }, () => {
  let dir: string;
  let db: string;
  const t = (...args: string[]) => cspulse({}, 'templates', ...args, '--db', db);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-tpl-'));
    db = join(dir, 't.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the three built-ins, copies one and modifies the copy', async () => {
    const list = await t('list');
    expect(list.code).toBe(0);
    expect(
      list.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['团队周报', 'HR月度考核', '客服个人视图']);
    expect((await t('copy', 'HR月度考核', '电商客服部_月报_v1')).code).toBe(0);
    const set = await t(
      'set',
      '电商客服部_月报_v1',
      '{"metrics":["接待会话数","有效会话数","解决率"],"computed":[{"name":"有效工作率","formula":"有效会话数 / 接待会话数 * 100"}],"filters":{"channel":["wecom_kf"]},"conditionalFormats":[{"metric":"解决率","kind":"threshold","op":"<","value":0.8,"fill":"FFC7CE"}]}',
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const shown = JSON.parse((await t('show', '电商客服部_月报_v1')).stdout);
    // Names resolved to catalog ids; what was not given kept from the copy (the score, the sheets).
    expect(shown.metrics).toEqual(['received', 'valid', 'resolution_rate']);
    expect(shown.filters).toEqual({ channel: ['wecom_kf'] });
    expect(shown.score.name).toBe('电商零售');
    expect(shown.conditionalFormats[0]).toEqual({
      metric: 'resolution_rate',
      kind: 'threshold',
      op: '<',
      value: 0.8,
      fill: 'FFC7CE',
    });
    // null removes an optional knob.
    await t('set', '电商客服部_月报_v1', '{"score":null}');
    expect(JSON.parse((await t('show', '电商客服部_月报_v1')).stdout).score).toBeUndefined();
    expect((await t('list')).stdout).toContain('电商客服部_月报_v1\t自定义 custom');
  });

  it('refuses bad templates with the field and position, and protects built-ins', async () => {
    const formula = await t(
      'set',
      '电商客服部_周报_v2',
      '{"title":{"zh":"周报","en":"Weekly"},"metrics":["received"],"computed":[{"name":"x","formula":"有效会话数 / (接待会话数"}]}',
    );
    expect(formula.code).toBe(1);
    expect(formula.stderr).toContain('computed.0.formula');
    expect(formula.stderr).toContain('第 9 个字符');
    const metric = await t(
      'set',
      '电商客服部_周报_v2',
      '{"title":{"zh":"周报","en":"Weekly"},"metrics":["received","响应速度"]}',
    );
    expect(metric.stderr).toContain('metrics.1: 未知指标 “响应速度”');
    const cf = await t(
      'set',
      '电商客服部_周报_v2',
      '{"title":{"zh":"周报","en":"Weekly"},"metrics":["received"],"conditionalFormats":[{"metric":"csat_avg","kind":"colorScale"}]}',
    );
    expect(cf.stderr).toContain('conditionalFormats.0.metric: 没有这一列 “csat_avg”');
    expect((await t('set', '周报', '{}')).stderr).toContain('部门_周期_版本');
    expect((await t('set', 'HR月度考核', '{}')).stderr).toContain('built in and cannot be changed');
    expect((await t('delete', '团队周报')).code).toBe(1);
    expect((await t('copy', '团队周报', '电商客服部_月报_v1')).stderr).toContain('already exists');
    expect((await t('show', '没有_这个_v1')).stderr).toContain('no template "没有_这个_v1"');
    expect((await t('set', '电商客服部_周报_v2', '{not json')).stderr).toContain('not valid JSON');
  });

  it('deletes a custom template', async () => {
    expect((await t('delete', '电商客服部_月报_v1')).code).toBe(0);
    expect((await t('list')).stdout).not.toContain('电商客服部_月报_v1');
  });
});

describe('cspulse export', { timeout: 300_000 }, () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-export-'));
    db = await weeksDb(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 客服绩效_<period> files and prints them; a scoped viewer gets their own file name', async () => {
    const out = join(dir, 'out');
    const r = await cspulse(
      {},
      'export',
      '--db',
      db,
      '--period',
      '2025-W45',
      '--format',
      'xlsx',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = r.stdout.split('\n').slice(1).filter(Boolean);
    expect(files).toEqual([join(out, '客服绩效_2025-W45.xlsx')]);
    expect(existsSync(files[0]!)).toBe(true);
    const mine = await cspulse(
      {},
      'export',
      '--db',
      db,
      '--period',
      '2025-W45',
      '--format',
      'xlsx',
      '--out',
      out,
      '--as',
      'agent:张三',
      '--json',
    );
    expect(JSON.parse(mine.stdout)).toMatchObject({
      template: 'HR月度考核',
      period: { label: '2025-W45' },
      viewer: '客服:张三',
      files: [join(out, '客服绩效_2025-W45_张三.xlsx')],
    });
    expect(readdirSync(out).sort()).toEqual(['客服绩效_2025-W45.xlsx', '客服绩效_2025-W45_张三.xlsx']);
    // Opened by openpyxl: the team file has everyone, the agent's file nobody else and no score;
    // neither holds the customer's name unmasked (the default viewer and an agent lack pii:view).
    const text = (f: string) => JSON.stringify(openWithOpenpyxl(join(out, f)));
    const team = text('客服绩效_2025-W45.xlsx');
    expect(team).toContain('李四');
    expect(team).toContain('电商零售');
    expect(team).not.toContain('王小明');
    const own = text('客服绩效_2025-W45_张三.xlsx');
    expect(own).toContain('张三');
    for (const other of ['李四', '王五', '王小明', '电商零售']) expect(own).not.toContain(other);
  });

  it('defaults to the HR review of last month', async () => {
    const out = join(dir, 'default');
    const r = await cspulse(
      {},
      'export',
      '--db',
      db,
      '--format',
      'xlsx',
      '--out',
      out,
      '--now',
      '2025-12-03T02:00:00Z',
      '--json',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({
      template: 'HR月度考核',
      period: { from: '2025-11-01', to: '2025-11-30', label: '2025-11' },
      viewer: '全部(脱敏)',
    });
  });

  it('says what is wrong with a period, a format, a template or a viewer', async () => {
    const bad = async (...args: string[]) => (await cspulse({}, 'export', '--db', db, ...args)).stderr;
    expect(await bad('--period', '2025-W54')).toContain('weeks 01–52');
    expect(await bad('--format', 'docx')).toContain('unknown format "docx"');
    expect(await bad('--template', '不存在')).toContain('no template "不存在"');
    expect(await bad('--as', 'agent:赵六')).toContain('no agent "赵六"');
  });
});
