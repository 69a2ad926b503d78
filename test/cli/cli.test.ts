/**
 * The command line as a user runs it: a real process, a real SQLite file, real files on disk —
 * and wrong, malformed and hostile files thrown at `import`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics/catalog.ts';
import { scenario } from '../engine/scenario.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/cspulse.js');

async function cspulse(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, CI: 'true' },
      maxBuffer: 64 * 2 ** 20,
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('cspulse', () => {
  let dir: string;
  let db: string;
  let events: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-cli-'));
    db = join(dir, 'cli.db');
    events = join(dir, 'events.ndjson');
    const lines = scenario().map((e) => JSON.stringify(e));
    lines.splice(
      3,
      0,
      '{"kind":"message","id":"bad1","channel":"web","ts":"not a time","role":"customer"}',
      '{ broken json',
    );
    writeFileSync(events, `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports NDJSON with a JSON summary, keeping rejects with file, line and reason', async () => {
    const r = await cspulse('import', events, '--db', db, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ accepted: scenario().length, duplicates: 0, rejected: 2 });
    expect(summary.rejects).toEqual([
      { file: events, line: 4, reason: expect.stringMatching(/^ts: /) },
      { file: events, line: 5, reason: expect.stringMatching(/JSON/i) },
    ]);
  });

  it('is idempotent: the same file again is all duplicates', async () => {
    const r = await cspulse('import', events, '--db', db, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 0, duplicates: scenario().length });
  });

  it('reports JSON with METRICS.md ids, seconds as numbers and rates as fractions', async () => {
    const r = await cspulse(
      'report',
      '--db',
      db,
      '--by',
      'agent',
      '--format',
      'json',
      '--metrics',
      'received,frt_avg_s,frt_median_s,frt_p90_s,resolution_rate',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.timezone).toBe('Asia/Shanghai');
    expect(Object.keys(report.definitions)).toEqual([
      'received',
      'frt_avg_s',
      'frt_median_s',
      'frt_p90_s',
      'resolution_rate',
    ]);
    expect(report.definitions.frt_avg_s.zh).toBe('首次响应时长');
    // Without a roster an agent is an account on one channel: "zhang" on web (named 张三 by the
    // events) and "zhang" on wechat are two agents until someone merges them.
    const zhang = report.rows.find((x: { key: { agent: string } }) => x.key.agent === '张三');
    expect(zhang.metrics).toEqual({
      received: 2,
      frt_avg_s: 45,
      frt_median_s: 45,
      frt_p90_s: 57,
      resolution_rate: 1,
    });
  });

  it('lists unknown accounts and merges them into one agent', async () => {
    const unknown = JSON.parse((await cspulse('agents', 'list', '--unknown', '--json', '--db', db)).stdout);
    const web = unknown.find(
      (a: { platform: string; account: string }) => a.platform === 'web' && a.account === 'zhang',
    );
    const wechat = unknown.find(
      (a: { platform: string; account: string }) => a.platform === 'wechat' && a.account === 'zhang',
    );
    expect(web.name).toBe('张三');
    expect(wechat.name).toBe('zhang');
    const merged = await cspulse('agents', 'merge', wechat.id, web.id, '--db', db);
    expect(merged.code).toBe(0);
    const report = JSON.parse(
      (
        await cspulse(
          'report',
          '--db',
          db,
          '--by',
          'agent',
          '--format',
          'json',
          '--metrics',
          'received,resolution_rate',
        )
      ).stdout,
    );
    const zhang = report.rows.find((x: { key: { agent: string } }) => x.key.agent === '张三');
    // As in the hand-computed scenario (values are rounded to 6 decimals).
    expect(zhang.metrics).toEqual({ received: 3, resolution_rate: 0.666667 });
  });

  it('prints tables and CSV, and refuses unknown metrics and dimensions clearly', async () => {
    const table = await cspulse('report', '--db', db, '--by', 'channel');
    expect(table.stdout).toContain('渠道');
    expect(table.stdout).toContain('合计');
    const csv = await cspulse(
      'report',
      '--db',
      db,
      '--by',
      'day',
      '--format',
      'csv',
      '--metrics',
      'conversations',
    );
    expect(csv.stdout.replace('\uFEFF', '').split('\r\n').slice(0, 3)).toEqual([
      '日期,会话数',
      '2025-11-05,4',
      '2025-11-06,0',
    ]);
    const bad = await cspulse('report', '--db', db, '--metrics', 'happiness');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown metric "happiness"');
    const badBy = await cspulse('report', '--db', db, '--by', 'planet');
    expect(badBy.stderr).toContain('cannot group by "planet"');
    const badDate = await cspulse('report', '--db', db, '--from', '2025-13-45x');
    expect(badDate.stderr).toContain('--from: expected a date YYYY-MM-DD');
  });

  it('survives hostile files and names them', async () => {
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    const folder = join(dir, 'folder.csv');
    mkdirSync(folder);
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const deep = join(dir, 'deep.ndjson');
    writeFileSync(
      deep,
      `${'['.repeat(100_000)}\n{"kind":"message","id":"ok","channel":"web","ts":1762308000,"role":"customer","customer":{"id":"x"}}\n`,
    );
    const r = await cspulse(
      'import',
      empty,
      folder,
      garbage,
      join(dir, 'missing.ndjson'),
      deep,
      '--db',
      db,
      '--json',
    );
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    const reasons = summary.rejects
      .map((x: { file: string; reason: string }) => `${x.file}: ${x.reason}`)
      .join('\n');
    expect(reasons).toContain('empty');
    expect(reasons).toContain('directory');
    expect(reasons).toContain('missing.ndjson');
    // The good line after the hostile one still arrives.
    expect(summary.accepted).toBe(1);
  });

  it('lists the whole catalog in Chinese and English', async () => {
    const r = await cspulse('metrics');
    for (const m of METRICS) {
      expect(r.stdout).toContain(m.id);
      expect(r.stdout).toContain(m.zh);
    }
  });

  it('writes the demo as canonical NDJSON that imports without a reject', async () => {
    const out = join(dir, 'demo.ndjson');
    const w = await cspulse(
      'demo',
      '--agents',
      '2',
      '--days',
      '2',
      '--seed',
      '3',
      '--end',
      '2025-11-30',
      '--out',
      out,
    );
    expect(w.code).toBe(0);
    const r = await cspulse('import', out, '--db', join(dir, 'demo.db'), '--json');
    const summary = JSON.parse(r.stdout);
    expect(summary.rejected).toBe(0);
    expect(summary.accepted).toBeGreaterThan(500);
    const report = JSON.parse(
      (await cspulse('report', '--db', join(dir, 'demo.db'), '--by', 'channel', '--format', 'json')).stdout,
    );
    expect(report.rows.length).toBeGreaterThanOrEqual(5);
  });
});
