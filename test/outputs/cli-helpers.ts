/** Running the CLI as a user does, on a SQLite file holding the seven known weeks. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { weeksEvents } from './weeks.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/cspulse.js');

export async function cspulse(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, CI: 'true', ...env },
      maxBuffer: 64 * 2 ** 20,
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

/** A SQLite file with the roster and the seven weeks, loaded through the CLI. */
export async function weeksDb(dir: string): Promise<string> {
  const db = join(dir, 'weeks.db');
  const roster = join(dir, 'roster.csv');
  writeFileSync(
    roster,
    '姓名,工号,客服组,账号\n张三,KF001,售后组,zhang\n李四,KF002,售前组,li\n王五,KF003,售后组,wang\n',
  );
  const events = join(dir, 'weeks.ndjson');
  writeFileSync(
    events,
    `${weeksEvents()
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  );
  for (const args of [
    ['roster', 'import', roster],
    ['import', events, '--json'],
  ]) {
    const r = await cspulse({}, ...args, '--db', db);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  }
  return db;
}
