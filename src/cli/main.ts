/**
 * `cspulse`: the command line. Every command takes --db (a SQLite path or postgres:// URL);
 * without it DATABASE_URL, else the embedded default ./data/cspulse.db.
 *
 * Modules that bring heavy libraries (fastify, nodemailer, echarts, pdfkit, faker, the platform
 * connectors) are imported by the commands that use them, so `cspulse --help`, `report` or a
 * workbook export never load them.
 */
import { writeFileSync } from 'node:fs';
import type { DemoOptions } from '../demo/generate.ts';
import { Command, Option } from 'commander';
import { importRoster, mergeAgents } from '../ingest/identities.ts';
import { markAllDirty, refreshFacts } from '../ingest/pipeline.ts';
import { METRICS } from '../metrics/catalog.ts';
import { runReport } from '../metrics/report.ts';
import { SCORE_PRESETS } from '../metrics/scores.ts';
import { parseSettings } from '../model/settings.ts';
import { localKeys } from '../model/time.ts';
import { openStore, resolveTarget, type Store } from '../store/db.ts';
import { loadSettings, saveSettings } from '../store/settings.ts';
import { PLATFORMS } from '../connectors/platforms.ts';
import { progressBar } from './progress.ts';
import { printReport, type ReportFormat } from './render.ts';
import { resolveScoreModel } from './scores.ts';
import { registerExport } from './export.ts';
import { registerSchedules } from './schedules.ts';
import { registerPull } from './pull.ts';
import { registerDictionaries } from './dictionaries.ts';
import { registerMappings } from './mappings.ts';

const program = new Command();
program
  .name('cspulse')
  .description('CS Pulse — 客服绩效数据导管 / customer-service performance analytics')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

const dbOption = () =>
  new Option(
    '--db <pathOrUrl>',
    'SQLite file path or postgres:// URL (default: DATABASE_URL, else ./data/cspulse.db)',
  );

async function withStore<T>(dbFlag: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(resolveTarget(dbFlag));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

program
  .command('import')
  .description(
    "导入数据文件 / import files (canonical NDJSON, CSV/XLSX with recognised headers, twcs, a platform's saved payloads)",
  )
  .argument('<files...>')
  .addOption(
    new Option('--format <format>', 'file format, or the platform whose payloads the file holds')
      .choices(['auto', 'ndjson', 'csv', 'xlsx', 'twcs', 'payload', ...PLATFORMS])
      .default('auto'),
  )
  .option('--json', 'print one JSON summary object')
  .option(
    '--mapping <name>',
    'CSV/XLSX: a saved column mapping, applied ahead of the dictionary (cspulse mappings)',
  )
  .option(
    '--dictionaries <dir>',
    'CSV/XLSX: user field dictionaries (*.json) to add (default: CSPULSE_DICTIONARIES)',
  )
  .addOption(dbOption())
  .action(
    async (
      files: string[],
      o: { format: 'auto'; json?: boolean; db?: string; mapping?: string; dictionaries?: string },
    ) => {
      await withStore(o.db, async (store) => {
        const { importFiles } = await import('./import.ts');
        const summary = await importFiles(store, files, o.format, {
          quiet: !!o.json,
          ...(o.mapping ? { mapping: o.mapping } : {}),
          ...(o.dictionaries ? { dictionaries: o.dictionaries } : {}),
        });
        if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else {
          console.log(
            `导入完成 / imported: ${summary.accepted} accepted, ${summary.duplicates} duplicates, ${summary.rejected} rejected`,
          );
          for (const r of summary.rejects.slice(0, 20)) console.log(`  ${r.file}:${r.line}: ${r.reason}`);
          if (summary.rejected > 20) console.log(`  … ${summary.rejected - 20} more (cspulse rejects)`);
        }
        if (summary.failedFiles.length) process.exitCode = 1;
      });
    },
  );

program
  .command('report')
  .description('绩效报表 / metrics report')
  .option('--from <YYYY-MM-DD>', 'first day (reporting timezone)')
  .option('--to <YYYY-MM-DD>', 'last day, inclusive')
  .option(
    '--by <dimension>',
    'agent|group|channel|region|day|week|month|hour|weekday (comma-separated for several)',
    list,
  )
  .option('--metrics <ids>', 'metric ids or names, comma-separated (see `cspulse metrics`)', list)
  .option('--business-hours', 'durations count business time only')
  .option('--score <model>', 'score model: a preset id (ecommerce|finance|education) or a JSON file')
  .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table'))
  .option('--channel <names>', 'only these channels', list)
  .option('--group <names>', 'only these agent groups', list)
  .option('--agent <names>', 'only these agents (name or id)', list)
  .option('--tag <tags>', 'only conversations with one of these tags', list)
  .option('--region <regions>', 'only customers in these regions', list)
  .option('--lang <zh|en>', 'column names', 'zh')
  .addOption(dbOption())
  .action(async (o) => {
    await withStore(o.db, async (store) => {
      await refreshFacts(store);
      const report = await runReport(store, {
        from: o.from,
        to: o.to,
        by: o.by,
        metrics: o.metrics,
        businessHours: o.businessHours,
        score: o.score ? resolveScoreModel(o.score) : undefined,
        filters: { channel: o.channel, group: o.group, agentNames: o.agent, tag: o.tag, region: o.region },
      });
      printReport(report, o.format as ReportFormat, o.lang === 'en' ? 'en' : 'zh');
    });
  });

program
  .command('demo')
  .description('生成演示数据 / generate a realistic demo month (imports it, or writes NDJSON with --out)')
  .option('--agents <n>', 'agents', (v) => positiveInt(v, '--agents'), 30)
  .option('--days <n>', 'days', (v) => positiveInt(v, '--days'), 30)
  .option('--seed <n>', 'random seed', (v) => positiveInt(v, '--seed'), 1)
  .option('--end <YYYY-MM-DD>', 'last day (default: yesterday)')
  .option('--out <file.ndjson>', 'write canonical NDJSON instead of importing')
  .addOption(dbOption())
  .action(async (o) => {
    const opts = { agents: o.agents, days: o.days, seed: o.seed, end: o.end };
    if (o.out) {
      const lines: string[] = [];
      const { generateDemo } = await import('../demo/generate.ts');
      for (const batch of generateDemo(opts)) for (const e of batch) lines.push(JSON.stringify(e));
      writeFileSync(o.out, `${lines.join('\n')}\n`);
      console.log(`wrote ${lines.length} events to ${o.out}`);
      return;
    }
    await withStore(o.db, async (store) => {
      const n = await loadDemo(store, opts);
      console.log(`演示数据已导入 / demo imported: ${n} events, ${o.agents} agents, ${o.days} days`);
    });
  });

program
  .command('metrics')
  .description('指标目录与口径 / the metric catalog with definitions')
  .option('--json', 'as JSON')
  // The catalog is the same for every database; --db is accepted like on every command.
  .addOption(dbOption())
  .action((o) => {
    if (o.json) {
      console.log(
        JSON.stringify(
          METRICS.map(({ compute, ...m }) => ({ ...m, available: !!compute })),
          null,
          2,
        ),
      );
      return;
    }
    for (const m of METRICS) {
      console.log(
        `${m.id}  ${m.zh} / ${m.en}  [${m.unit}${m.businessHours ? ', 可按工作时间' : ''}]${m.compute ? '' : '  (待接入 / needs text analytics)'}`,
      );
      console.log(`    ${m.definition.zh}`);
      console.log(`    ${m.definition.en}`);
    }
  });

const roster = program.command('roster').description('客服花名册 / agent roster');
roster
  .command('import')
  .argument('<file>', 'CSV or XLSX with 姓名, 工号, 组, 账号')
  .addOption(dbOption())
  .action(async (file: string, o) => {
    await withStore(o.db, async (store) => {
      const { readRoster } = await import('../connectors/index.ts');
      const { rows, rejects } = await readRoster(file);
      const r = await importRoster(store, rows);
      for (const rej of rejects) console.error(`  ${rej.file}:${rej.line}: ${rej.reason}`);
      if (r.moved.length) {
        await markAllDirty(store);
        await refreshFacts(store);
      }
      console.log(
        `花名册已导入 / roster imported: ${r.agents} agents, ${r.accounts} accounts, ${r.moved.length} unknown accounts merged, ${rejects.length} rows rejected`,
      );
    });
  });

const agents = program.command('agents').description('客服与账号 / agents and their accounts');
agents
  .command('list')
  .option('--unknown', 'only accounts not on the roster (to merge)')
  .option('--json', 'as JSON')
  .addOption(dbOption())
  .action(async (o) => {
    await withStore(o.db, async (store) => {
      await refreshFacts(store);
      let q = store.db
        .selectFrom('agents')
        .leftJoin('agent_accounts', 'agent_accounts.agent_id', 'agents.id')
        .select([
          'agents.id',
          'agents.name',
          'agents.employee_no',
          'agents.group_name',
          'agents.on_roster',
          'agent_accounts.platform',
          'agent_accounts.account',
        ])
        .orderBy('agents.on_roster', 'desc')
        .orderBy('agents.name');
      if (o.unknown) q = q.where('agents.on_roster', '=', 0);
      const rows = await q.execute();
      if (o.json) console.log(JSON.stringify(rows, null, 2));
      else
        for (const r of rows)
          console.log(
            [
              r.id,
              r.name,
              r.employee_no ?? '',
              r.group_name ?? '',
              r.on_roster ? 'roster' : '未认领 unknown',
              `${r.platform}:${r.account}`,
            ].join('\t'),
          );
    });
  });
agents
  .command('merge')
  .description('把一个账号的客服并入另一个客服 / merge an agent (e.g. an unknown account) into another')
  .argument('<fromAgentId>')
  .argument('<intoAgentId>')
  .addOption(dbOption())
  .action(async (from: string, to: string, o) => {
    await withStore(o.db, async (store) => {
      const accounts = await mergeAgents(store, from, to);
      await markAllDirty(store);
      await refreshFacts(store);
      console.log(`merged ${accounts.length} account(s) into ${to}`);
    });
  });

const settings = program.command('settings').description('组织设置(口径参数) / organisation settings');
settings
  .command('show')
  .addOption(dbOption())
  .action(async (o) =>
    withStore(o.db, async (store) => console.log(JSON.stringify(await loadSettings(store), null, 2))),
  );
settings
  .command('set')
  .argument('<json>', 'a JSON file or inline JSON merged over the current settings')
  .addOption(dbOption())
  .action(async (json: string, o) => {
    await withStore(o.db, async (store) => {
      const { readFileSync, existsSync } = await import('node:fs');
      const patch = JSON.parse(existsSync(json) ? readFileSync(json, 'utf8') : json);
      const next = parseSettings(deepMerge(await loadSettings(store), patch));
      await saveSettings(store, next);
      const n = await markAllDirty(store);
      await refreshFacts(store, progressBar('重算 / recomputing'));
      console.log(`settings saved; ${n} threads recomputed`);
    });
  });

program
  .command('recompute')
  .description('按当前设置重算全部事实 / recompute every fact with the current settings')
  .addOption(dbOption())
  .action(async (o) => {
    await withStore(o.db, async (store) => {
      const n = await markAllDirty(store);
      await refreshFacts(store, progressBar('重算 / recomputing'));
      console.log(`recomputed ${n} threads`);
    });
  });

program
  .command('rejects')
  .description('被拒绝的记录及原因 / rejected records with reasons')
  .option('--limit <n>', 'rows', (v) => positiveInt(v, '--limit'), 50)
  .addOption(dbOption())
  .action(async (o) => {
    await withStore(o.db, async (store) => {
      const rows = await store.db
        .selectFrom('rejects')
        .selectAll()
        .orderBy('at', 'desc')
        .limit(o.limit)
        .execute();
      for (const r of rows) console.log(`${r.file}:${r.line}: ${r.reason}`);
    });
  });

program
  .command('start')
  .description(
    '启动(内置 SQLite,空库时载入演示数据)/ start on the embedded default, with demo data when empty',
  )
  .addOption(dbOption())
  .action(async (o) => {
    await withStore(o.db, async (store) => {
      console.log(`CS Pulse — 数据库 / database: ${store.location} (${store.dialect})`);
      const any = await store.db.selectFrom('event_blocks').select('thread').limit(1).executeTakeFirst();
      if (!any) {
        console.log('数据库为空,载入演示数据 / empty database: loading a demo month (30 agents, 30 days)…');
        await loadDemo(store, { agents: 30, days: 30, seed: 1 });
      }
      await refreshFacts(store);
      const settings = await loadSettings(store);
      const last = await store.db
        .selectFrom('conversations')
        .select((eb) => eb.fn.max('day').as('day'))
        .executeTakeFirst();
      const to = last?.day ?? localKeys(Date.now(), settings.timezone).day;
      const from = new Date(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
      console.log(`\n最近 7 天按客服 / last 7 days by agent (${from} … ${to}, ${settings.timezone})\n`);
      const report = await runReport(store, { from, to, by: ['agent'], score: SCORE_PRESETS.ecommerce });
      printReport(report, 'table', 'zh');
      console.log(
        '\n更多 / more: npx cspulse report --by channel | npx cspulse metrics | npx cspulse --help',
      );
    });
  });

program
  .command('serve')
  .description(
    '启动 HTTP 服务(接收 webhook、监控、报表 API)/ start the HTTP server: webhooks, monitor, report API',
  )
  .option('--port <n>', 'port', (v) => positiveInt(v, '--port'), 3000)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .addOption(dbOption())
  .action(async (o) => {
    const target = resolveTarget(o.db);
    const [{ buildServer }, { Runner }, { PullScheduler }] = await Promise.all([
      import('../server/app.ts'),
      import('../delivery/runner.ts'),
      import('../connectors/pull/scheduler.ts'),
    ]);
    const store = await openStore(target);
    // The writer gets its own thread and connection: database work beside the HTTP work.
    const server = await buildServer(store, { logger: false, writerTarget: target });
    const address = await server.app.listen({ port: o.port, host: o.host });
    console.log(
      `CS Pulse 服务 / server: ${address} — 数据库 / database: ${store.location} (${store.dialect})`,
    );
    console.log(`webhooks: POST ${address}/ingest/<sourceId> · monitor: GET ${address}/api/sources`);
    // Scheduled delivery runs in every server process; each period is still delivered once.
    const runner = new Runner(store, { refresh: false, gate: server.writer, log: (l) => console.log(l) });
    runner.start();
    // Pull sources (微信客服 sync_msg) are read every minute, through the server's writer.
    const pulls = new PullScheduler(store, {
      accept: (items, origin, sourceId, extra) => server.writer.accept(items, origin, sourceId, extra),
      log: (l) => console.log(l),
    });
    pulls.start();
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await runner.stop();
      await pulls.stop();
      await server.close();
      await store.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

const sources = program.command('sources').description('数据源(实时接入)/ live sources');
sources
  .command('add')
  .description('新建 webhook 数据源 / create a webhook source')
  .requiredOption('--platform <name>', `platform: ${PLATFORMS.join('|')}`)
  .requiredOption('--name <text>', 'a name people recognise (e.g. 售后 Telegram)')
  .option('--secret <s>', 'the shared secret (default: a random one, printed once)')
  .option(
    '--option <name=value>',
    "the platform's other credentials, repeatable (e.g. --option verifyToken=… --option aesKey=…)",
    (v: string, acc: Record<string, string>) => {
      const at = v.indexOf('=');
      if (at <= 0) throw new Error(`--option: expected name=value, got "${v}"`);
      return { ...acc, [v.slice(0, at)]: v.slice(at + 1) };
    },
    {} as Record<string, string>,
  )
  .option(
    '--base-url <url>',
    'the public address of the server, for the printed webhook URL',
    'http://127.0.0.1:3000',
  )
  .option('--json', 'print the source as JSON')
  .addOption(dbOption())
  .action(async (o) => {
    const [{ addSource, webhookPath }, { WEBHOOK_CONNECTORS }] = await Promise.all([
      import('../ingest/sources.ts'),
      import('../connectors/webhooks.ts'),
    ]);
    await withStore(o.db, async (store) => {
      const s = await addSource(store, {
        platform: o.platform,
        name: o.name,
        secret: o.secret,
        options: o.option,
      });
      const url = `${String(o.baseUrl).replace(/\/$/, '')}${webhookPath(s.id)}`;
      if (o.json) {
        console.log(
          JSON.stringify({ id: s.id, platform: s.platform, name: s.name, webhook: url, secret: s.secret }),
        );
        return;
      }
      const c = WEBHOOK_CONNECTORS[s.platform]!;
      console.log(`数据源 / source: ${s.id}`);
      console.log(`webhook: ${url}`);
      console.log(`密钥 / secret: ${s.secret}`);
      console.log(`验证 / verification: ${c.verification}`);
    });
  });
sources
  .command('list')
  .description('列出数据源 / list sources')
  .addOption(dbOption())
  .action(async (o) => {
    const { listSources, webhookPath } = await import('../ingest/sources.ts');
    await withStore(o.db, async (store) => {
      for (const s of await listSources(store))
        console.log(`${s.id}\t${s.platform}\t${s.name}\t${webhookPath(s.id)}`);
    });
  });
sources
  .command('status')
  .description('接入监控 / ingestion monitor: events, last event, rejects per source')
  .option('--json', 'JSON output')
  .addOption(dbOption())
  .action(async (o) => {
    const { sourceStatus } = await import('../ingest/sources.ts');
    await withStore(o.db, async (store) => {
      const status = await sourceStatus(store);
      if (o.json) {
        console.log(JSON.stringify({ sources: status }, null, 2));
        return;
      }
      for (const s of status) {
        console.log(
          `${s.id} (${s.platform}, ${s.name}): 接收 accepted ${s.accepted} · 重复 duplicates ${s.duplicates} · 拒收 rejected ${s.rejected} · 签名错误 bad signatures ${s.badSignatures} · 最近 last ${s.lastEventAt ?? '—'}`,
        );
        for (const r of s.rejectReasons) console.log(`    ${r.count}× ${r.reason}`);
        if (s.unknownAccounts.length)
          console.log(
            `    未认领账号 unknown accounts: ${s.unknownAccounts.map((a) => `${a.channel}:${a.account}${a.name ? ` (${a.name})` : ''}`).join(', ')}`,
          );
        for (const p of s.pull)
          console.log(
            `    拉取 pull [${p.stream}]: ${p.pages} 页 pages · cursor ${p.cursor ?? '—'} · ${p.updatedAt}${p.lastError ? ` · 失败 failed: ${p.lastError}` : ''}`,
          );
      }
    });
  });

async function loadDemo(store: Store, opts: DemoOptions): Promise<number> {
  const { loadDemo: loadDemoInto } = await import('../demo/load.ts');
  return loadDemoInto(store, opts, {
    events: progressBar('演示数据 / demo'),
    facts: progressBar('计算 / computing facts'),
  });
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name}: expected a positive whole number, got "${v}"`);
  return n;
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (
    patch &&
    typeof patch === 'object' &&
    !Array.isArray(patch) &&
    base &&
    typeof base === 'object' &&
    !Array.isArray(base)
  ) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return patch;
}

registerExport(program);
registerSchedules(program);
registerPull(program);
registerDictionaries(program);
registerMappings(program);

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`错误 / error: ${e.message}`);
  process.exitCode = 1;
});
